"""The intervals and the headline against a known truth: simulated trials and doses on real covariates, through
the full own-data pipeline (``equipoise train --csv --spec``, then the batch report engine).

A fast version of ``benchmarks/simulation_report.py`` (which runs every scenario over many seeds): a few fixed
seeds, so a regression fails CI. Before issue 24 the bootstrap resampled within arm × outcome, and on the null
trials below every test patient was called "clear" (see the closing note); the limits here fail on that code.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.simulation import run_doses, run_trial, simulate_doses, simulate_trial

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def null_runs():
    return [run_trial(simulate_trial("colon", "null", seed)) for seed in (11, 12)]


def test_identical_arms_are_almost_never_called_clear(null_runs):
    # Under the null a 95% interval excludes zero for ~5% of trials; two fixed seeds must both be quiet.
    # The old stratified bootstrap called 'clear' for 90-100% of patients in each of them.
    clear = np.mean([r.clear for r in null_runs])
    assert clear <= 0.05, [r.to_dict() for r in null_runs]


def test_null_intervals_cover_the_true_zero_difference(null_runs):
    assert np.mean([r.coverage for r in null_runs]) >= 0.90, [r.to_dict() for r in null_runs]


@pytest.fixture(scope="module")
def effect_runs():
    return [run_trial(simulate_trial("colon", "homogeneous", 14)), run_trial(simulate_trial("colon", "censored", 13))]


def test_a_real_benefit_is_covered_and_called_with_the_right_sign(effect_runs):
    # A common odds ratio of 0.6 (binary, and as a hazard ratio with censoring). The old stratified bootstrap
    # covered the true difference for 0-77% of test patients (mean about 30%) on such trials, with intervals of
    # 3-5 points. Per-patient coverage is correlated within a trial, so one trial can miss: the mean of two
    # must reach 80% here; the bench gives 98% and 92% on colon (docs/validation/uncertainty.md).
    assert np.mean([r.coverage for r in effect_runs]) >= 0.80, [r.to_dict() for r in effect_runs]
    assert all(r.n_clear > 0 and r.wrong_sign == 0.0 for r in effect_runs), [r.to_dict() for r in effect_runs]
    assert all(r.modelling == "risk modelling" for r in effect_runs)


def test_dose_intervals_cover_in_every_band_and_race():
    # One simulated cohort: each cell's coverage varies with its calibration sample (SD about 4 points for 55
    # calibration patients), so every band and race with 100 or more test patients must reach 80% and the
    # whole 87%; the bench averages seeds against the 85% target.
    run = run_doses(simulate_doses(21))
    rows = {**{f"band {k}": v for k, v in run.by_band.items()}, **{f"race {k}": v for k, v in run.by_race.items()}}
    big = {k: v for k, v in rows.items() if v["n"] >= 100}
    assert len(big) >= 5, rows
    low = {k: v for k, v in big.items() if v["coverage"] < 0.80}
    assert not low, rows
    assert run.coverage >= 0.87, run.to_dict()
