"""Shrinkage toward the logistic model: a blend weight chosen by cross-validation on the training split only.

The boosted model's probabilities can be further from calibrated than plain logistic regression's.
A convex blend on the log-odds scale, ``α·model + (1 − α)·logistic`` with ``α`` in :data:`WEIGHTS`, shrinks
the model toward the logistic model (the same design's linear part with the baseline's penalty). The blend
is again a linear part plus trees, so it stays a :class:`~core.modeling.boosted.BoostedModel` with exact
explanations: its linear coefficients are ``(α·β_model + (1 − α)·β_logistic) / α``, its trees unchanged and
its calibration map ``(0, α)``, so ``α·(linear + trees)`` is exactly the blend.

How it is chosen (:func:`decide_calibration`): on the training split's out-of-fold predictions of the model
and of the logistic model (same folds), three procedures are compared by their *cross-fitted* weighted
log-loss — as fitted, the logistic recalibration (:mod:`core.modeling.recalibration`) and the blend (for each
fold, ``α`` chosen on the other folds' out-of-fold predictions). The lowest wins; ties go to "as fitted".
The test split is never looked at. The decision and every candidate's numbers (log-loss and out-of-fold
calibration slope) are stored in ``training.json`` (key ``calibration_method``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .boosted import BoostedModel, fit_linear
from .recalibration import RecalibrationDecision, log_loss

WEIGHTS = (0.25, 0.5, 0.75)   # α < 1; α = 1 is the model as fitted
BASELINE_PENALTY = 1.0        # the logistic-regression baseline's C
AS_FITTED, RECALIBRATION, BLEND = "as fitted", "logistic recalibration", "blend with logistic regression"
RULE = ("chosen by cross-fitted out-of-fold weighted log-loss on the training split among: the model as fitted, a "
        "logistic recalibration, and a blend with logistic regression (weight chosen on the other folds); ties go to "
        "the model as fitted; the test split is not used")


def blend_with_linear(model: BoostedModel, linear: BoostedModel, alpha: float) -> BoostedModel:
    """``alpha·model + (1 − alpha)·linear`` on the log-odds scale, as one BoostedModel (0 < alpha ≤ 1).

    ``linear`` must be a linear-only model on the same design, fitted on the same rows and weights (so its
    ``z_mean`` is the model's). The model's own calibration map must be the identity.
    """
    if not 0 < alpha <= 1:
        raise ValueError(f"The blend weight must be in (0, 1]. Got {alpha!r} instead.")
    if tuple(model.calibration) != (0.0, 1.0) or linear.booster is not None:
        raise ValueError("blend_with_linear needs an uncalibrated model and a linear-only model.")
    coef = (alpha * model.coef + (1 - alpha) * linear.coef) / alpha
    intercept = (alpha * model.intercept + (1 - alpha) * linear.intercept) / alpha
    params = replace(model.params, blend_weight=float(alpha))
    return replace(model, coef=coef, intercept=intercept, calibration=(0.0, float(alpha)), params=params)


def oof_linear(design, frame, y, w, folds: np.ndarray) -> np.ndarray:
    """Out-of-fold log-odds of the logistic baseline (refitted on each fold's training rows)."""
    out = np.empty(len(y))
    for k in np.unique(folds):
        tr, va = folds != k, folds == k
        out[va] = fit_linear(design, frame[tr], y[tr], w[tr], task="binary", penalty=BASELINE_PENALTY).raw(frame[va])
    return out


@dataclass(frozen=True)
class CalibrationChoice:
    """Which calibration procedure the model uses, and the cross-validated numbers behind the choice."""

    method: str
    blend_weight: float               # 1.0 unless the blend was chosen
    cv_log_loss: dict                 # procedure -> cross-fitted out-of-fold weighted log-loss
    cv_calibration_slope: dict        # procedure (and "logistic regression") -> out-of-fold calibration slope
    recalibration: RecalibrationDecision

    def summary(self) -> str:
        losses = ", ".join(f"{k} {v:.4f}" for k, v in self.cv_log_loss.items())
        weight = f" (weight {self.blend_weight:g} on the model)" if self.method == BLEND else ""
        return f"calibration: {self.method}{weight}; cross-validated log-loss {losses}"

    def to_dict(self) -> dict:
        return {"method": self.method, "blend_weight": self.blend_weight, "rule": RULE,
                "cv_log_loss": dict(self.cv_log_loss), "cv_calibration_slope": dict(self.cv_calibration_slope),
                "weights_tried": list(WEIGHTS)}


def decide_calibration(oof_model: np.ndarray, oof_logistic: np.ndarray, y: np.ndarray, w: np.ndarray,
                       folds: np.ndarray, recalibration: RecalibrationDecision) -> CalibrationChoice:
    """Compare as fitted, recalibrated and blended by cross-fitted out-of-fold log-loss (training split only)."""
    crossfit = np.empty(len(y))
    for k in np.unique(folds):
        va = folds == k
        alpha = _best_weight(oof_model[~va], oof_logistic[~va], y[~va], w[~va])
        crossfit[va] = alpha * oof_model[va] + (1 - alpha) * oof_logistic[va]
    losses = {AS_FITTED: recalibration.cv_log_loss_without, RECALIBRATION: recalibration.cv_log_loss_with,
              BLEND: log_loss(y, crossfit, w)}
    method = min(losses, key=lambda m: (losses[m], m != AS_FITTED))
    alpha = _best_weight(oof_model, oof_logistic, y, w) if method == BLEND else 1.0
    if method == BLEND and alpha == 1.0:
        method = AS_FITTED
    a, b = recalibration.map_fitted
    slopes = {AS_FITTED: _slope(y, oof_model, w), RECALIBRATION: _slope(y, a + b * oof_model, w),
              BLEND: _slope(y, alpha * oof_model + (1 - alpha) * oof_logistic, w),
              "logistic regression": _slope(y, oof_logistic, w)}
    return CalibrationChoice(method, float(alpha), losses, slopes, recalibration)


def _best_weight(oof_model, oof_logistic, y, w) -> float:
    """The weight among WEIGHTS and 1 with the lowest out-of-fold log-loss (1 wins ties)."""
    candidates = (1.0, *WEIGHTS)
    losses = [log_loss(y, a * oof_model + (1 - a) * oof_logistic, w) for a in candidates]
    return float(candidates[int(np.argmin(losses))])


def _slope(y, raw, w) -> float:
    from ..evaluation.metrics import calibration_intercept_slope

    return float(calibration_intercept_slope(y, 1.0 / (1.0 + np.exp(-raw)), sample_weight=w)[1])
