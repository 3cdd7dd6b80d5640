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
    """Paths of freshly trained bundles, keyed by cohort (trained lazily, once)."""
    from core.cli import main

    root = tmp_path_factory.mktemp("bundles")
    made = {}

    def get(name: str):
        if name not in made:
            out = root / name
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
