"""Shrinkage toward logistic regression: the blend is exact, chosen on the training split only, and reported."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sklearn.metrics import log_loss as sk_log_loss

from core.modeling.blend import AS_FITTED, BLEND, WEIGHTS, blend_with_linear, decide_calibration
from core.modeling.recalibration import decide_recalibration
from core.modeling.training import N_FOLDS

sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731


def _oof(seed: int, *, model_noise: float, n: int = 3000):
    rng = np.random.default_rng(seed)
    truth = rng.normal(-0.5, 1.2, n)
    y = (rng.uniform(size=n) < sigmoid(truth)).astype(float)
    w = rng.uniform(0.5, 2.0, n)
    folds = rng.integers(0, N_FOLDS, n)
    model = truth + rng.normal(0, model_noise, n)          # noisy (overfitted) out-of-fold log-odds
    logistic = 0.9 * truth + rng.normal(0, 0.3, n)         # smoother, slightly compressed
    return model, logistic, y, w, folds


def test_a_noisy_model_is_shrunk_toward_logistic_and_the_cv_number_is_the_cross_fitted_log_loss():
    model, logistic, y, w, folds = _oof(0, model_noise=1.0)
    choice = decide_calibration(model, logistic, y, w, folds, decide_recalibration(model, y, w, folds))
    assert choice.method == BLEND and choice.blend_weight in WEIGHTS
    crossfit = np.empty(len(y))
    for k in range(N_FOLDS):  # written out: the weight with the lowest log-loss on the other folds
        o = folds != k
        losses = [sk_log_loss(y[o], sigmoid(a * model[o] + (1 - a) * logistic[o]), sample_weight=w[o])
                  for a in (1.0, *WEIGHTS)]
        a = (1.0, *WEIGHTS)[int(np.argmin(losses))]
        crossfit[~o] = a * model[~o] + (1 - a) * logistic[~o]
    assert choice.cv_log_loss[BLEND] == pytest.approx(sk_log_loss(y, sigmoid(crossfit), sample_weight=w), rel=1e-9)
    assert choice.cv_log_loss[BLEND] < choice.cv_log_loss[AS_FITTED]


def test_a_model_better_than_logistic_is_left_as_fitted():
    model, logistic, y, w, folds = _oof(1, model_noise=0.0)  # the model is the truth itself
    choice = decide_calibration(model, logistic, y, w, folds, decide_recalibration(model, y, w, folds))
    assert choice.method == AS_FITTED and choice.blend_weight == 1.0


@pytest.fixture(scope="module")
def fitted():
    import core.modeling.training as T
    from core.data import load_cohort

    return T.train(load_cohort("actg175"), grid=T.default_grid("binary")[0][:1], max_trees=30)


def test_the_blend_is_exactly_the_weighted_log_odds_and_stays_explainable(fitted):
    # a model with trees (the one-standard-error rule may choose none for this trial): refit with 30 trees
    from core.modeling.boosted import fit_boosted

    params = dataclasses.replace(fitted.model.params, n_trees=30)
    model = fit_boosted(fitted.model.design, fitted.train_frame, fitted.labels.y, fitted.labels.weight,
                        task="binary", params=params, seed=0)
    assert model.booster is not None
    frame = fitted.test_frame.head(200)
    assert np.allclose(model.z_mean, fitted.baseline.z_mean)  # same rows and weights
    blended = blend_with_linear(model, fitted.baseline, 0.25)
    for arm in fitted.spec.arms:
        expected = 0.25 * model.raw(frame, arm) + 0.75 * fitted.baseline.raw(frame, arm)
        np.testing.assert_allclose(blended.raw(frame, arm), expected, rtol=1e-10, atol=1e-10)
        base, contrib = blended.contributions(frame, arm)
        np.testing.assert_allclose(base + contrib.sum(axis=1), expected, rtol=1e-9, atol=1e-9)
    restored = type(blended).from_dict(blended.to_dict(), blended.booster.model_to_string())
    np.testing.assert_allclose(restored.raw(frame), blended.raw(frame), rtol=1e-12)


def test_ensemble_members_are_blended_the_same_way(fitted):
    from core.uncertainty.ensemble import fit_ensemble

    model = blend_with_linear(dataclasses.replace(fitted.model, calibration=(0.0, 1.0)), fitted.baseline, 0.5)
    ens = fit_ensemble(model, fitted.train_frame, fitted.labels.y, fitted.labels.weight, strata=fitted.labels.strata,
                       n_members=2, seed=0)
    for m in ens.members:
        assert m.params.blend_weight == 0.5 and tuple(m.calibration) == (0.0, 0.5)


@pytest.mark.parametrize("alpha", [0, -0.1, 1.5])
def test_a_weight_outside_zero_to_one_is_refused(fitted, alpha):
    with pytest.raises(ValueError, match=r"blend weight must be in \(0, 1\]"):
        blend_with_linear(dataclasses.replace(fitted.model, calibration=(0.0, 1.0)), fitted.baseline, alpha)


def test_train_reports_the_calibration_goal_beside_the_baseline(fitted):
    from core.evaluation.comparison import evaluate

    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(fitted)
    m, b = ev.rows
    goal = ev.notes[0]
    met = 0.8 <= m["calibration_slope"] <= 1.2 and abs(m["calibration_slope"] - 1) <= abs(b["calibration_slope"] - 1)
    assert goal.startswith("Calibration goal") and (": met." in goal) == met and ("NOT met" in goal) == (not met)
    for r in (m, b):
        assert r["calibration_slope_ci_low"] < r["calibration_slope"] < r["calibration_slope_ci_high"]
    assert m["cv_calibration_slope"] == pytest.approx(
        fitted.info["calibration_method"]["cv_calibration_slope"][fitted.info["calibration_method"]["method"]])
    assert "calibration_slope_ci_low" in ev.table()
