"""core.metrics against scikit-learn (and scipy) on weighted, tied and plain data."""

import math

import numpy as np
import pytest
from scipy.optimize import brentq
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

from core.evaluation import metrics as em


def _binary(seed, *, n=500, ties=False, weights=None):
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 4, n)
    y = (rng.random(n) < np.clip(1.3 * p - 0.05, 0, 1)).astype(int)
    if ties:
        p = np.round(p, 1)
    if weights == "ipcw":  # censored before the horizon -> 0; others inflated
        w = np.where(rng.random(n) < 0.25, 0.0, 1 / rng.uniform(0.4, 1.0, n))
    elif weights == "counts":
        w = rng.integers(0, 4, n).astype(float)
    else:
        w = None
    return y, p, w


DATA = [
    pytest.param(seed, ties, weights, id=f"seed{seed}-{'ties' if ties else 'noties'}-{weights}")
    for seed, ties, weights in [(0, False, None), (1, True, None), (2, False, "ipcw"),
                                (3, True, "ipcw"), (4, True, "counts")]
]


@pytest.mark.parametrize("seed, ties, weights", DATA)
def test_roc_auc_matches_sklearn(seed, ties, weights):
    y, p, w = _binary(seed, ties=ties, weights=weights)
    # reference: sklearn.metrics.roc_auc_score(y, p, sample_weight=w)
    assert em.roc_auc(y, p, sample_weight=w) == pytest.approx(skm.roc_auc_score(y, p, sample_weight=w),
                                                             abs=1e-12)


@pytest.mark.parametrize("y, score, weight, expected", [
    ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], None, 0.75),
    ([0, 1], [0.5, 0.5], None, 0.5),                       # a tie counts 1/2
    ([0, 1, 1], [0.2, 0.1, 0.9], [1, 0, 1], 1.0),          # weight 0 drops the discordant pair
    ([0, 1, 1], [0.2, 0.1, 0.9], [1, 3, 1], 0.25),
])
def test_roc_auc_table(y, score, weight, expected):
    assert em.roc_auc(y, score, sample_weight=weight) == pytest.approx(expected)


def test_roc_auc_single_class_is_nan():
    assert math.isnan(em.roc_auc([1, 1, 1], [0.2, 0.3, 0.4]))
    assert math.isnan(em.roc_auc([0, 1], [0.2, 0.3], sample_weight=[1, 0]))


@pytest.mark.parametrize("seed, ties, weights", DATA)
def test_brier_matches_sklearn(seed, ties, weights):
    y, p, w = _binary(seed, ties=ties, weights=weights)
    # reference: sklearn.metrics.brier_score_loss(y, p, sample_weight=w)
    assert em.brier_score(y, p, sample_weight=w) == pytest.approx(
        skm.brier_score_loss(y, p, sample_weight=w), abs=1e-14)


def _reference_calibration(y, p, w):
    """Independent fits: sklearn's unpenalised logistic regression on logit(p) for the slope, a
    1-D root of the score equation (scipy brentq) for the intercept with offset logit(p)."""
    x = np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6)))
    w = np.ones_like(x) if w is None else w
    fit = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x[:, None], y, sample_weight=w)
    score = lambda a: np.sum(w * (y - 1 / (1 + np.exp(-(a + x)))))  # noqa: E731
    return brentq(score, -10, 10, xtol=1e-14), fit.coef_[0, 0]


@pytest.mark.parametrize("seed, ties, weights", DATA)
def test_calibration_matches_independent_fits(seed, ties, weights):
    y, p, w = _binary(seed, ties=ties, weights=weights)
    intercept, slope = em.calibration_intercept_slope(y, p, sample_weight=w)
    ref_intercept, ref_slope = _reference_calibration(y, p, w)
    assert intercept == pytest.approx(ref_intercept, abs=1e-6)
    assert slope == pytest.approx(ref_slope, abs=1e-5)


def test_calibration_of_well_and_badly_calibrated_predictions():
    rng = np.random.default_rng(7)
    p = rng.uniform(0.02, 0.98, 50_000)
    y = (rng.random(p.size) < p).astype(int)
    intercept, slope = em.calibration_intercept_slope(y, p)
    assert abs(intercept) < 0.05 and abs(slope - 1) < 0.05
    logit = np.log(p / (1 - p))
    overconfident = 1 / (1 + np.exp(-2 * logit))  # too extreme: slope near 1/2
    assert em.calibration_intercept_slope(y, overconfident)[1] == pytest.approx(0.5, abs=0.05)
    too_high = 1 / (1 + np.exp(-(logit + 1)))  # risks overestimated: intercept near -1
    assert em.calibration_intercept_slope(y, too_high)[0] == pytest.approx(-1.0, abs=0.05)


def test_calibration_single_class_is_nan():
    assert all(math.isnan(v) for v in em.calibration_intercept_slope([0, 0, 0], [0.1, 0.2, 0.3]))


@pytest.mark.parametrize("weights", [None, "ipcw", "counts"])
def test_regression_metrics_match_sklearn(weights):
    rng = np.random.default_rng(11)
    y = rng.uniform(10, 70, 300)  # e.g. weekly warfarin dose, mg
    pred = y * rng.uniform(0.6, 1.4, 300)
    _, _, w = _binary(11, n=300, weights=weights)
    # reference: sklearn.metrics.mean_absolute_error(y, pred, sample_weight=w)
    assert em.mean_absolute_error(y, pred, sample_weight=w) == pytest.approx(
        skm.mean_absolute_error(y, pred, sample_weight=w))
    assert em.mean_error(y, pred, sample_weight=w) == pytest.approx(np.average(pred - y, weights=w))
    within = (np.abs(pred - y) <= 0.2 * y).astype(float)
    assert em.within_fraction(y, pred, sample_weight=w) == pytest.approx(np.average(within, weights=w))


@pytest.mark.parametrize("y, pred, tolerance, expected", [
    ([10, 10, 10, 0], [12, 12.5, 8, 0], 0.2, 0.75),  # +20% and -20% count as within
    ([10, 10], [11, 9.5], 0.05, 0.5),
    ([35.0, 35.0], [42.0, 28.0], 0.2, 1.0),          # float edge: |7| <= 0.2 * 35
])
def test_within_fraction_table(y, pred, tolerance, expected):
    assert em.within_fraction(y, pred, tolerance=tolerance) == pytest.approx(expected)


def test_mean_error_is_signed():
    assert em.mean_error([10, 20], [12, 24]) == pytest.approx(3.0)
    assert em.mean_error([10, 20], [8, 16]) == pytest.approx(-3.0)


@pytest.mark.parametrize("func, args, kwargs, err_msg", [
    (em.roc_auc, ([0, 1], [0.2]), {}, "y_score has 1 values but y_true has 2"),
    (em.roc_auc, ([0, 2], [0.2, 0.3]), {}, r"y_true must hold only 0 and 1. Got 2.0 instead"),
    (em.roc_auc, ([0, 1], [0.2, np.nan]), {}, r"y_score must hold finite numbers. Got nan at position 1"),
    (em.roc_auc, ([0, 1], [0.2, 0.3]), {"sample_weight": [1, -1]},
     r"sample_weight must hold finite numbers >= 0. Got -1.0 at position 1"),
    (em.brier_score, ([0, 1], [0.2, 1.3]), {}, r"y_prob must hold probabilities in \[0, 1\]. Got 1.3"),
    (em.brier_score, ([[0, 1]], [[0.2, 0.3]]), {}, r"y_true must be a 1-D array"),
    (em.within_fraction, ([1.0], [1.0]), {"tolerance": -0.1}, "'tolerance' parameter must be a number >= 0"),
    (em.mean_error, (["a", 1], [1, 1]), {}, "y_true must hold finite numbers. Got 'a' at position 0"),
])
def test_errors(func, args, kwargs, err_msg):
    with pytest.raises(ValueError, match=err_msg):
        func(*args, **kwargs)


def test_weighted_mean_of_zero_total_weight_is_nan():
    assert math.isnan(em.mean_absolute_error([1.0, 2.0], [1.5, 2.5], sample_weight=[0, 0]))
