"""Dose cohort: split-conformal (Mondrian, per race group) prediction intervals for the weekly dose.

Method. Training (:func:`core.modeling.training.train`) sets aside a calibration part of the training
split — 20%, stratified by race and dose quintile, fixed by the spec's seed — before anything is fitted.
The model is tuned by cross-validation and fitted on the other 80% only; the calibration part is used
for nothing but this. Its nonconformity scores are ``|y − ŷ| / max(ŷ, 5 mg/week)`` with ``ŷ`` the final
model's prediction (errors grow with the dose), and each race group's interval half-width is the
``ceil((n_g + 1)·0.9)``-th smallest score of its ``n_g`` calibration rows (split-conformal, Vovk et al.
2005; Lei et al. 2018). The dose shown and its interval come from the same model: the one fitted on the
80%, whose prediction is both the point and the centre of the interval.

Guarantee (what it is and is not). If a new patient and the calibration patients of the same race
group are exchangeable (e.g. drawn at random from the same population), the probability over both that
the patient's stable dose lies in the interval is at least 90% within each group (group-conditional
marginal coverage; at most 90% + 1/(n_g + 1) with continuous scores). It is *not* conditional on the
patient's other features: a given genotype or site may be covered less often. Clipping at 0 mg/week
does not change coverage (a dose is never negative). A group with fewer than 30 calibration patients
gets no interval. The calibration part and the test split are stratified random samples (by dose quintile),
so exchangeability holds within strata; with both drawn in the same proportions this changes the guarantee
only negligibly. Patients from another population (another country, era or clinic) are not covered by it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.cohorts import protected_attributes
from ..data.spec import CohortSpec
from .conformal import MondrianConformalRegressor, coverage_report

DOSE_COVERAGE = 0.90
DOSE_MIN_DIFFICULTY = 5.0  # mg/week: floor of the scale used to normalise conformal scores

METHOD = ("split-conformal, Mondrian by {group}: calibrated on {n} training-split patients held out from fitting "
          "and tuning; scores |y - prediction| / max(prediction, {floor:g} mg/week)")
GUARANTEE = ("For a new patient exchangeable with the calibration patients of the same {group} group, "
             "P(stable dose inside the {level:.0%} interval) >= {level:.0%} within each {group} group "
             "(finite-sample, marginal over patients of that group; not conditional on the other features).")


def dose_groups(spec: CohortSpec, frame: pd.DataFrame) -> np.ndarray:
    """The Mondrian categories: race (the first protected attribute of the dose cohort)."""
    return protected_attributes(spec, frame)[spec.protected[0].name].astype(str).to_numpy()


def fit_dose_conformal(spec: CohortSpec, frame: pd.DataFrame, y: np.ndarray, pred: np.ndarray, *,
                       coverage: float = DOSE_COVERAGE) -> MondrianConformalRegressor:
    """Calibrate on the held-out calibration part: ``frame``/``y`` its patients, ``pred`` the final model's
    predictions for them. The guarantee needs that neither the model nor its tuning saw these rows."""
    cp = MondrianConformalRegressor(coverage=coverage, normalized=True, lower_bound=0.0)
    return cp.calibrate(y, pred, groups=dose_groups(spec, frame), difficulty=np.maximum(pred, DOSE_MIN_DIFFICULTY))


def dose_interval(cp: MondrianConformalRegressor, spec: CohortSpec, frame: pd.DataFrame, pred: np.ndarray):
    return dose_interval_in_groups(cp, dose_groups(spec, frame), pred)


def dose_interval_in_groups(cp: MondrianConformalRegressor, groups: np.ndarray, pred: np.ndarray):
    """:func:`dose_interval` for patients whose Mondrian groups (race) are already known."""
    return cp.predict_interval(pred, groups=groups, difficulty=np.maximum(pred, DOSE_MIN_DIFFICULTY))


def dose_interval_method(cp: MondrianConformalRegressor, spec: CohortSpec) -> dict:
    """The bundle's statement of the interval method and its guarantee (``method``, ``guarantee``)."""
    group = spec.protected[0].name
    return {"kind": "prediction interval", "method": METHOD.format(group=group, n=cp.n_marginal_,
                                                                  floor=DOSE_MIN_DIFFICULTY),
            "guarantee": GUARANTEE.format(group=group, level=float(cp.coverage)),
            "nominal": float(cp.coverage), "n_calibration": int(cp.n_marginal_), "groups_by": group}


def dose_coverage(cp: MondrianConformalRegressor, spec: CohortSpec, frame: pd.DataFrame, pred: np.ndarray,
                  y: np.ndarray) -> dict:
    """Held-out test coverage, overall and per group, with the method and its guarantee."""
    res = dose_interval(cp, spec, frame, pred)
    report = coverage_report(y, res.low, res.high, groups=dose_groups(spec, frame)).to_dict()
    stated = dose_interval_method(cp, spec)
    return {"kind": "Mondrian split-conformal (held-out calibration part of the training split)",
            "method": stated["method"], "guarantee": stated["guarantee"], "nominal": cp.coverage,
            "groups_by": spec.protected[0].name, "mean_width_mg_per_week": float(np.nanmean(res.high - res.low)),
            **report}
