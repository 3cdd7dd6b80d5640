"""A bundle's id comes from its content; forged manifests, links and paths leaving the bundle are refused."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil

import numpy as np
import pytest

from core import BundleIntegrityError, service
from core.cli import main
from core.modeling.bundle import load_bundle, verify_bundle
from core.modeling.heldout import held_out_records
from core.modeling.manifest import BundleRefusedError, parse_manifest

from _bundle_helpers import reseal


@pytest.fixture
def colon(bundle_dirs, tmp_path):
    dst = tmp_path / "colon"
    shutil.copytree(bundle_dirs("colon"), dst)
    return dst


def _manifest(path):
    return json.loads((path / "manifest.json").read_text())


def _write_manifest(path, doc):
    (path / "manifest.json").write_text(json.dumps(doc, indent=1))


def test_bundle_id_is_the_documented_function_of_the_file_hashes(colon):
    doc = _manifest(colon)
    hashes = {p.relative_to(colon).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in colon.rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert hashes == doc["files"]
    canonical = json.dumps(hashes, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    assert doc["bundle_id"] == "colon-" + hashlib.sha256(canonical).hexdigest()[:12]
    assert load_bundle(colon).bundle_id == doc["bundle_id"]


def test_the_forgery_of_issue_16_is_refused(colon):
    """Change the intercept in model.json and write its new sha256 into manifest.json, keeping the bundle id."""
    original = load_bundle(colon)
    model = json.loads((colon / "model.json").read_text())
    model["intercept"] += 2.0
    (colon / "model.json").write_text(json.dumps(model))
    doc = _manifest(colon)
    doc["files"]["model.json"] = hashlib.sha256((colon / "model.json").read_bytes()).hexdigest()
    _write_manifest(colon, doc)
    with pytest.raises(BundleRefusedError, match=rf"claims bundle id '{original.bundle_id}', but its file hashes "
                       r"give 'colon-[0-9a-f]{12}': the manifest was edited") as exc:
        load_bundle(colon)
    assert exc.value.field == "bundle_id" and exc.value.file == "manifest.json"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["predict", "--bundle", str(colon), "--split", "test"]) == 2
    assert "claims bundle id" in err.getvalue() and "internal error" not in err.getvalue()


def test_a_consistently_resealed_forgery_gets_a_new_id_and_really_changes_predictions(colon, tmp_path):
    original = load_bundle(colon)
    model = json.loads((colon / "model.json").read_text())
    model["intercept"] += 2.0
    forged = load_bundle(reseal(colon, tmp_path / "forged", change={"model.json": json.dumps(model).encode()}))
    assert forged.bundle_id != original.bundle_id  # a log entry naming the original never names this content
    record = held_out_records(original)[0]
    frame = __import__("pandas").DataFrame([{k: v for k, v in record.items() if k != "patient_id"}])
    arm = original.spec.arms[0]
    assert not np.allclose(original.model.predict(frame, arm), forged.model.predict(frame, arm))


def test_a_link_inside_a_bundle_is_refused_even_to_identical_content(colon, tmp_path):
    outside = tmp_path / "outside_model.json"
    shutil.copy(colon / "model.json", outside)
    (colon / "model.json").unlink()
    (colon / "model.json").symlink_to(outside)  # same bytes: a followed link would pass every hash
    with pytest.raises(BundleRefusedError, match=r"holds a link 'model.json': links inside a bundle are refused"):
        load_bundle(colon)


def test_a_linked_folder_inside_a_bundle_is_refused(colon, tmp_path):
    # a bundle with a folder (an ensemble of trees has one; a linear model's bundle may have none)
    from _bundle_helpers import reseal

    sealed = reseal(colon, tmp_path / "sealed", change={"ensemble/member_000.txt": b"tree text\n"})
    verify_bundle(sealed)
    shutil.move(sealed / "ensemble", tmp_path / "ensemble")
    (sealed / "ensemble").symlink_to(tmp_path / "ensemble")
    with pytest.raises(BundleRefusedError, match=r"holds a link 'ensemble'"):
        verify_bundle(sealed)


def test_a_linked_manifest_and_a_pipe_are_refused_without_hanging(colon, tmp_path):
    shutil.move(colon / "manifest.json", tmp_path / "manifest.json")
    (colon / "manifest.json").symlink_to(tmp_path / "manifest.json")
    with pytest.raises(BundleRefusedError, match=r"'manifest.json' .* cannot be opened .*links are refused"):
        verify_bundle(colon)
    (colon / "manifest.json").unlink()
    os.mkfifo(colon / "manifest.json")  # reading a pipe would block forever
    with pytest.raises(BundleRefusedError, match="not a regular file"):
        verify_bundle(colon)


@pytest.mark.parametrize("name", ["../outside.json", "/etc/passwd", "a/../../b.json", "a\\b.json", "./x.json",
                                  "signature.json", "ensemble//m.txt"])
def test_file_names_leaving_the_bundle_are_refused(colon, name):
    doc = _manifest(colon)
    doc["files"][name] = "0" * 64
    _write_manifest(colon, doc)
    with pytest.raises(BundleRefusedError) as exc:
        verify_bundle(colon)
    assert exc.value.field == "files" and exc.value.file == "manifest.json"


@pytest.mark.parametrize("edit, field, match", [
    (lambda d: d.__setitem__("files", list(d["files"])), "files", "is a JSON array, not an object"),
    (lambda d: d["files"].__setitem__("model.json", None), "files.model.json", "is None; a sha256 must be 64"),
    (lambda d: d["files"].__setitem__("model.json", "xyz"), "files.model.json", "64 lowercase hex"),
    (lambda d: d["files"].__setitem__("model.json", "A" * 64), "files.model.json", "64 lowercase hex"),
    (lambda d: d.__setitem__("files", {}), "files", "lists 0 files"),
    (lambda d: d.__setitem__("bundle_id", 7), "bundle_id", "is a JSON number, not a string"),
    (lambda d: d.__setitem__("cohort", None), "cohort", "is a JSON null, not a string"),
    (lambda d: d.pop("cohort"), "cohort", "is missing"),
    (lambda d: d.__setitem__("extra", 1), "extra", "is not a manifest field"),
    (lambda d: d.__setitem__("created_utc", "yesterday"), "created_utc", "not an ISO 8601 time"),
    (lambda d: d.__setitem__("format", ["equipoise-bundle/3"]), "format", "not a string"),
])
def test_malformed_manifests_name_the_field(colon, edit, field, match):
    doc = _manifest(colon)
    edit(doc)
    _write_manifest(colon, doc)
    with pytest.raises(BundleRefusedError, match=match) as exc:
        verify_bundle(colon)
    assert exc.value.field == field


def test_the_dashboard_status_of_a_malformed_manifest_is_a_refusal(colon, monkeypatch):
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(colon.parent))
    doc = _manifest(colon)
    doc["files"]["model.json"] = None
    _write_manifest(colon, doc)
    status = service.bundle_status("colon")
    assert status.state == service.REFUSED and status.file == "manifest.json" and status.retrain
    assert "files.model.json" in status.problem


@pytest.mark.parametrize("raw, match", [
    (b"{" * 50_000, "nested too deeply|not valid JSON"),
    (b'{"format": ' + b"9" * 5000 + b"}", "cannot be read"),
    (b'{"format": "equipoise-bundle/3", "format": "x"}', "appears twice"),
    (b'{"format": NaN}', "not JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[]", "holds a JSON array"),
    (b" " * (1 << 20) + b"{}", "the limit is 1,048,576"),
])
def test_unreadable_manifests_are_refused_clearly(raw, match):
    with pytest.raises(BundleRefusedError, match=match):
        parse_manifest(raw)


def test_cli_says_which_field_not_internal_error(colon):
    doc = _manifest(colon)
    doc["files"] = list(doc["files"])
    _write_manifest(colon, doc)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["predict", "--bundle", str(colon), "--split", "test"])
    assert code == 2 and "field 'files'" in err.getvalue() and "internal error" not in err.getvalue()


def test_a_section_that_does_not_parse_is_refused_naming_it(colon, tmp_path):
    forged = reseal(colon, tmp_path / "forged", change={"novelty.json": b'{"not": "a detector"}'})
    with pytest.raises(BundleIntegrityError, match="novelty.json") as exc:
        load_bundle(forged)
    assert getattr(exc.value, "file", None) == "novelty.json"
