"""A bundle that fails its manifest is refused loudly, naming the file; it is never retrained on its own."""

from __future__ import annotations

import contextlib
import io
import json
import shutil

import pytest

from core import BundleIntegrityError, service
from core.cli import main
from core.modeling.bundle import FORMAT, BundleRefusedError

TRAIN_BUNDLE = service.train_bundle


@pytest.fixture
def bundle_root(bundle_dirs, tmp_path, monkeypatch):
    """A private bundle directory with a copy of the trained colon bundle; training is forbidden."""
    trained = {name: bundle_dirs(name) for name in ("colon", "actg175")}  # trained before training is forbidden
    shutil.copytree(trained["colon"], tmp_path / "colon")
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(tmp_path))
    calls = []
    monkeypatch.setattr(service.bundles, "train_bundle", lambda *a, **k: calls.append(a) or pytest.fail("retrained"))
    return tmp_path, calls


def _tamper(path):
    target = path / "evaluation.json"
    doc = json.loads(target.read_text())
    doc["rows"][0]["auc"] = 0.99  # a flattering number, the kind of change worth refusing
    target.write_text(json.dumps(doc))
    return target, target.read_bytes()


def test_tampered_bundle_is_refused_by_ensure_bundle_without_retraining(bundle_root):
    root, calls = bundle_root
    target, tampered = _tamper(root / "colon")
    with pytest.raises(BundleRefusedError, match=r"Bundle file 'evaluation.json' .* was changed after training") as exc:
        service.ensure_bundle("colon")
    assert exc.value.file == "evaluation.json" and "sha256" in exc.value.problem
    assert calls == [] and target.read_bytes() == tampered  # not retrained, the file untouched


@pytest.mark.parametrize("damage, file, match", [
    (lambda p: (p / "notes.txt").write_text("x"), "notes.txt", r"\['notes.txt'\] that its manifest does not list"),
    (lambda p: (p / "novelty.json").unlink(), "novelty.json", r"missing file\(s\) \['novelty.json'\]"),
    (lambda p: (p / "manifest.json").unlink(), "manifest.json", "has no manifest.json"),
])
def test_every_kind_of_damage_is_reported_with_the_file(bundle_root, damage, file, match):
    root, calls = bundle_root
    damage(root / "colon")
    status = service.bundle_status("colon")
    assert status.state == service.REFUSED and status.file == file
    with pytest.raises(BundleIntegrityError, match=match):
        service.ensure_bundle("colon")
    assert calls == [] and not service.bundle_is_ready("colon")


def test_a_bundle_of_the_old_format_is_refused_with_a_retrain_instruction(bundle_root):
    root, calls = bundle_root
    manifest = root / "colon" / "manifest.json"
    doc = json.loads(manifest.read_text())
    doc["format"] = "equipoise-bundle/1"
    manifest.write_text(json.dumps(doc))
    with pytest.raises(BundleRefusedError, match=r"format 'equipoise-bundle/1', written by an older Equipoise; this "
                       rf"version reads '{FORMAT}' only .* Retrain it: `equipoise train --cohort colon"):
        service.ensure_bundle("colon")
    assert calls == []


def test_a_missing_bundle_is_trained_on_first_use(bundle_root, bundle_dirs, monkeypatch):
    root, _ = bundle_root
    trained = []

    source = bundle_dirs("actg175")

    def fake_train(cohort, out, progress=None):  # stands in for a minute of training
        trained.append(cohort.spec.name)
        shutil.copytree(source, out)

    monkeypatch.setattr(service.bundles, "train_bundle", fake_train)
    assert service.bundle_status("actg175").state == service.MISSING
    assert service.ensure_bundle("actg175").spec.name == "actg175" and trained == ["actg175"]
    assert service.bundle_status("actg175").state == service.READY


def test_retraining_is_an_explicit_action_that_keeps_the_refused_bundle(bundle_root, bundle_dirs, monkeypatch):
    from core.modeling import pipeline
    from _bundle_helpers import fake_build

    root, _ = bundle_root
    _, tampered = _tamper(root / "colon")
    source = bundle_dirs("colon")
    monkeypatch.setattr(service.bundles, "train_bundle", TRAIN_BUNDLE)  # the real one, with the minute of training faked
    monkeypatch.setattr(pipeline, "build_bundle", fake_build(source, []))
    assert service.retrain_bundle("colon").bundle_id == service.open_bundle(source).bundle_id
    assert service.bundle_is_ready("colon")
    (kept,) = (root / "colon.versions").iterdir()  # the refused bundle, renamed, never deleted
    assert kept.name.startswith("refused-") and (kept / "evaluation.json").read_bytes() == tampered


def test_cli_refuses_a_tampered_bundle_naming_the_file(bundle_root):
    root, _ = bundle_root
    _tamper(root / "colon")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["predict", "--bundle", str(root / "colon"), "--split", "test"])
    assert code != 0 and out.getvalue() == ""
    assert "'evaluation.json'" in err.getvalue() and "changed after training" in err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_dashboard_shows_the_refusal_and_a_retrain_button_but_never_retrains(bundle_root):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    import pages._state as state

    state._READY.clear()  # this process may have verified bundles for other tests
    state._bundle.clear()
    root, calls = bundle_root
    (root / "actg175").mkdir()  # the default cohort: a directory with nothing in it is refused, not trained
    target, tampered = _tamper(root / "colon")
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = "\n".join(e.value for e in at.error)
    assert "actg175 model bundle was refused" in text and "manifest.json" in text
    assert [b.label for b in at.button] == ["Retrain this bundle"]
    assert calls == [] and target.read_bytes() == tampered


def test_pressing_retrain_in_the_dashboard_keeps_the_refused_bundle_and_loads_the_new_one(bundle_root, bundle_dirs,
                                                                                           monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    import pages._state as state
    from core.modeling import pipeline
    from _bundle_helpers import fake_build

    state._READY.clear()
    state._bundle.clear()
    root, _ = bundle_root
    shutil.copytree(bundle_dirs("actg175"), root / "actg175")
    source = bundle_dirs("colon")
    _, tampered = _tamper(root / "colon")
    monkeypatch.setattr(service.bundles, "train_bundle", TRAIN_BUNDLE)
    built = []
    monkeypatch.setattr(pipeline, "build_bundle", fake_build(source, built))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
    at.session_state["eq.cohort"] = "colon"
    at.run()
    assert "colon model bundle was refused" in "\n".join(e.value for e in at.error)
    assert any("renamed, never deleted" in m.value for m in at.markdown)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert built == [str(root / "colon")] and service.bundle_is_ready("colon")
    (kept,) = (root / "colon.versions").iterdir()
    assert (kept / "evaluation.json").read_bytes() == tampered
    assert not [e.value for e in at.error if "refused" in e.value]
