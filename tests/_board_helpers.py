"""Shared set-up for the tumor-board tests: the colon bundle under two bundle roots — ``original`` (the
session's colon bundle) and ``retrained`` (the same cohort trained with another seed) — and sample decisions."""

from __future__ import annotations

import shutil

import pytest

RETRAIN_SEED = 20261124
AGREES = {"recommendation": "Lev+5FU", "alternatives": ["Obs"], "rationale": "Stage III, fit for chemotherapy.",
          "guideline_concordant": True, "agrees_with_model": True, "trial_eligible": False,
          "actions": [{"action": "Book oncology clinic", "owner": "Dr Okafor", "due": "2026-12-17"}],
          "attendees_present": ["Dr Okafor", "Dr Lindqvist"]}
DIFFERS = {"recommendation": "FOLFOX for 6 months", "rationale": "Current standard for stage III.",
           "guideline_concordant": True, "agrees_with_model": False,
           "disagreement_reason": "The trial's arms predate oxaliplatin regimens.", "dissent": "Dr Lindqvist: Lev+5FU"}


@pytest.fixture(scope="session")
def board_roots(bundle_dirs, tmp_path_factory):
    """{"original": root, "retrained": root}: each root holds a ``colon`` bundle (for EQUIPOISE_BUNDLE_DIR)."""
    import contextlib
    import io

    from core.cli import main

    base = tmp_path_factory.mktemp("board_bundles")
    original = base / "original"
    original.mkdir()
    shutil.copytree(bundle_dirs("colon"), original / "colon")
    retrained = base / "retrained"
    retrained.mkdir()
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):  # `equipoise train --seed N`
        code = main(["train", "--cohort", "colon", "--seed", str(RETRAIN_SEED), "--out", str(retrained / "colon")])
    assert code == 0, out.getvalue()
    assert f"(seed {RETRAIN_SEED})" in out.getvalue()
    return {"original": original, "retrained": retrained}


def patients(bundle, n: int) -> list[tuple[str, dict]]:
    """The first ``n`` held-out patients as (patient_id, record)."""
    from core import service

    out = []
    for p in service.held_out_patients(bundle)[:n]:
        out.append((p["patient_id"], {k: v for k, v in p.items() if k != "patient_id"}))
    return out
