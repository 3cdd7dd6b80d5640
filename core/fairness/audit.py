"""Subgroup audit: how well the model does for each protected group, with honest uncertainty.

Designed like fairlearn's ``MetricFrame``: :func:`audit_subgroups` returns a :class:`SubgroupAudit`
that you query (``.overall``, ``.by_group``, ``.difference()``, ``.flagged()``, ``.groups_of()``)
and store as plain JSON (``.to_dict()`` / ``SubgroupAudit.from_dict()``, no pickle).

Statistical choices, in one place:

* Every metric has a percentile bootstrap interval. The bootstrap resamples the **whole sample**
  (``n`` patients drawn with replacement from ``n``, as fairlearn does), so a group's size varies
  between resamples; each group and its **complement** (every other patient: "the rest") are
  computed on the same resamples, which gives the bootstrap distribution of "group minus rest".
  A group is compared with the rest, not with an overall value that contains it.
* Only metrics that mean the same in every group may **flag** (``FLAG_METRICS``): for doses the
  share within 20% of the actual dose, the mean absolute percentage error (``mape``) and interval
  coverage, never MAE or mean error, which grow with the dose; for risks AUC and calibration
  (intercept: risks too high or too low; slope: too extreme or too modest), never Brier, which
  moves with the group's outcome rate. Each such (group, metric) is one test with a one-sided
  p-value that the group is worse (``WORSE_DIRECTION``); all tests of the audit are corrected
  together (Holm by default), and a metric flags when its corrected p-value is below ``alpha``.
  Why this p-value and why Holm: see ``_significance``. Cost: each group's complement is one more
  partition in the bootstrap engine, about 3x the time and memory of group-vs-overall for
  race x sex (20,000 patients, 50 resamples: 1.7 s -> 4.9 s in ``benchmarks/bench_audit.py --quick``).
* Below a minimum size a metric is reported as insufficient data, never as a number (binary:
  fewer than 50 patients, or for AUC and calibration fewer than 10 events or 10 non-events;
  regression: fewer than 30 patients). With ``sample_weight``, only patients with a positive
  weight (a known outcome) count towards these sizes. A ``SmallSubgroupWarning`` lists such groups.

This module checks the inputs and runs the three phases (point estimates, bootstrap, assembly); the
metrics and their arithmetic are in ``_estimates``, the bootstrap engine in ``_bootstrap``, the result
objects in ``_result`` and the naming of groups and intersections in ``groups``.
"""

from __future__ import annotations

import math
import warnings
from typing import Mapping

import numpy as np
import pandas as pd

from .._errors import SmallSubgroupWarning
from .._params import Constraint, check_parameters, is_int, is_real
from ..evaluation import metrics as _m
from . import _bootstrap
from . import _significance as _sig
from ._estimates import (BINARY_METRICS, MSG_NOT_ESTIMABLE, REGRESSION_METRICS, WITHIN_TOLERANCE,  # noqa: F401
                         WORSE_DIRECTION, comparison, insufficient, metric_value, min_sizes, point_estimates,
                         size_reason)
from ._significance import CORRECTIONS, FLAG_METRICS
from ._result import AUDIT_FORMAT_VERSION, MSG_BAD_DICT, FlaggedMetric, GroupResult, MetricValue, SubgroupAudit  # noqa: F401
from .groups import Partition, partitions

__all__ = [
    "audit_subgroups",
    "SubgroupAudit",
    "GroupResult",
    "MetricValue",
    "FlaggedMetric",
    "BINARY_METRICS",
    "REGRESSION_METRICS",
    "WORSE_DIRECTION",
]

FORMAT_VERSION = AUDIT_FORMAT_VERSION  # 2: groups vs their complement, corrected flags (1: vs overall, uncorrected)

# --- messages ----------------------------------------------------------------------------------

MSG_GROUPS_TYPE = (
    "groups must be a pandas DataFrame with one column per protected attribute. Got {got} instead."
)
MSG_GROUPS_NO_COLUMNS = "groups must have at least one column (one per protected attribute)."
MSG_GROUPS_MISSING = (
    "The {column!r} column of groups has {count} missing value(s), first at position {pos}: fill "
    "them (e.g. groups.fillna('Unknown')) so those patients are audited rather than dropped."
)
MSG_EMPTY = "y_true is empty: there is nothing to audit."
MSG_INTERVAL_SHAPE = "interval must have shape (n, 2) = ({n}, 2), columns (low, high). Got {shape} instead."
MSG_INTERVAL_ORDER = "interval low must not exceed high. Got low={low!r} > high={high!r} at position {pos}."
MSG_TRAIN_COLUMNS = "train_groups must have the same columns as groups ({expected}). Got {got} instead."
MSG_SMALL = (
    "{count} subgroup(s) are too small for some metrics, which are reported as insufficient data "
    "rather than as numbers: {details}."
)

# --- declared parameter constraints (checked by core._params) ----------------------------------


def _valid_min_size(v) -> bool:
    if v is None or (is_int(v) and v >= 1):
        return True
    return (isinstance(v, Mapping) and len(v) > 0 and set(v) <= {"n", "events"}
            and all(is_int(x) and x >= 1 for x in v.values()))


_CONSTRAINTS = {
    "task": Constraint("one of 'binary', 'regression'", lambda v: v in ("binary", "regression")),
    "n_boot": Constraint("an int in the range [0, 100000]", lambda v: is_int(v) and 0 <= v <= 100_000),
    "seed": Constraint("an int >= 0", lambda v: is_int(v) and v >= 0),
    "confidence": Constraint("a float in the open interval (0, 1)", lambda v: is_real(v) and 0 < v < 1),
    "intersections": Constraint("True or False", lambda v: isinstance(v, bool)),
    "alpha": Constraint("a float in the open interval (0, 1)", lambda v: is_real(v) and 0 < v < 1),
    "correction": Constraint(f"one of {', '.join(map(repr, CORRECTIONS))}", lambda v: v in CORRECTIONS),
    "flag_metrics": Constraint(f"None or a sequence of metric names among {', '.join(sorted(WORSE_DIRECTION))} that "
                               "have a worse direction", lambda v: v is None or (
                                   not isinstance(v, str) and all(WORSE_DIRECTION.get(m) for m in v))),
    "min_group_size": Constraint("None, an int >= 1 (patients) or a dict with keys 'n' and/or 'events' (ints >= 1)",
                                 _valid_min_size),
}


# --- the audit -------------------------------------------------------------------------------


def audit_subgroups(
    y_true,
    y_pred,
    groups: pd.DataFrame,
    *,
    task: str = "binary",
    sample_weight=None,
    interval=None,
    n_boot: int = 200,
    seed: int = 0,
    min_group_size=None,
    intersections: bool = True,
    train_groups: pd.DataFrame | None = None,
    confidence: float = 0.95,
    alpha: float = 0.05,
    correction: str = "holm",
    flag_metrics=None,
) -> SubgroupAudit:
    """Audit a model's test-set performance in every protected group and pairwise intersection.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Outcomes: 0/1 for ``task="binary"``, numbers for ``task="regression"``.
    y_pred : array-like of shape (n,)
        Predicted probabilities (binary) or predicted values (regression).
    groups : pandas.DataFrame of shape (n, n_attributes)
        One column per protected attribute (e.g. race, sex, age_band); values are used as strings.
    task : {"binary", "regression"}
        Binary metrics: auc, brier, calibration_intercept, calibration_slope, outcome_rate,
        mean_predicted. Regression: mae, mean_error (pred - true), within_20, mean_outcome.
    sample_weight : array-like of shape (n,), optional
        E.g. inverse-probability-of-censoring weights; 0 means the outcome is unknown.
    interval : array-like of shape (n, 2), optional
        Prediction intervals (low, high): adds ``coverage``, the share of y_true inside.
    n_boot : int
        Whole-sample bootstrap resamples for the intervals (0: point estimates only).
    seed : int
        Seed of the resampling; the same seed gives the same intervals.
    min_group_size : None, int or dict
        Minimum sizes below which a metric is insufficient data: an int replaces the patient
        minimum, a dict may set ``{"n": ..., "events": ...}``. Defaults: binary n=50, events=10
        (events and non-events, for AUC and calibration); regression n=30.
    intersections : bool
        Also audit every pairwise intersection ("race x sex", groups like "Black x female").
    train_groups : pandas.DataFrame, optional
        The training set's attributes (same columns): adds ``train_n`` and ``train_share``.
    confidence : float
        Level of the percentile intervals.
    alpha : float
        A metric flags a group when its corrected p-value is below ``alpha``.
    correction : {"holm", "fdr_bh", "none"}
        Multiplicity correction over every test of the audit (see ``_significance``); "none" only
        to study the uncorrected flags.
    flag_metrics : sequence of str, optional
        The metrics that may flag a group. Default: within_20, mape and coverage (regression);
        auc, calibration_intercept, calibration_slope and coverage (binary).

    Returns
    -------
    SubgroupAudit

    Warns
    -----
    SmallSubgroupWarning
        Once, listing every group with a metric reported as insufficient data.
    """
    check_parameters("audit_subgroups", _CONSTRAINTS, task=task, n_boot=n_boot, seed=seed, confidence=confidence,
                      intersections=intersections, min_group_size=min_group_size, alpha=alpha,
                      correction=correction, flag_metrics=flag_metrics)
    y, pred, w, weighted = _check_outcomes(y_true, y_pred, task, sample_weight)
    n = y.size
    covered = _check_interval(interval, y)
    parts = partitions(_check_groups(groups, n, "groups"), intersections)
    train = _train_counts(train_groups, groups, intersections)
    minimum = min_sizes(task, min_group_size)
    metric_names = (BINARY_METRICS if task == "binary" else REGRESSION_METRICS) + (
        ("coverage",) if covered is not None else ())

    # phase 1: sizes and point estimates of every group (index 0 is the whole sample), then of
    # every group's complement (index len(cells) + i - 1 for group cell i)
    all_parts = [Partition("overall", ("overall",), np.zeros(n, dtype=np.intp))] + parts
    cells = [(p, g) for p in all_parts for g in range(len(p.labels))]
    masks = [part.codes == g for part, g in cells]
    masks += [~m for m in masks[1:]]
    usable = w > 0
    point, reasons, starts = [], [], np.full((len(masks), 3), np.nan)
    for i, member in enumerate(masks):
        values, why = _cell_estimates(task, member, usable, y, pred, w, covered, minimum, metric_names)
        if "_calibration_fit" in values:
            starts[i] = values.pop("_calibration_fit")
            if why["calibration_slope"] or why["calibration_intercept"]:
                starts[i] = np.nan
        point.append(values)
        reasons.append(why)

    # phase 2: bootstrap replicates of everything, on the same resamples; one extra partition per
    # group holds its complement
    replicates = None
    if n_boot > 0:
        reportable = [any(r is None for r in why.values()) for why in reasons]
        codes, n_groups, offset = [], [], 0
        for part in all_parts:
            keep = np.array(reportable[offset:offset + len(part.labels)])
            codes.append(np.where(keep, np.arange(len(part.labels)), -1)[part.codes])
            n_groups.append(len(part.labels))
            offset += len(part.labels)
        for i in range(1, len(cells)):
            j = len(cells) + i - 1
            codes.append(np.where(masks[j] & reportable[i] & reportable[j], 0, -1).astype(np.intp))
            n_groups.append(1)
        replicates = _bootstrap.bootstrap_replicates(
            task=task, y=y, pred=pred, partitions=codes, n_groups=n_groups,
            calibration_start=starts, n_boot=n_boot, seed=seed,
            sample_weight=w if weighted else None, covered=covered, tolerance=WITHIN_TOLERANCE)

    # phase 3: compare every group with the rest, correct every test of the audit, assemble
    tail = (1 - confidence) / 2
    testing = tuple(m for m in (FLAG_METRICS[task] if flag_metrics is None else flag_metrics) if m in metric_names)
    compared = {(i, name): comparison(name, i, len(cells) + i - 1, point, reasons, replicates, tail,
                                      tested=name in testing)
                for i in range(1, len(cells)) for name in metric_names}
    family = [key for key, c in compared.items() if c is not None and c["p"] is not None]
    adjusted = dict(zip(family, _sig.adjust([compared[k]["p"] for k in family], correction)))
    tests = {k: (float(adjusted[k]), correction, bool(adjusted[k] < alpha)) for k in family}
    overall = {name: metric_value(name, 0, point, reasons, replicates, tail) for name in metric_names}
    results, small = [], []
    for i, (part, g) in enumerate(cells):
        if i == 0:
            continue
        label = part.labels[g]
        mvs = {name: metric_value(name, i, point, reasons, replicates, tail, compared[i, name], tests.get((i, name)))
               for name in metric_names}
        n_g = int(np.count_nonzero(masks[i]))
        train_n = train_share = None
        if train is not None:
            train_n = int(train[1].get((part.attribute, label), 0))
            train_share = train_n / train[0] if train[0] else None
        results.append(GroupResult(part.attribute, label, n_g, n_g / n, mvs, train_n, train_share))
        first = size_reason(reasons[i])
        if first:
            small.append(f"{part.attribute}={label} ({first})")
    first = size_reason(reasons[0])
    if first:
        small.insert(0, f"overall ({first})")
    if small:
        warnings.warn(MSG_SMALL.format(count=len(small), details="; ".join(small)),
                      SmallSubgroupWarning, stacklevel=2)

    settings = {
        "version": FORMAT_VERSION,
        "task": task,
        "n_boot": n_boot,
        "seed": seed,
        "confidence": float(confidence),
        "min_sizes": minimum,
        "intersections": intersections,
        "attributes": [str(c) for c in groups.columns],
        "weighted": weighted,
        "bootstrap": "whole-sample (group sizes vary between resamples), percentile intervals",
        "comparison": "each group against the rest of the audited patients (its complement)",
        "p_value": "one-sided z test of 'group worse than the rest' with the bootstrap standard error",
        "flag_metrics": list(testing),
        "correction": correction,
        "alpha": float(alpha),
        "n_tests": len(family),
        "n_below_alpha_uncorrected": int(sum(compared[k]["p"] < alpha for k in family)),
        "n_flagged": int(sum(t[2] for t in tests.values())),
    }
    if task == "regression":
        settings["within_tolerance"] = WITHIN_TOLERANCE
    return SubgroupAudit(n=n, overall=overall, groups=tuple(results), settings=settings)


# --- phases, as one-line helpers where possible ---------------------------------------------


def _cell_estimates(task, member, usable, y, pred, w, covered, minimum, metric_names):
    """Point estimates of one cell (group, complement or the whole sample) and why a metric is not reportable."""
    sizes = {"n": int(np.count_nonzero(member & usable)),
             "events": int(np.count_nonzero(member & usable & (y == 1))),
             "non-events": int(np.count_nonzero(member & usable & (y == 0)))}
    why = insufficient(task, sizes, minimum, metric_names)
    values = point_estimates(task, y[member], pred[member], w[member], None if covered is None else covered[member], why)
    for name in metric_names:
        if why[name] is None and not math.isfinite(values.get(name, float("nan"))):
            why[name] = MSG_NOT_ESTIMABLE
    return values, why


def _check_outcomes(y_true, y_pred, task, sample_weight):
    y = _m._as_1d_float(y_true, "y_true")
    if y.size == 0:
        raise ValueError(MSG_EMPTY)
    pred = _m._as_1d_float(y_pred, "y_pred")
    _m._check_length(pred, y.size, "y_pred")
    if task == "binary":
        _m._check_binary(y)
        _m._check_probability(pred, "y_pred")
    w = _m._weights(sample_weight, y.size)
    return y, pred, w, sample_weight is not None


def _check_interval(interval, y) -> np.ndarray | None:
    if interval is None:
        return None
    arr = np.asarray(interval, dtype=np.float64)
    if arr.ndim != 2 or arr.shape != (y.size, 2):
        raise ValueError(MSG_INTERVAL_SHAPE.format(n=y.size, shape=arr.shape))
    low = _m._as_1d_float(arr[:, 0], "interval low")
    high = _m._as_1d_float(arr[:, 1], "interval high")
    bad = np.flatnonzero(low > high)
    if bad.size:
        i = int(bad[0])
        raise ValueError(MSG_INTERVAL_ORDER.format(low=low[i].item(), high=high[i].item(), pos=i))
    return ((y >= low) & (y <= high)).astype(np.float64)


def _check_groups(groups, n: int, name: str) -> pd.DataFrame:
    if not isinstance(groups, pd.DataFrame):
        raise TypeError(MSG_GROUPS_TYPE.format(got=type(groups).__name__))
    if groups.shape[1] == 0:
        raise ValueError(MSG_GROUPS_NO_COLUMNS)
    if n is not None and len(groups) != n:
        raise ValueError(_m.MSG_LENGTH.format(name=name, got=len(groups), first="y_true", n=n))
    for column in groups.columns:
        missing = np.flatnonzero(groups[column].isna().to_numpy())
        if missing.size:
            raise ValueError(MSG_GROUPS_MISSING.format(column=column, count=missing.size,
                                                       pos=int(missing[0])))
    return groups


def _train_counts(train_groups, groups, intersections):
    if train_groups is None:
        return None
    is_frame = isinstance(train_groups, pd.DataFrame)
    if not is_frame or list(train_groups.columns) != list(groups.columns):
        got = list(train_groups.columns) if is_frame else type(train_groups).__name__
        raise ValueError(MSG_TRAIN_COLUMNS.format(expected=list(groups.columns), got=got))
    _check_groups(train_groups, None, "train_groups")
    counts: dict[tuple[str, str], int] = {}
    for part in partitions(train_groups, intersections):
        for code, size in enumerate(np.bincount(part.codes, minlength=len(part.labels))):
            counts[(part.attribute, part.labels[code])] = int(size)
    return len(train_groups), counts
