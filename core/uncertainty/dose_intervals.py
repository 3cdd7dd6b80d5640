"""Dose cohort: Mondrian conformal prediction intervals for the weekly dose, by race group.

Calibrated on the training split's out-of-fold residuals (cross-conformal), per race group, and scaled by
the predicted dose (errors grow with the dose). A group whose calibration set is too small gets no interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.cohorts import protected_attributes
from ..data.spec import CohortSpec
from .conformal import MondrianConformalRegressor, coverage_report

DOSE_COVERAGE = 0.90
DOSE_MIN_DIFFICULTY = 5.0  # mg/week: floor of the scale used to normalise conformal scores


def dose_groups(spec: CohortSpec, frame: pd.DataFrame) -> np.ndarray:
    """The Mondrian categories: race (the first protected attribute of the dose cohort)."""
    return protected_attributes(spec, frame)[spec.protected[0].name].astype(str).to_numpy()


def fit_dose_conformal(spec: CohortSpec, frame: pd.DataFrame, y: np.ndarray, oof: np.ndarray, *,
                       coverage: float = DOSE_COVERAGE) -> MondrianConformalRegressor:
    cp = MondrianConformalRegressor(coverage=coverage, normalized=True, lower_bound=0.0)
    return cp.calibrate(y, oof, groups=dose_groups(spec, frame), difficulty=np.maximum(oof, DOSE_MIN_DIFFICULTY))


def dose_interval(cp: MondrianConformalRegressor, spec: CohortSpec, frame: pd.DataFrame, pred: np.ndarray):
    return cp.predict_interval(pred, groups=dose_groups(spec, frame), difficulty=np.maximum(pred, DOSE_MIN_DIFFICULTY))


def dose_coverage(cp: MondrianConformalRegressor, spec: CohortSpec, frame: pd.DataFrame, pred: np.ndarray,
                  y: np.ndarray) -> dict:
    res = dose_interval(cp, spec, frame, pred)
    report = coverage_report(y, res.low, res.high, groups=dose_groups(spec, frame)).to_dict()
    return {"kind": "Mondrian conformal (cross-conformal, out-of-fold residuals)", "nominal": cp.coverage,
            "groups_by": spec.protected[0].name, "mean_width_mg_per_week": float(np.nanmean(res.high - res.low)),
            **report}
