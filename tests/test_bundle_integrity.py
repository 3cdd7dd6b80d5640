"""Bundles reload with identical predictions and refuse any change."""

import json
import shutil

import numpy as np
import pytest

from core import BundleIntegrityError
from core.modeling.heldout import bundle_cohort
from core.modeling.bundle import load_bundle
from core.uncertainty.ensemble import N_MEMBERS

FORBIDDEN = (b"\x80\x04", b"joblib", b"pickle")


@pytest.fixture
def copy_of(bundle_dirs, tmp_path):
    def make(name):
        dst = tmp_path / name
        shutil.copytree(bundle_dirs(name), dst)
        return dst
    return make


@pytest.mark.parametrize("cohort", ["actg175", "warfarin"])
def test_reloaded_bundle_predicts_identically(bundles, bundle_dirs, copy_of, cohort):
    original = bundles(cohort)
    reloaded = load_bundle(copy_of(cohort))
    frame = bundle_cohort(original).frame.head(50)
    arms = original.spec.arms or [None]
    for arm in arms:
        np.testing.assert_array_equal(original.model.predict(frame, arm), reloaded.model.predict(frame, arm))
    assert reloaded.bundle_id == original.bundle_id and reloaded.sha256 == original.sha256


@pytest.mark.parametrize("cohort", ["actg175", "warfarin"])
def test_bundle_holds_only_text_and_json_with_a_complete_manifest(bundle_dirs, cohort):
    path = bundle_dirs(cohort)
    manifest = json.loads((path / "manifest.json").read_text())
    files = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()} - {"manifest.json"}
    assert files == set(manifest["files"])
    assert {"spec.json", "model.json", "evaluation.json", "training.json", "uncertainty.json", "audit.json",
            "novelty.json"} <= files
    model = json.loads((path / "model.json").read_text())
    # the one-standard-error rule may choose no trees (a penalised linear model): then there is no tree file
    assert ("model_trees.txt" in files) == model["has_trees"]
    if cohort == "actg175":
        members = json.loads((path / "uncertainty.json").read_text())["ensemble"]["members"]
        assert len(members) == N_MEMBERS and "baseline.json" in files
        assert sum(name.startswith("ensemble/member_") for name in files) == sum(m["has_trees"] for m in members)
    for name in files:
        data = (path / name).read_bytes()
        assert not data.startswith(FORBIDDEN[0])
        data.decode("utf-8")  # text, not binary
    training = json.loads((path / "training.json").read_text())
    assert {"lightgbm", "scikit-learn", "shap"} <= set(training["versions"])
    assert len(training["data_sha256"]) == 64 and len(training["test_patient_ids"]) == training["n_test"]
    if model["has_trees"]:
        assert (path / "model_trees.txt").read_text().startswith("tree\nversion=")


def test_one_changed_byte_is_refused(bundles, copy_of):
    assert bundles("warfarin").model.booster is not None
    path = copy_of("warfarin")
    target = path / "model_trees.txt"
    data = bytearray(target.read_bytes())
    i = data.index(b"leaf_value=") + len(b"leaf_value=")
    data[i] = ord("9") if data[i] != ord("9") else ord("8")
    target.write_bytes(bytes(data))
    with pytest.raises(BundleIntegrityError, match="'model_trees.txt' .* was changed after training"):
        load_bundle(path)


def test_extra_and_missing_files_are_refused(copy_of):
    path = copy_of("colon")
    (path / "notes.txt").write_text("hello")
    with pytest.raises(BundleIntegrityError, match=r"has file\(s\) \['notes.txt'\] that its manifest does not list"):
        load_bundle(path)
    (path / "notes.txt").unlink()
    (path / "evaluation.json").unlink()
    with pytest.raises(BundleIntegrityError, match=r"missing file\(s\) \['evaluation.json'\]"):
        load_bundle(path)


def test_missing_manifest_or_directory_is_refused(copy_of, tmp_path):
    path = copy_of("colon")
    (path / "manifest.json").unlink()
    with pytest.raises(BundleIntegrityError, match="has no manifest.json"):
        load_bundle(path)
    with pytest.raises(BundleIntegrityError, match="does not exist"):
        load_bundle(tmp_path / "nowhere")
