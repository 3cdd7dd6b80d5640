"""The audited metrics and how one group's are estimated: minimum sizes, point estimates, intervals, comparisons.

See :mod:`core.fairness.audit` for the statistical choices; this module holds their arithmetic.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .._format import finite_or_none
from .._params import is_int
from ..evaluation import metrics as _m
from ._result import REASON_TOO_FEW, MetricValue
from ._significance import worse_p_value

BINARY_METRICS = ("auc", "brier", "calibration_intercept", "calibration_slope", "outcome_rate",
                  "mean_predicted")
REGRESSION_METRICS = ("mae", "mape", "mean_error", "within_20", "mean_outcome")
EVENT_METRICS = ("auc", "calibration_intercept", "calibration_slope")  # need events and non-events
WORSE_DIRECTION = {
    "auc": "lower",
    "brier": "higher",
    "calibration_intercept": "farther_from_0",
    "calibration_slope": "farther_from_1",
    "outcome_rate": None,
    "mean_predicted": None,
    "coverage": "lower",
    "mae": "higher",
    "mape": "higher",
    "mean_error": "farther_from_0",
    "within_20": "lower",
    "mean_outcome": None,
}
DEFAULT_MIN_SIZES = {"binary": {"n": 50, "events": 10}, "regression": {"n": 30}}
WITHIN_TOLERANCE = 0.2

MSG_NOT_ESTIMABLE = "not estimable on these patients"


def min_sizes(task: str, min_group_size) -> dict:
    """The defaults for ``task``, with what ``min_group_size`` overrides."""
    sizes = dict(DEFAULT_MIN_SIZES[task])
    if is_int(min_group_size):
        sizes["n"] = int(min_group_size)
    elif isinstance(min_group_size, Mapping):
        sizes.update({k: int(v) for k, v in min_group_size.items()
                      if task == "binary" or k == "n"})
    return sizes


def insufficient(task, sizes, minimum, metric_names) -> dict[str, str | None]:
    """The reason each metric cannot be reported for a group, or None when it can."""
    why = dict.fromkeys(metric_names)
    if sizes["n"] < minimum["n"]:
        return dict.fromkeys(metric_names, REASON_TOO_FEW.format(kind="n", count=sizes["n"], minimum=minimum["n"]))
    if task == "binary":
        for kind in ("events", "non-events"):
            if sizes[kind] < minimum["events"]:
                for name in EVENT_METRICS:
                    why[name] = why[name] or REASON_TOO_FEW.format(kind=kind, count=sizes[kind],
                                                                   minimum=minimum["events"])
    return why


def size_reason(why: dict) -> str | None:
    """The first too-few-patients/events reason of a group (what SmallSubgroupWarning lists)."""
    return next((r for r in why.values() if r and r != MSG_NOT_ESTIMABLE), None)


def point_estimates(task, y, p, w, covered, why) -> dict[str, float]:
    """Every reportable metric of one group (binary: plus ``_calibration_fit``, the bootstrap's start)."""
    if all(r is not None for r in why.values()):
        return {}
    mean = lambda v: _m._weighted_mean(v, w)  # noqa: E731
    out = {}
    if task == "binary":
        out["outcome_rate"], out["mean_predicted"] = mean(y), mean(p)
        out["brier"] = mean((p - y) ** 2)
        if why["auc"] is None:
            out["auc"] = _m.roc_auc(y, p, sample_weight=w)
            fit = _m._calibration_fit(y, p, w)
            out["calibration_intercept"], out["calibration_slope"] = fit[0], fit[2]
            out["_calibration_fit"] = fit
    else:
        out["mae"], out["mean_error"] = mean(np.abs(p - y)), mean(p - y)
        out["within_20"] = mean(_m.within_mask(y, p, WITHIN_TOLERANCE))
        # mean absolute percentage error: |pred - true| / true, defined only for positive outcomes
        out["mape"] = mean(np.abs(p - y) / y) if y.size and np.all(y > 0) else float("nan")
        out["mean_outcome"] = mean(y)
    if covered is not None:
        out["coverage"] = mean(covered)
    return out


def percentiles(samples: np.ndarray, alpha: float) -> tuple[float | None, float | None]:
    """The percentile interval of the finite samples (None, None when there are none)."""
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return None, None
    lo, hi = np.percentile(samples, [100 * alpha, 100 * (1 - alpha)])
    return finite_or_none(lo), finite_or_none(hi)


def comparison(name, i, j, point, reasons, replicates, alpha, *, tested: bool) -> dict | None:
    """Cell ``i`` (a group) against cell ``j`` (its complement): the rest's value, the difference
    group minus rest with its percentile interval and, if ``tested``, the one-sided p-value that the
    group is worse. None when either side is insufficient data."""
    if reasons[i][name] is not None or reasons[j][name] is not None:
        return None
    group, rest = point[i][name], point[j][name]
    out = {"complement": rest, "difference": group - rest, "ci": (None, None), "p": None}
    if replicates is not None:
        reps_group, reps_rest = replicates[name][:, i], replicates[name][:, j]
        out["ci"] = percentiles(reps_group - reps_rest, alpha)
        if tested:
            out["p"] = worse_p_value(WORSE_DIRECTION[name], group, rest, reps_group, reps_rest)
    return out


def metric_value(name, i, point, reasons, replicates, alpha, compared: dict | None = None,
                 test: tuple | None = None) -> MetricValue:
    """Metric ``name`` of cell ``i``; with ``compared`` (from :func:`comparison`) its difference from
    the rest, and with ``test`` = ``(p_adjusted, correction, flagged)`` its corrected test."""
    if reasons[i][name] is not None:
        return MetricValue.insufficient(reasons[i][name])
    value = finite_or_none(point[i][name])
    ci = (None, None) if replicates is None else percentiles(replicates[name][:, i], alpha)
    if compared is None:
        return MetricValue(value, *ci)
    p_adjusted, correction, flagged = test if test is not None else (None, None, False)
    return MetricValue(value, *ci, difference=finite_or_none(compared["difference"]),
                       difference_ci_low=compared["ci"][0], difference_ci_high=compared["ci"][1], flagged=flagged,
                       complement=finite_or_none(compared["complement"]), p_value=finite_or_none(compared["p"]),
                       p_adjusted=finite_or_none(p_adjusted), correction=correction)
