"""Novelty detection: flag rate on in-distribution patients, far points, range flags, NaN, JSON."""

from __future__ import annotations

import json
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from core._params import MSG_PARAMETER
from sklearn.covariance import LedoitWolf
from sklearn.exceptions import NotFittedError

from core._errors import BundleIntegrityError, OutOfDistributionWarning
from core.uncertainty.novelty import (
    KIND_RANGE,
    KIND_TAIL,
    KIND_UNOBSERVED,
    MSG_FEW_CALIB_ROWS,
    MSG_NOT_FITTED,
    FeatureFlag,
    NoveltyDetector,
)

P = 6


def _gaussian(seed: int = 0):
    """A correlated Gaussian with different scales per column, and a sampler for it."""
    rng = np.random.default_rng(seed)
    L = rng.normal(size=(P, P))
    scale = np.diag(np.sqrt(np.arange(1.0, P + 1)))
    cov = scale @ (L @ L.T + np.eye(P)) @ scale
    mean = np.array([70.0, 170.0, 5.0, 0.0, 1.0, 30.0])
    return lambda n: rng.multivariate_normal(mean, cov, size=n)


def _fitted(n_fit: int = 2000, n_calib: int = 2000, seed: int = 0, **params):
    draw = _gaussian(seed)
    return NoveltyDetector(**params).fit(draw(n_fit), draw(n_calib)), draw


# --- the flag rate ------------------------------------------------------------------------------


def test_in_distribution_patients_are_flagged_at_the_target_rate():
    draw = _gaussian(42)
    n_calib, n_new = 20_000, 20_000
    detector = NoveltyDetector(target_rate=0.01).fit(draw(5000), draw(n_calib))
    rate = detector.is_novel(draw(n_new)).mean()
    # Given the calibration set, the flag rate ~ Beta-distributed around 0.01 (var ≈ r(1-r)/n_calib);
    # the new sample adds binomial noise (r(1-r)/n_new). Allow 4 SD of the sum.
    sd = math.sqrt(0.01 * 0.99 / n_calib + 0.01 * 0.99 / n_new)
    assert abs(rate - 0.01) < 4 * sd, (rate, sd)


def test_threshold_is_the_conformal_quantile_of_calibration_scores():
    detector, draw = _fitted(n_calib=199)
    # k = ceil(200 * 0.99) = 198: the 198th smallest of 199 calibration scores.
    assert detector.threshold_ == detector.calibration_scores_[197]
    np.testing.assert_array_equal(detector.calibration_scores_, np.sort(detector.calibration_scores_))


def test_too_small_a_calibration_set_is_refused():
    draw = _gaussian()
    message = MSG_FEW_CALIB_ROWS.format(n=50, needed=99, rate=1.0)
    with pytest.raises(ValueError, match=re.escape(message)):
        NoveltyDetector().fit(draw(500), draw(50))


def test_far_point_is_flagged_with_a_high_percentile():
    detector, draw = _fitted()
    x = draw(1)[0]
    x[2] += 40 * math.sqrt(3)  # 40-ish SD along one column
    assert detector.is_novel(x[None, :]).tolist() == [True]
    assert detector.percentile(x[None, :])[0] == 100.0
    central = detector.mean_[None, :]
    assert detector.score(central)[0] == 0.0 and detector.percentile(central)[0] == 0.0


def test_score_matches_sklearn_ledoit_wolf_mahalanobis():
    draw = _gaussian(7)
    X_fit, X_new = draw(800), draw(50)
    detector = NoveltyDetector().fit(X_fit, draw(500))
    # reference: LedoitWolf(assume_centered=True).fit(Z).mahalanobis(Z_new) on columns standardised
    # with the training mean and (population) SD; mahalanobis() returns squared distances.
    mu, sd = X_fit.mean(axis=0), X_fit.std(axis=0)
    reference = LedoitWolf(assume_centered=True).fit((X_fit - mu) / sd)
    np.testing.assert_allclose(detector.score(X_new), np.sqrt(reference.mahalanobis((X_new - mu) / sd)), rtol=1e-9)


# --- per-feature range checks -------------------------------------------------------------------


def test_feature_flags_name_the_column_outside_the_training_range():
    detector, draw = _fitted()
    names = ["weight_kg", "height_cm", "age_decades", "x3", "x4", "inr"]
    x = draw(1)[0]
    x[0] = 400.0
    flags = detector.feature_flags(x, names)
    assert [f.feature for f in flags] == ["weight_kg"]
    flag = flags[0]
    assert (flag.kind, flag.direction, flag.value) == (KIND_RANGE, "above", 400.0)
    assert flag.train_min == detector.min_[0] and flag.train_max == detector.max_[0]
    assert flag.message == f"weight_kg = 400 is above the training range [{detector.min_[0]:g}, {detector.max_[0]:g}]"


def test_feature_flags_tails_only_on_request():
    detector, _ = _fitted()
    x = detector.mean_.copy()
    x[5] = (detector.p99_[5] + detector.max_[5]) / 2  # inside the range, beyond the 99th percentile
    assert detector.feature_flags(x) == []
    flags = detector.feature_flags(x, include_tails=True)
    assert [(f.feature, f.kind, f.direction) for f in flags] == [("x5", KIND_TAIL, "above")]


def test_assess_warns_when_out_of_distribution_and_not_otherwise():
    detector, draw = _fitted()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        calm = detector.assess(detector.mean_)
    assert not calm.out_of_distribution and calm.message == ""
    x = detector.mean_.copy()
    x[1] = detector.min_[1] - 50
    with pytest.warns(OutOfDistributionWarning, match=r"This patient is unlike the training data: .*x1 = "):
        report = detector.assess(x)
    assert report.is_novel and report.out_of_distribution
    json.dumps(report.to_dict(), allow_nan=False)


def test_dataframe_columns_become_feature_names():
    draw = _gaussian()
    columns = ["weight_kg", "height_cm", "a", "b", "c", "d"]
    detector = NoveltyDetector().fit(pd.DataFrame(draw(500), columns=columns), pd.DataFrame(draw(300), columns=columns))
    assert detector.feature_names_in_ == columns
    row = pd.Series(detector.mean_, index=columns)
    row["height_cm"] = 1000.0
    assert [f.feature for f in detector.feature_flags(row)] == ["height_cm"]


# --- missing values and constant columns ----------------------------------------------------------


def test_missing_values_are_mean_imputed():
    draw = _gaussian(3)
    rng = np.random.default_rng(3)
    X_fit, X_calib = draw(2000), draw(2000)
    X_fit[rng.random(X_fit.shape) < 0.1] = np.nan
    X_calib[rng.random(X_calib.shape) < 0.1] = np.nan
    detector = NoveltyDetector().fit(X_fit, X_calib)
    np.testing.assert_allclose(detector.mean_, np.nanmean(X_fit, axis=0))
    X_new = draw(100)
    X_new[0, :] = np.nan
    X_new[1, 2] = np.nan
    scores = detector.score(X_new)
    assert np.isfinite(scores).all() and scores[0] == 0.0
    filled = X_new[1].copy()
    filled[2] = detector.mean_[2]
    assert scores[1] == detector.score(filled[None, :])[0]
    assert detector.feature_flags(X_new[0]) == []  # missing is not "outside the range"
    assert detector.assess(X_new[1]).n_missing == 1


def test_constant_and_never_observed_columns_do_not_break_it():
    draw = _gaussian(4)
    X_fit, X_calib = draw(1000), draw(1000)
    X_fit[:, 3] = 1.0  # constant (e.g. a category absent from training)
    X_calib[:, 3] = 1.0
    X_fit[:, 4] = np.nan  # never observed
    detector = NoveltyDetector().fit(X_fit, X_calib)
    assert detector.constant_.tolist() == [False, False, False, True, True, False]
    assert not detector.precision_[3].any() and not detector.precision_[:, 4].any()
    x = draw(1)[0]
    x[3] = 1.0
    base = detector.score(x[None, :])[0]
    x[3], x[4] = 0.0, 2.0
    assert detector.score(x[None, :])[0] == base  # left out of the score ...
    flags = {f.feature: f for f in detector.feature_flags(x)}  # ... and caught by the range check
    assert flags["x3"].kind == KIND_RANGE and flags["x3"].direction == "below"
    assert flags["x4"].kind == KIND_UNOBSERVED and flags["x4"].train_min is None


# --- JSON ---------------------------------------------------------------------------------------


def test_json_round_trip_gives_identical_scores():
    draw = _gaussian(5)
    X_fit = draw(1000)
    X_fit[:5, 0] = np.nan
    X_fit[:, 2] = 3.0
    X_fit[:, 4] = np.nan
    detector = NoveltyDetector(target_rate=0.05).fit(X_fit, draw(400))
    payload = json.loads(json.dumps(detector.to_dict(), allow_nan=False))
    assert set(payload["fitted"]) >= {"means", "scales", "precision", "threshold", "ranges"}
    back = NoveltyDetector.from_dict(payload)
    X_new = draw(300)
    X_new[::7, 1] = np.nan
    np.testing.assert_array_equal(back.score(X_new), detector.score(X_new))
    np.testing.assert_array_equal(back.percentile(X_new), detector.percentile(X_new))
    np.testing.assert_array_equal(back.is_novel(X_new), detector.is_novel(X_new))
    assert back.feature_flags(X_new[0] * 10) == detector.feature_flags(X_new[0] * 10)
    assert back.to_dict() == detector.to_dict()


def test_json_of_an_unfitted_detector_round_trips():
    back = NoveltyDetector.from_dict(json.loads(json.dumps(NoveltyDetector(target_rate=0.02).to_dict())))
    assert back.target_rate == 0.02 and back.to_dict()["fitted"] is None


@pytest.mark.parametrize("mutate, match", [
    (lambda d: d.update(format="MondrianConformalRegressor"), "expected format 'NoveltyDetector'"),
    (lambda d: d["fitted"].pop("precision"), "precision"),
    (lambda d: d["fitted"].update(means=[0.0]), "expected a list of 6 numbers"),
])
def test_from_dict_refuses_malformed_json(mutate, match):
    detector, _ = _fitted(n_fit=200, n_calib=200)
    payload = detector.to_dict()
    mutate(payload)
    with pytest.raises(BundleIntegrityError, match=match):
        NoveltyDetector.from_dict(payload)


# --- errors -------------------------------------------------------------------------------------


def test_using_it_before_fit_says_so():
    with pytest.raises(NotFittedError, match=re.escape(MSG_NOT_FITTED.format(cls="NoveltyDetector"))):
        NoveltyDetector().score(np.zeros((1, 3)))


@pytest.mark.parametrize("value", [0.0, 0.6, "1%", float("nan"), True])
def test_target_rate_is_checked_at_fit(value):
    detector = NoveltyDetector(target_rate=value)
    message = MSG_PARAMETER.format(name="target_rate", owner="NoveltyDetector", expected="a float in the range (0, 0.5]",
                                   got=value)
    with pytest.raises(ValueError, match=re.escape(message)):
        detector.fit(np.zeros((10, 2)), np.zeros((10, 2)))


@pytest.mark.parametrize("call, err_msg", [
    (lambda d: d.score(np.zeros((2, 5))), "'X' has 5 columns; this NoveltyDetector was fitted on 6"),
    (lambda d: d.score(np.zeros(6)), r"'X' must be a 2-D numeric array .* Got shape \(6,\)"),
    (lambda d: d.score(np.full((1, 6), np.inf)), r"'X' must hold finite numbers or NaN .* Got inf at row 0, column 0"),
    (lambda d: d.feature_flags(np.zeros((2, 6))), r"'x_row' must be one patient's row of 6 values. Got shape \(2, 6\)"),
    (lambda d: d.feature_flags(np.zeros(6), ["a"]), "'names' must list one name per column"),
])
def test_input_errors(call, err_msg):
    detector, _ = _fitted(n_fit=200, n_calib=200)
    with pytest.raises(ValueError, match=err_msg):
        call(detector)


def test_fit_needs_two_rows_and_matching_columns():
    with pytest.raises(ValueError, match="'X_fit' needs at least 2 rows"):
        NoveltyDetector().fit(np.zeros((1, 2)), np.zeros((200, 2)))
    with pytest.raises(ValueError, match="'X_calib' has 3 columns; this NoveltyDetector was fitted on 2"):
        NoveltyDetector().fit(np.zeros((10, 2)), np.zeros((200, 3)))


def test_feature_flag_is_a_plain_value():
    flag = FeatureFlag("inr", 9.0, KIND_RANGE, "above", 0.8, 4.5, 1.0, 3.5)
    assert json.loads(json.dumps(flag.to_dict()))["message"] == "inr = 9 is above the training range [0.8, 4.5]"
