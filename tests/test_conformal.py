"""Split-conformal Mondrian intervals: the finite-sample rule, per-group coverage, refusals, JSON."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from core._errors import BundleIntegrityError, InsufficientEvidenceWarning
from core._params import MSG_PARAMETER
from core.uncertainty.conformal import (
    MSG_INSUFFICIENT_WARNING,
    MSG_NOT_CALIBRATED,
    REASON_INFINITE,
    REASON_SMALL,
    REASON_UNSEEN,
    STATUS_INSUFFICIENT,
    STATUS_OK,
    MondrianConformalRegressor,
    conformal_rank,
    coverage_report,
    min_calibration_size,
)

NOISE_SD = {"quiet": 1.0, "middle": 4.0, "noisy": 16.0}


def _heteroscedastic(rng, n_per_group: int):
    """A perfect point model (y_pred = mean) and three groups with very different noise."""
    groups = np.repeat(list(NOISE_SD), n_per_group)
    y_pred = rng.normal(35.0, 10.0, size=len(groups))  # mg/week
    y = y_pred + rng.normal(size=len(groups)) * np.array([NOISE_SD[g] for g in groups])
    return y, y_pred, groups


def _calibrated(n_per_group: int = 200, seed: int = 0, **params) -> MondrianConformalRegressor:
    y, y_pred, groups = _heteroscedastic(np.random.default_rng(seed), n_per_group)
    return MondrianConformalRegressor(**params).calibrate(y, y_pred, groups=groups)


# --- the exact finite-sample rule --------------------------------------------------------------


@pytest.mark.parametrize("n, coverage, k", [(19, 0.9, 18), (9, 0.9, 9), (8, 0.9, 9), (99, 0.95, 95), (100, 0.5, 51)])
def test_conformal_rank_is_ceil_n_plus_1_times_coverage(n, coverage, k):
    assert conformal_rank(n, coverage) == k


@pytest.mark.parametrize("coverage, n_min", [(0.9, 9), (0.95, 19), (0.8, 4), (0.5, 1), (0.99, 99)])
def test_min_calibration_size(coverage, n_min):
    assert min_calibration_size(coverage) == n_min
    assert conformal_rank(n_min, coverage) <= n_min
    assert n_min == 1 or conformal_rank(n_min - 1, coverage) > n_min - 1


def test_quantile_is_the_kth_smallest_score():
    # residuals 1..19 at 90%: k = ceil(20 * 0.9) = 18, so the half-width is 18.
    y_pred = np.zeros(19)
    y = np.arange(1.0, 20.0) * np.where(np.arange(19) % 2, 1, -1)
    cr = MondrianConformalRegressor(coverage=0.9, min_group_size=1).calibrate(y, y_pred)
    assert cr.quantile_by_group_ == {"all": 18.0}
    result = cr.predict_interval([100.0])
    np.testing.assert_array_equal(result.low, [82.0])
    np.testing.assert_array_equal(result.high, [118.0])
    assert list(result.status) == [STATUS_OK]


def test_too_few_rows_for_the_coverage_gives_no_interval():
    # 8 rows at 90%: k = 9 > 8, the quantile is infinite; never replaced by a confident number.
    cr = MondrianConformalRegressor(min_group_size=1).calibrate(np.arange(8.0), np.zeros(8))
    assert math.isinf(cr.quantile_marginal_)
    with pytest.warns(InsufficientEvidenceWarning):
        result = cr.predict_interval([1.0, 2.0])
    assert np.isnan(result.low).all() and np.isnan(result.high).all()
    assert np.isnan(result.fallback_low).all()
    assert list(result.reason) == [REASON_INFINITE.format(group="all", n=8, needed=9, coverage=90.0)] * 2


# --- coverage: Mondrian covers every group, marginal does not --------------------------------


def test_mondrian_covers_every_group_where_marginal_undercovers_the_noisy_one():
    rng = np.random.default_rng(20240607)
    n_cal, n_test, repeats = 1000, 2000, 20
    mondrian = {g: [] for g in NOISE_SD}
    marginal = {g: [] for g in NOISE_SD}
    for _ in range(repeats):
        y_cal, p_cal, g_cal = _heteroscedastic(rng, n_cal)
        y_new, p_new, g_new = _heteroscedastic(rng, n_test)
        by_group = MondrianConformalRegressor().calibrate(y_cal, p_cal, groups=g_cal)
        pooled = MondrianConformalRegressor().calibrate(y_cal, p_cal)
        r_group = by_group.predict_interval(p_new, groups=g_new)
        r_pool = pooled.predict_interval(p_new)
        rep_group = coverage_report(y_new, r_group.low, r_group.high, groups=g_new)
        rep_pool = coverage_report(y_new, r_pool.low, r_pool.high, groups=g_new)
        for g in NOISE_SD:
            mondrian[g].append(rep_group.by_group[g].coverage)
            marginal[g].append(rep_pool.by_group[g].coverage)

    # Conditional on the calibration set, coverage ~ Beta(k, n + 1 - k) with k = ceil(0.9 (n + 1)),
    # mean k / (n + 1); the test rows add binomial noise. Allow 4 SD of the mean over repeats.
    k = conformal_rank(n_cal, 0.9)
    expected = k / (n_cal + 1)
    var_beta = expected * (1 - expected) / (n_cal + 2)
    var_test = expected * (1 - expected) / n_test
    tolerance = 4 * math.sqrt((var_beta + var_test) / repeats)
    for g in NOISE_SD:
        assert abs(np.mean(mondrian[g]) - expected) < tolerance, (g, np.mean(mondrian[g]), tolerance)
    assert np.mean(marginal["noisy"]) < 0.85
    assert np.mean(marginal["quiet"]) > 0.97


def test_normalized_intervals_scale_with_difficulty():
    rng = np.random.default_rng(3)
    sigma = rng.uniform(0.5, 10.0, size=4000)
    y_pred = rng.normal(35, 10, size=4000)
    y = y_pred + rng.normal(size=4000) * sigma
    cr = MondrianConformalRegressor(normalized=True).calibrate(y[:2000], y_pred[:2000], difficulty=sigma[:2000])
    result = cr.predict_interval(y_pred[2000:], difficulty=sigma[2000:])
    q = cr.quantile_marginal_
    np.testing.assert_allclose(result.high - result.low, 2 * q * sigma[2000:])
    assert abs(q - 1.645) < 0.1  # the 90% two-sided normal quantile
    low_sigma, high_sigma = sigma[2000:] < 2, sigma[2000:] > 8
    inside = (result.low <= y[2000:]) & (y[2000:] <= result.high)
    assert abs(inside[low_sigma].mean() - 0.9) < 0.05 and abs(inside[high_sigma].mean() - 0.9) < 0.05


# --- an independent implementation: crepes ------------------------------------------------------


def _crepes():
    return pytest.importorskip(
        "crepes", reason="crepes is not installed (pip install crepes) — the independent reference is skipped")


@pytest.mark.parametrize("normalized", [False, True])
@pytest.mark.parametrize("mondrian", [False, True])
def test_matches_crepes(normalized, mondrian):
    crepes = _crepes()
    rng = np.random.default_rng(11)
    # group sizes chosen so that (n + 1) * 0.1 is not an integer (crepes rounds with int() there)
    groups = np.repeat(["a", "b", "c"], [150, 333, 77])
    y_pred = rng.normal(35, 10, size=len(groups))
    sigma = rng.uniform(1, 5, size=len(groups))
    y = y_pred + rng.normal(size=len(groups)) * sigma * np.where(groups == "c", 4, 1)
    new_pred = rng.normal(35, 10, size=30)
    new_groups = np.tile(["a", "b", "c"], 10)
    new_sigma = rng.uniform(1, 5, size=30)
    kw_fit = {"bins": groups if mondrian else None, "sigmas": sigma if normalized else None}
    kw_int = {"bins": new_groups if mondrian else None, "sigmas": new_sigma if normalized else None}

    # reference: crepes.ConformalRegressor().fit(y - y_pred, sigmas=, bins=).predict_int(y_hat, confidence=0.9)
    reference = crepes.ConformalRegressor().fit(y - y_pred, **kw_fit).predict_int(new_pred, confidence=0.9, **kw_int)
    ours = MondrianConformalRegressor(normalized=normalized).calibrate(
        y, y_pred, groups=groups if mondrian else None, difficulty=sigma if normalized else None,
    ).predict_interval(new_pred, groups=new_groups if mondrian else None, difficulty=new_sigma if normalized else None)
    np.testing.assert_allclose(ours.low, reference[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.high, reference[:, 1], rtol=0, atol=1e-12)


# --- refusals: small or unseen groups -----------------------------------------------------------


def test_small_and_unseen_groups_get_no_interval_and_a_warning():
    rng = np.random.default_rng(5)
    groups = np.repeat(["big", "small"], [200, 20])
    y_pred = rng.normal(35, 10, size=220)
    y = y_pred + rng.normal(size=220)
    cr = MondrianConformalRegressor().calibrate(y, y_pred, groups=groups)
    expected_warning = MSG_INSUFFICIENT_WARNING.format(k=2, n=3, groups="group 'small' n=20, group 'unseen' n=0")
    with pytest.warns(InsufficientEvidenceWarning, match=re.escape(expected_warning)):
        result = cr.predict_interval([30.0, 31.0, 32.0], groups=["big", "small", "unseen"])
    assert list(result.status) == [STATUS_OK, STATUS_INSUFFICIENT, STATUS_INSUFFICIENT]
    assert list(result.reason) == [
        "",
        REASON_SMALL.format(group="small", n=20, minimum=30),
        REASON_UNSEEN.format(group="unseen"),
    ]
    assert np.isfinite(result.low[0]) and np.isnan(result.low[1:]).all() and np.isnan(result.high[1:]).all()
    assert np.isfinite(result.fallback_low).all() and np.isfinite(result.fallback_high).all()
    assert result.n_insufficient == 2
    assert list(result.ok) == [True, False, False]


def test_min_group_size_is_configurable():
    rng = np.random.default_rng(5)
    groups = np.repeat(["big", "small"], [200, 20])
    y_pred = rng.normal(35, 10, size=220)
    cr = MondrianConformalRegressor(min_group_size=10).calibrate(y_pred + rng.normal(size=220), y_pred, groups=groups)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = cr.predict_interval([30.0, 31.0], groups=["big", "small"])
    assert list(result.status) == [STATUS_OK, STATUS_OK]


def test_lower_bound_clips_at_zero_dose():
    cr = _calibrated(lower_bound=0.0)
    result = cr.predict_interval([0.5, 1.0, 40.0], groups=["noisy", "noisy", "quiet"])
    assert (result.low >= 0).all() and (result.fallback_low >= 0).all()
    assert result.low[0] == 0.0 and result.high[0] > 0.5
    unclipped = _calibrated().predict_interval([40.0], groups=["quiet"])
    assert result.low[2] == unclipped.low[0]


# --- coverage_report ----------------------------------------------------------------------------


def test_coverage_report_overall_by_group_and_rows_without_interval():
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    low = np.array([0.0, 2.5, 2.0, np.nan, 0.0])
    high = np.array([2.0, 3.0, 4.0, np.nan, 4.0])
    report = coverage_report(y, low, high, groups=["a", "a", "b", "b", "b"])
    assert report.overall.coverage == pytest.approx(2 / 4) and report.overall.n == 4
    assert report.overall.n_without_interval == 1
    assert report.by_group["a"].coverage == 0.5 and report.by_group["a"].n == 2
    assert report.by_group["b"].coverage == 0.5 and report.by_group["b"].n == 2
    assert report.by_group["b"].n_without_interval == 1
    json.dumps(report.to_dict(), allow_nan=False)


# --- JSON ---------------------------------------------------------------------------------------


def test_json_round_trip_gives_identical_intervals():
    cr = _calibrated(n_per_group=100, min_group_size=5, lower_bound=0.0)
    cr.n_by_group_["tiny"], cr.quantile_by_group_["tiny"] = 3, math.inf  # an infinite quantile too
    text = json.dumps(cr.to_dict(), allow_nan=False)
    back = MondrianConformalRegressor.from_dict(json.loads(text))
    assert back.to_dict() == cr.to_dict()
    new = np.array([10.0, 20.0, 30.0, 40.0])
    groups = ["quiet", "middle", "noisy", "tiny"]
    with pytest.warns(InsufficientEvidenceWarning):
        a = cr.predict_interval(new, groups=groups)
    with pytest.warns(InsufficientEvidenceWarning):
        b = back.predict_interval(new, groups=groups)
    for name in ("low", "high", "fallback_low", "fallback_high"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert list(a.reason) == list(b.reason)
    json.dumps(a.to_records(), allow_nan=False)


def test_json_of_an_uncalibrated_estimator_round_trips():
    cr = MondrianConformalRegressor(coverage=0.8)
    back = MondrianConformalRegressor.from_dict(json.loads(json.dumps(cr.to_dict())))
    assert back.coverage == 0.8 and back.to_dict()["fitted"] is None


def test_integer_group_labels_survive_json():
    rng = np.random.default_rng(2)
    groups = np.repeat(np.array([0, 1]), 50)
    y_pred = rng.normal(size=100)
    cr = MondrianConformalRegressor().calibrate(y_pred + rng.normal(size=100), y_pred, groups=groups)
    back = MondrianConformalRegressor.from_dict(json.loads(json.dumps(cr.to_dict())))
    assert back.quantile_by_group_ == cr.quantile_by_group_
    assert list(back.predict_interval([0.0], groups=np.array([1])).status) == [STATUS_OK]


@pytest.mark.parametrize("payload, match", [
    ({"format": "Other", "version": 1}, "expected format 'MondrianConformalRegressor'"),
    ({"format": "MondrianConformalRegressor", "version": 1, "params": {"coverage": 2.0}}, "'coverage' parameter"),
    ({"format": "MondrianConformalRegressor", "version": 1, "params": {}, "fitted": {"mondrian": True}}, "min_group_size"),
])
def test_from_dict_refuses_malformed_json(payload, match):
    with pytest.raises(BundleIntegrityError, match=match):
        MondrianConformalRegressor.from_dict(payload)


# --- errors -------------------------------------------------------------------------------------


def test_using_it_before_calibrate_says_so():
    with pytest.raises(NotFittedError, match=re.escape(MSG_NOT_CALIBRATED.format(cls="MondrianConformalRegressor"))):
        MondrianConformalRegressor().predict_interval([1.0])


@pytest.mark.parametrize("params, name, allowed", [
    ({"coverage": 1.0}, "coverage", "a float in the range (0, 1)"),
    ({"coverage": "90%"}, "coverage", "a float in the range (0, 1)"),
    ({"min_group_size": 0}, "min_group_size", "None or an int in the range [1, inf)"),
    ({"min_group_size": 2.5}, "min_group_size", "None or an int in the range [1, inf)"),
    ({"normalized": "yes"}, "normalized", "a bool"),
    ({"lower_bound": float("nan")}, "lower_bound", "None or a finite float"),
])
def test_parameters_are_checked_at_calibrate(params, name, allowed):
    cr = MondrianConformalRegressor(**params)  # __init__ only stores
    message = MSG_PARAMETER.format(name=name, owner="MondrianConformalRegressor", expected=allowed, got=params[name])
    with pytest.raises(ValueError, match=re.escape(message)):
        cr.calibrate([1.0, 2.0], [1.0, 2.0])


@pytest.mark.parametrize("call, err_type, err_msg", [
    (lambda cr: cr.calibrate([1.0, np.nan], [1.0, 2.0]), ValueError, "'y_true' must be a 1-D array of finite numbers"),
    (lambda cr: cr.calibrate([1.0, 2.0], [1.0]), ValueError, r"'y_pred' must have one entry per row \(2\). Got 1"),
    (lambda cr: cr.calibrate([], []), ValueError, "needs at least one calibration row"),
    (lambda cr: cr.calibrate([1.0], [1.0], groups=[1.5]), ValueError, r"Group labels must be str or int .* Got 1.5 \(float\)"),
    (lambda cr: cr.calibrate([1.0], [1.0], difficulty=[1.0]), ValueError, "normalized=False, so 'difficulty' would be ignored"),
    (lambda cr: MondrianConformalRegressor(normalized=True).calibrate([1.0], [1.0]), ValueError,
     "'difficulty' is required by 'calibrate'"),
    (lambda cr: MondrianConformalRegressor(normalized=True).calibrate([1.0], [1.0], difficulty=[0.0]), ValueError,
     r"'difficulty' must be finite and > 0 .* Got 0.0 at row 0"),
    (lambda cr: cr.calibrate([1.0], [1.0], groups=["a"]).predict_interval([1.0]), ValueError, "'groups' is required"),
    (lambda cr: cr.calibrate([1.0], [1.0]).predict_interval([1.0], groups=["a"]), ValueError, "calibrated without groups"),
])
def test_input_errors(call, err_type, err_msg):
    with pytest.raises(err_type, match=err_msg):
        call(MondrianConformalRegressor())


def test_importing_does_not_import_streamlit():
    code = "import sys, core.uncertainty.conformal, core.uncertainty.novelty; assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])
