"""Shared fixtures: each bundled cohort is trained once per test session, through the CLI."""

from __future__ import annotations

import contextlib
import io
import os

import pytest

COHORTS = ("actg175", "colon", "warfarin")


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    os.environ["EQUIPOISE_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["EQUIPOISE_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))  # the store and audit key


@pytest.fixture(scope="session")
def bundle_dirs(tmp_path_factory):
    """Paths of freshly trained bundles, keyed by cohort (trained lazily, once per test run).

    Under pytest-xdist (``make test`` runs two workers) the bundles live in the run's shared temporary folder
    and a file lock per cohort makes the first worker that needs one train it while the other waits and then
    reads the same sealed bundle: one training per cohort per run, whatever the number of workers."""
    from filelock import FileLock

    from core.cli import main

    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "bundles"
    root.mkdir(exist_ok=True)
    made = {}

    def get(name: str):
        if name not in made:
            out = root / name
            with FileLock(str(root / f".{name}.test-lock")):  # not the bundle writer's own ".NAME.lock"
                if not (out / "manifest.json").exists():
                    log = io.StringIO()
                    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                        code = main(["train", "--cohort", name, "--out", str(out)])
                    assert code == 0, log.getvalue()
            made[name] = out
        return made[name]

    return get


@pytest.fixture(scope="session")
def bundles(bundle_dirs):
    from core.modeling.bundle import load_bundle

    loaded = {}

    def get(name: str):
        if name not in loaded:
            loaded[name] = load_bundle(bundle_dirs(name))
        return loaded[name]

    return get


@pytest.fixture(scope="module")
def bundle_root(bundle_dirs):
    """The folder holding every bundled cohort's bundle, set as EQUIPOISE_BUNDLE_DIR for the module's tests."""
    mp = pytest.MonkeyPatch()
    for name in COHORTS:
        root = bundle_dirs(name).parent
    mp.setenv("EQUIPOISE_BUNDLE_DIR", str(root))
    yield root
    mp.undo()


@pytest.fixture(scope="session")
def effect_bundles(bundles):
    """A bundled arm cohort's bundle with an *effect-modelling* model in place of its own (trees that split on
    the arm, 200 trees, 20 bootstrap refits within arm): for tests of the what-if and counterfactual machinery,
    which needs a model whose favoured arm can differ between patients. The bundled trials use risk modelling
    (issue 24), under which every patient's favoured arm is the same."""
    import dataclasses

    from core.modeling.boosted import fit_boosted
    from core.modeling.heldout import bundle_cohort
    from core.modeling.training import labels_for
    from core.uncertainty.ensemble import fit_ensemble

    made = {}

    def get(name: str):
        if name not in made:
            b = bundles(name)
            cohort = bundle_cohort(b)
            train_rows = ~cohort.frame["patient_id"].astype(str).isin(set(b.test_patient_ids)).to_numpy()
            frame = cohort.frame[train_rows].reset_index(drop=True)
            labels = labels_for(cohort, train_rows)
            design = dataclasses.replace(b.model.design, effect_modelling=True)
            params = dataclasses.replace(b.model.params, n_trees=200, num_leaves=15, min_data_in_leaf=20,
                                         learning_rate=0.1)
            model = fit_boosted(design, frame, labels.y, labels.weight, task="binary", params=params, seed=1)
            ensemble = fit_ensemble(model, frame, labels.y, labels.weight, strata=frame["arm"].astype(str).to_numpy(),
                                    n_members=20, seed=2)
            ensemble = dataclasses.replace(ensemble, max_arm_width=b.ensemble.max_arm_width,
                                           max_difference_width=b.ensemble.max_difference_width)
            out = dataclasses.replace(b, model=model)
            out.__dict__["ensemble"] = ensemble
            made[name] = out
        return made[name]

    return get


@pytest.fixture
def own_checkpoints(tmp_path, monkeypatch):
    """The test's own audit checkpoint file, for tests that open stores of their own: the data directory's file is
    bound to one store's log, and a log checked against another store's checkpoints is, rightly, reported as
    rewritten."""
    monkeypatch.setenv("EQUIPOISE_AUDIT_CHECKPOINTS", str(tmp_path / "audit-checkpoints.jsonl"))
