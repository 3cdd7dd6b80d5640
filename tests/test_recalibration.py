"""The logistic recalibration is kept only where cross-validation on the training split shows that it helps."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, log_loss

from core.modeling.recalibration import decide_recalibration, fit_calibration
from core.modeling.training import N_FOLDS


def _data(seed: int, n: int = 4000, squeeze: float = 1.0):
    rng = np.random.default_rng(seed)
    true_logit = rng.normal(-0.5, 1.2, size=n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-true_logit))).astype(float)
    w = rng.uniform(0.5, 2.0, size=n)
    folds = rng.integers(0, N_FOLDS, size=n)
    return squeeze * true_logit, y, w, folds


def test_cv_numbers_match_sklearn_computed_independently():
    raw, y, w, folds = _data(0, squeeze=2.0)
    d = decide_recalibration(raw, y, w, folds)
    p = 1 / (1 + np.exp(-raw))
    assert d.cv_log_loss_without == pytest.approx(log_loss(y, p, sample_weight=w), rel=1e-9)
    assert d.cv_brier_without == pytest.approx(brier_score_loss(y, p, sample_weight=w), rel=1e-9)
    crossfit = np.empty(len(y))
    for k in range(N_FOLDS):  # cross-fitting, written out: map from the other folds, applied to fold k
        a, b = fit_calibration(raw[folds != k], y[folds != k], w[folds != k])
        crossfit[folds == k] = a + b * raw[folds == k]
    assert d.cv_log_loss_with == pytest.approx(log_loss(y, 1 / (1 + np.exp(-crossfit)), sample_weight=w), rel=1e-9)


def test_an_overconfident_model_is_recalibrated_towards_the_truth():
    raw, y, w, folds = _data(1, squeeze=2.5)  # predicted log-odds 2.5x too extreme
    d = decide_recalibration(raw, y, w, folds)
    assert d.used and d.cv_log_loss_with < d.cv_log_loss_without
    assert d.calibration[1] == pytest.approx(1 / 2.5, rel=0.15)


def test_a_well_calibrated_model_is_left_alone_in_most_samples():
    used = [decide_recalibration(*_data(seed)).used for seed in range(20)]
    assert sum(used) <= 6  # a refitted map mostly adds noise when there is nothing to fix
    d = decide_recalibration(*_data(0))  # seed 0: not used, so the model applies the identity
    assert not d.used and d.calibration == (0.0, 1.0) and d.map_fitted != (0.0, 1.0)


@pytest.mark.parametrize("name", ["actg175", "colon"])
def test_bundle_records_the_decision_and_applies_it(bundles, name):
    b = bundles(name)
    rec = b.training.recalibration
    choice = b.training.calibration_method  # as fitted / recalibrated / blended, by cross-fitted CV log-loss
    best = min(choice["cv_log_loss"].values())
    assert choice["cv_log_loss"][choice["method"]] == best
    assert rec["used"] == (choice["method"] == "logistic recalibration")
    assert tuple(b.model.calibration) == tuple(rec["applied"])
    if choice["method"] != "blend with logistic regression":
        assert tuple(rec["applied"]) == (tuple(rec["map_fitted"]) if rec["used"] else (0.0, 1.0))
    assert all(tuple(m.calibration) == tuple(rec["applied"]) for m in b.ensemble.members)
    assert "test split is not used" in rec["rule"]


def test_dose_bundle_has_no_recalibration(bundles):
    assert bundles("warfarin").training.recalibration is None
