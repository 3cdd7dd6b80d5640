"""Calibration curves on a bundle's held-out test split: predicted vs observed per quantile bin of the prediction.

Arm cohorts: the predicted risk under each patient's *observed* arm vs the IPCW-weighted event rate (a
patient censored before the horizon has weight 0, never counts as a non-event); dose cohort: mean
predicted vs mean observed dose in mg/week. Bins follow ``sklearn.calibration.calibration_curve(...,
strategy="quantile")`` (empty bins are dropped); the predicted value of a bin is the plain mean over all
its patients, the observed value the weighted mean over those with a known outcome.
"""

from __future__ import annotations


import warnings

import numpy as np
import pandas as pd

from .._errors import SmallSubgroupWarning
from .._params import Constraint, check_parameters, is_int
from ..data.cohorts import protected_attributes
from ..data.spec import CohortSpec

from ..modeling.bundle import ModelBundle
from ..modeling.heldout import HeldOutSplit, held_out_split, row_names
from ..evaluation.baselines import IWPC_COLUMNS, iwpc_doses

__all__ = ["MIN_GROUP_N", "MIN_PER_BIN", "calibration_curve", "calibration_on_split", "group_order",
           "quantile_bins"]

MIN_GROUP_N = 30      # a group's calibration curve needs at least this many patients with a known outcome
MIN_PER_BIN = 20      # ... and gets at most one bin per this many of them

MSG_BY = ("The 'by' parameter of calibration_curve must be None or one of the cohort's protected attributes "
          "{allowed}. Got {got!r} instead.")
MSG_SMALL_GROUP = ("{attribute} = {group}: {n} test patient(s) with a known outcome, fewer than the {minimum} a "
                   "calibration curve needs; no curve is shown.")
MSG_SMALL_GROUPS = "{count} group(s) are too small for a calibration curve: {details}"
MSG_NO_KNOWN = "no patient in this bin has a known outcome (all censored before the horizon)"

MSG_N_BINS = "The 'n_bins' parameter of calibration_curve must be an int in the range [2, 100]. Got {got!r} instead."

_CONSTRAINTS = {"n_bins": Constraint("an int in the range [2, 100]", lambda v: is_int(v) and 2 <= v <= 100)}


def calibration_curve(bundle: ModelBundle, *, n_bins: int = 10, by: str | None = None) -> list[dict]:
    """Predicted vs observed on the test split, per quantile bin of the prediction.

    Returns a list of curves ``{"name", "group", "predicted": [...], "observed": [...], "n": [...],
    "n_known": [...], "note"}`` (one entry per non-empty bin; ``n`` patients, ``n_known`` of them with a
    known outcome; ``observed`` is ``nan`` where no patient of the bin has a known outcome).

    * ``by=None``: arm cohorts, the model and the logistic baseline (risk under the observed arm vs the
      IPCW-weighted event rate); dose cohort, the model and the IWPC formula (mg/week). ``group`` is None.
    * ``by="race"`` (a protected attribute of ``bundle.spec.protected``): one curve of the model per group,
      named ``"race = Black"``, with ``min(n_bins, n_known // 20)`` bins (at least 2). A group with fewer
      than 30 patients of known outcome gets empty lists and a ``note``, and a ``SmallSubgroupWarning``.
    """
    _check_arguments(bundle.spec, n_bins, by)
    return calibration_on_split(bundle, held_out_split(bundle), n_bins=n_bins, by=by)


def _check_arguments(spec: CohortSpec, n_bins, by) -> None:
    check_parameters("calibration_curve", _CONSTRAINTS, n_bins=n_bins)
    allowed = [p.name for p in spec.protected]
    if by is not None and by not in allowed:
        raise ValueError(MSG_BY.format(allowed=allowed, got=by))


def calibration_on_split(bundle: ModelBundle, split: HeldOutSplit, *, n_bins: int, by: str | None) -> list[dict]:
    """:func:`calibration_curve` on an already rebuilt test split (arguments already checked)."""
    model_name, baseline_name = row_names(bundle)
    pred = bundle.model.predict(split.frame)
    if by is None:
        curves = [_curve(model_name, None, pred, split.y, split.weight, n_bins)]
        other = _baseline_prediction(bundle, split.frame)
        if other is not None:
            curves.append(_curve(baseline_name, None, other, split.y, split.weight, n_bins))
        return curves
    labels = protected_attributes(bundle.spec, split.frame)[by].astype(str)
    curves, small = [], []
    for group in group_order(bundle.spec, by, labels.unique()):
        rows = (labels == group).to_numpy()
        n_known = int((split.weight[rows] > 0).sum())
        if n_known < MIN_GROUP_N:
            note = MSG_SMALL_GROUP.format(attribute=by.replace("_", " "), group=group, n=n_known, minimum=MIN_GROUP_N)
            small.append(note)
            curves.append({"name": f"{by.replace('_', ' ')} = {group}", "group": group, "predicted": [], "observed": [], "n": [],
                           "n_known": [], "note": note})
            continue
        bins = max(2, min(n_bins, n_known // MIN_PER_BIN))
        curves.append(_curve(f"{by.replace('_', ' ')} = {group}", group, pred[rows], split.y[rows], split.weight[rows], bins))
    if small:
        warnings.warn(MSG_SMALL_GROUPS.format(count=len(small), details=" ".join(small)), SmallSubgroupWarning,
                      stacklevel=3)
    return curves


def _baseline_prediction(bundle: ModelBundle, frame: pd.DataFrame) -> np.ndarray | None:
    if not bundle.spec.is_dose:
        return None if bundle.baseline is None else bundle.baseline.predict(frame)
    if not set(IWPC_COLUMNS) <= set(frame.columns):
        return None
    return iwpc_doses(frame, impute=bundle.training.iwpc_impute)


def _curve(name: str, group: str | None, pred, y, w, n_bins: int) -> dict:
    ok = np.isfinite(pred)
    predicted, observed, n, n_known = quantile_bins(pred[ok], y[ok], w[ok], n_bins)
    note = MSG_NO_KNOWN if np.isnan(observed).any() else None
    return {"name": name, "group": group, "predicted": predicted.tolist(), "observed": observed.tolist(),
            "n": n.tolist(), "n_known": n_known.tolist(), "note": note}


def quantile_bins(pred: np.ndarray, y: np.ndarray, w: np.ndarray, n_bins: int):
    """(mean prediction, weighted mean outcome, n, n with weight > 0) per non-empty quantile bin.

    Binning as in ``sklearn.calibration.calibration_curve(strategy="quantile")``.
    """
    edges = np.percentile(pred, np.linspace(0, 100, n_bins + 1))
    ids = np.searchsorted(edges[1:-1], pred)
    n = np.bincount(ids, minlength=n_bins)
    known = np.bincount(ids, weights=(w > 0).astype(float), minlength=n_bins).astype(int)
    sum_pred = np.bincount(ids, weights=pred, minlength=n_bins)
    sum_wy = np.bincount(ids, weights=w * y, minlength=n_bins)
    sum_w = np.bincount(ids, weights=w, minlength=n_bins)
    keep = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = np.where(sum_w[keep] > 0, sum_wy[keep] / sum_w[keep], np.nan)
    return sum_pred[keep] / n[keep], observed, n[keep], known[keep]


def group_order(spec: CohortSpec, attribute: str, present) -> list[str]:
    """Groups in the spec's order (band labels, or the feature's categories), then any others sorted."""
    present = [str(v) for v in present]
    attr = next(p for p in spec.protected if p.name == attribute)
    declared = list(attr.labels) if attr.bins else list(spec.feature(attr.source).categories)
    return [g for g in declared if g in present] + sorted(g for g in present if g not in declared)

