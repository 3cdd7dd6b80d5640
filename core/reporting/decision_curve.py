"""Decision curves on a bundle's held-out test split: the net benefit of flagging patients by predicted risk.

Net benefit of "flag the patient if the predicted risk ≥ threshold" (Vickers & Elkin 2006),
IPCW-weighted: ``TP/n − FP/n · pt/(1 − pt)`` with weighted counts.
"""

from __future__ import annotations


import numpy as np


from ..modeling.bundle import ModelBundle
from ..modeling.heldout import HeldOutSplit, held_out_split, row_names

__all__ = ["DEFAULT_THRESHOLDS", "decision_curve", "decision_on_split", "net_benefit"]

DEFAULT_THRESHOLDS = np.round(np.arange(0.05, 0.61, 0.01), 10)

MSG_THRESHOLDS = ("The 'thresholds' parameter of decision_curve must be a non-empty 1-D sequence of numbers "
                  "strictly between 0 and 1. Got {got} instead.")
NOTE = ("Net benefit of flagging a patient when the predicted risk (under the arm actually received) is at or above "
        "the threshold, in true positives per patient net of false positives weighted by pt/(1 − pt); "
        "IPCW-weighted, so patients censored before the horizon count through the weights, never as non-events.")


def decision_curve(bundle: ModelBundle, *, thresholds=DEFAULT_THRESHOLDS) -> dict | None:
    """Net benefit on the test split of "flag the patient if the predicted risk ≥ threshold".

    Returns ``None`` for a dose cohort (no risk threshold applies), else ``{"thresholds": [...],
    "prevalence", "n", "n_known", "curves": [{"name", "net_benefit": [...]}], "note"}`` with curves for
    the model, the logistic baseline, ``"treat all"`` and ``"treat none"`` (always 0); the same lists
    also sit under flat keys ``model``, ``baseline``, ``treat_all``, ``treat_none`` (with ``model_name``
    and ``baseline_name``), the shape ``core.reporting.figures.decision_curve_figure`` reads. With IPCW
    weights ``w``: ``NB(pt) = Σ w·y·flag / Σ w − Σ w·(1−y)·flag / Σ w · pt / (1 − pt)``.
    """
    pts = _check_thresholds(thresholds)
    if bundle.spec.is_dose:
        return None
    return decision_on_split(bundle, held_out_split(bundle), pts)


def _check_thresholds(thresholds) -> np.ndarray:
    try:
        pts = np.asarray(thresholds, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(MSG_THRESHOLDS.format(got=repr(thresholds))) from None
    if pts.ndim != 1 or pts.size == 0 or not np.all(np.isfinite(pts)) or np.any(pts <= 0) or np.any(pts >= 1):
        raise ValueError(MSG_THRESHOLDS.format(got=repr(thresholds)))
    return pts


def decision_on_split(bundle: ModelBundle, split: HeldOutSplit, pts: np.ndarray) -> dict:
    """:func:`decision_curve` on an already rebuilt test split, at checked thresholds ``pts``."""
    model_name, baseline_name = row_names(bundle)
    y, w = split.y, split.weight
    total = float(w.sum())
    prevalence = float((w * y).sum() / total)
    odds = pts / (1 - pts)
    curves = [{"name": model_name, "net_benefit": net_benefit(bundle.model.predict(split.frame), y, w, pts).tolist()}]
    if bundle.baseline is not None:
        curves.append({"name": baseline_name,
                       "net_benefit": net_benefit(bundle.baseline.predict(split.frame), y, w, pts).tolist()})
    curves += [{"name": "treat all", "net_benefit": (prevalence - (1 - prevalence) * odds).tolist()},
               {"name": "treat none", "net_benefit": np.zeros(len(pts)).tolist()}]
    flat = {"model_name": model_name, "model": curves[0]["net_benefit"], "treat_all": curves[-2]["net_benefit"],
            "treat_none": curves[-1]["net_benefit"]}
    if bundle.baseline is not None:
        flat.update(baseline_name=baseline_name, baseline=curves[1]["net_benefit"])
    return {"thresholds": pts.tolist(), "prevalence": prevalence, "n": int(len(y)), "n_known": int((w > 0).sum()),
            "curves": curves, **flat, "note": NOTE}


def net_benefit(p: np.ndarray, y: np.ndarray, w: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Weighted net benefit of flagging ``p >= pt``, one value per threshold ``pt`` of ``pts``."""
    flag = p[None, :] >= pts[:, None]
    total = w.sum()
    tp = (flag * (w * y)[None, :]).sum(axis=1) / total
    fp = (flag * (w * (1 - y))[None, :]).sum(axis=1) / total
    return tp - fp * pts / (1 - pts)

