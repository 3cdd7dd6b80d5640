"""Evaluation: weight-aware metrics, the simple baselines, the held-out comparison of model and baselines,
and c-for-benefit. (Calibration and decision curves of a bundle's test split are in :mod:`core.reporting`.)"""

from .baselines import FIXED_DOSE_MG_PER_WEEK, iwpc_dose, iwpc_doses
from .comparison import Evaluation, evaluate
from .metrics import (brier_score, c_for_benefit, calibration_intercept_slope, mean_absolute_error, mean_error,
                      roc_auc, within_fraction)

__all__ = [
    "FIXED_DOSE_MG_PER_WEEK", "Evaluation", "brier_score", "c_for_benefit", "calibration_intercept_slope", "evaluate",
    "iwpc_dose", "iwpc_doses", "mean_absolute_error", "mean_error", "roc_auc", "within_fraction",
]
