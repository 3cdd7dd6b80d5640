"""Subgroup audit: how well the model does for each protected group, with honest uncertainty.

Designed like fairlearn's ``MetricFrame``: :func:`audit_subgroups` returns a :class:`SubgroupAudit`
that you query (``.overall``, ``.by_group``, ``.difference()``, ``.flagged()``, ``.groups_of()``)
and store as plain JSON (``.to_dict()`` / ``SubgroupAudit.from_dict()``, no pickle).

Statistical choices, in one place:

* Every metric has a percentile bootstrap interval. The bootstrap resamples the **whole sample**
  (``n`` patients drawn with replacement from ``n``, as fairlearn does), so a group's size varies
  between resamples; group and overall metrics are computed on the same resamples, which gives the
  bootstrap distribution of each difference "group minus overall".
* A metric is **flagged** when the interval of that difference excludes zero in the direction that
  is worse (``WORSE_DIRECTION``): lower AUC, coverage or within-20%; higher Brier or MAE; a larger
  absolute calibration intercept or mean error; a calibration slope farther from 1 (for these
  last three the interval used is that of ``|group| - |overall|``, resp. ``|group - 1| -
  |overall - 1|``). Intervals are not corrected for the number of groups audited.
* Below a minimum size a metric is reported as insufficient data, never as a number (binary:
  fewer than 50 patients, or for AUC and calibration fewer than 10 events or 10 non-events;
  regression: fewer than 30 patients). With ``sample_weight``, only patients with a positive
  weight (a known outcome) count towards these sizes. A ``SmallSubgroupWarning`` lists such groups.
"""

from __future__ import annotations

import itertools
import math
import numbers
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

from .._json import jsonable
from . import _bootstrap
from ..evaluation import metrics as _m
from .._errors import InputFileError, SmallSubgroupWarning

__all__ = [
    "audit_subgroups",
    "audit_predictions_file",
    "SubgroupAudit",
    "GroupResult",
    "MetricValue",
    "FlaggedMetric",
    "BINARY_METRICS",
    "REGRESSION_METRICS",
    "WORSE_DIRECTION",
]

BINARY_METRICS = ("auc", "brier", "calibration_intercept", "calibration_slope", "outcome_rate",
                  "mean_predicted")
REGRESSION_METRICS = ("mae", "mean_error", "within_20", "mean_outcome")
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
    "mean_error": "farther_from_0",
    "within_20": "lower",
    "mean_outcome": None,
}
DEFAULT_MIN_SIZES = {"binary": {"n": 50, "events": 10}, "regression": {"n": 30}}
INTERSECTION_SEPARATOR = " x "
WITHIN_TOLERANCE = 0.2
FORMAT_VERSION = 1

# --- messages ----------------------------------------------------------------------------------

MSG_PARAMETER = "The {name!r} parameter of {func} must be {expected}. Got {got!r} instead."
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
MSG_NOT_ESTIMABLE = "not estimable on these patients"
MSG_BAD_DICT = "Not a subgroup audit dict (as written by SubgroupAudit.to_dict()): {problem}."

MSG_FILE_NOT_FOUND = "The predictions file {path} does not exist."
MSG_FILE_TYPE = "The predictions file {path} must be a .csv or .parquet file. Got {suffix!r} instead."
MSG_FILE_UNREADABLE = "The predictions file {path} could not be read as {kind}: {error}"
MSG_FILE_EMPTY = "The predictions file {path} has no rows: there is nothing to audit."
MSG_FILE_COLUMN = (
    "The predictions file {path} has no column {column!r} (the {role}). Available columns: {available}."
)
MSG_FILE_MISSING_VALUES = (
    "The {column!r} column (the {role}) of {path} has {count} missing value(s), first in data row "
    "{row}: fill or remove them; the audit never drops patients silently."
)
MSG_FILE_NOT_NUMERIC = (
    "The {column!r} column (the {role}) of {path} must be numeric. Got {value!r} in data row {row} instead."
)
MSG_FILE_NOT_BINARY = (
    "The {column!r} column (the label) of {path} must hold only 0 and 1 for task='binary'. "
    "Got {values} instead."
)
MSG_FILE_NOT_PROBABILITY = (
    "The {column!r} column (the score) of {path} must hold probabilities in [0, 1] for "
    "task='binary'. Got {value!r} in data row {row} instead."
)
MSG_FILE_NEGATIVE_WEIGHT = (
    "The {column!r} column (the weight) of {path} must be >= 0. Got {value!r} in data row {row} instead."
)


# --- declared parameter constraints -----------------------------------------------------------


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _valid_min_size(v) -> bool:
    if v is None or (_is_int(v) and v >= 1):
        return True
    return (isinstance(v, Mapping) and len(v) > 0 and set(v) <= {"n", "events"}
            and all(_is_int(x) and x >= 1 for x in v.values()))


_PARAMETER_CONSTRAINTS = {
    "task": (lambda v: v in ("binary", "regression"), "one of 'binary', 'regression'"),
    "n_boot": (lambda v: _is_int(v) and 0 <= v <= 100_000, "an int in the range [0, 100000]"),
    "seed": (lambda v: _is_int(v) and v >= 0, "an int >= 0"),
    "confidence": (lambda v: _is_real(v) and 0 < v < 1, "a float in the open interval (0, 1)"),
    "intersections": (lambda v: isinstance(v, bool), "True or False"),
    "min_group_size": (
        _valid_min_size,
        "None, an int >= 1 (patients) or a dict with keys 'n' and/or 'events' (ints >= 1)",
    ),
}


def _check_parameters(func: str, **values) -> None:
    for name, value in values.items():
        valid, expected = _PARAMETER_CONSTRAINTS[name]
        if not valid(value):
            raise ValueError(MSG_PARAMETER.format(name=name, func=func, expected=expected, got=value))


# --- result objects --------------------------------------------------------------------------


def _num(x) -> float | None:
    """A plain float for JSON, ``None`` for missing or non-finite."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class MetricValue:
    """One metric for one group: a value with its bootstrap interval, or insufficient data.

    For groups (not the overall sample), ``difference`` is group minus overall with its bootstrap
    interval, and ``flagged`` says whether the group is significantly worse (see module docstring).
    """

    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    insufficient_data: bool = False
    reason: str | None = None
    difference: float | None = None
    difference_ci_low: float | None = None
    difference_ci_high: float | None = None
    flagged: bool = False

    @classmethod
    def insufficient(cls, reason: str) -> "MetricValue":
        return cls(insufficient_data=True, reason=reason)

    def to_dict(self, *, with_difference: bool = True) -> dict:
        if self.insufficient_data:
            return {"insufficient_data": True, "reason": self.reason}
        out = {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high}
        if with_difference:
            out.update(flagged=self.flagged, difference=self.difference,
                       difference_ci_low=self.difference_ci_low,
                       difference_ci_high=self.difference_ci_high)
        return out

    @classmethod
    def from_dict(cls, raw: Mapping) -> "MetricValue":
        if raw.get("insufficient_data"):
            return cls.insufficient(str(raw.get("reason", "")))
        return cls(value=_num(raw.get("value")), ci_low=_num(raw.get("ci_low")),
                   ci_high=_num(raw.get("ci_high")), difference=_num(raw.get("difference")),
                   difference_ci_low=_num(raw.get("difference_ci_low")),
                   difference_ci_high=_num(raw.get("difference_ci_high")),
                   flagged=bool(raw.get("flagged", False)))


@dataclass(frozen=True)
class GroupResult:
    """One group of one attribute (or intersection), e.g. attribute 'race x sex', group 'Black x female'."""

    attribute: str
    group: str
    n: int
    share: float
    metrics: dict[str, MetricValue]
    train_n: int | None = None
    train_share: float | None = None

    def to_dict(self) -> dict:
        return {"attribute": self.attribute, "group": self.group, "n": self.n, "share": self.share,
                "train_n": self.train_n, "train_share": self.train_share,
                "metrics": {k: v.to_dict() for k, v in self.metrics.items()}}

    @classmethod
    def from_dict(cls, raw: Mapping) -> "GroupResult":
        return cls(attribute=str(raw["attribute"]), group=str(raw["group"]), n=int(raw["n"]),
                   share=float(raw["share"]),
                   metrics={k: MetricValue.from_dict(v) for k, v in raw["metrics"].items()},
                   train_n=None if raw.get("train_n") is None else int(raw["train_n"]),
                   train_share=_num(raw.get("train_share")))


class FlaggedMetric(NamedTuple):
    attribute: str
    group: str
    metric: str


_BY_GROUP_COLUMNS = ["attribute", "group", "n", "share", "train_n", "train_share", "metric", "value",
                     "ci_low", "ci_high", "insufficient", "reason", "difference", "difference_ci_low",
                     "difference_ci_high", "flagged"]


@dataclass(frozen=True)
class SubgroupAudit:
    """The result of :func:`audit_subgroups`: query it, or store it with :meth:`to_dict`.

    Attributes
    ----------
    n : int
        Patients audited.
    overall : dict[str, MetricValue]
        Each metric on the whole sample.
    groups : tuple[GroupResult, ...]
        Every group of every attribute, then of every pairwise intersection.
    settings : dict
        How the audit was run (task, n_boot, seed, confidence, min_sizes, attributes, ...).
    """

    n: int
    overall: dict[str, MetricValue]
    groups: tuple[GroupResult, ...]
    settings: dict = field(default_factory=dict)

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.overall)

    @property
    def attributes(self) -> tuple[str, ...]:
        """Audited attributes, then their intersections ('race x sex'), in report order."""
        return tuple(dict.fromkeys(g.attribute for g in self.groups))

    @property
    def by_group(self) -> pd.DataFrame:
        """Tidy table: one row per (attribute, group, metric)."""
        rows = []
        for g in self.groups:
            for name, mv in g.metrics.items():
                rows.append([g.attribute, g.group, g.n, g.share, g.train_n, g.train_share, name,
                             mv.value, mv.ci_low, mv.ci_high, mv.insufficient_data, mv.reason,
                             mv.difference, mv.difference_ci_low, mv.difference_ci_high, mv.flagged])
        frame = pd.DataFrame(rows, columns=_BY_GROUP_COLUMNS)
        for col in ("value", "ci_low", "ci_high", "difference", "difference_ci_low",
                    "difference_ci_high", "share", "train_share"):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
        return frame

    def difference(self, metric: str | None = None) -> pd.DataFrame:
        """Group minus overall, with bootstrap interval and flag, for every reportable metric."""
        cols = ["attribute", "group", "metric", "difference", "difference_ci_low",
                "difference_ci_high", "flagged"]
        frame = self.by_group
        frame = frame[~frame["insufficient"]]
        if metric is not None:
            frame = frame[frame["metric"] == metric]
        return frame[cols].reset_index(drop=True)

    def flagged(self) -> list[FlaggedMetric]:
        """The (attribute, group, metric) entries where the group is significantly worse."""
        return [FlaggedMetric(g.attribute, g.group, name)
                for g in self.groups for name, mv in g.metrics.items() if mv.flagged]

    def groups_of(self, patient_attrs: Mapping[str, Any]) -> list[GroupResult]:
        """The entries for one patient's own groups and their intersections.

        ``{"race": "Black", "sex": "female"}`` gives race=Black, sex=female and
        race x sex=Black x female. Attributes the audit does not cover are ignored; a group with no
        audited patients comes back with n=0 and every metric insufficient.
        """
        values = {str(k): str(v) for k, v in patient_attrs.items() if v is not None}
        index = {(g.attribute, g.group): g for g in self.groups}
        singles = self.settings.get("attributes") or [a for a in self.attributes
                                                      if INTERSECTION_SEPARATOR not in a]
        combos = [(a,) for a in singles]
        if self.settings.get("intersections", True):
            combos += list(itertools.combinations(singles, 2))
        out = []
        for parts in combos:
            if not all(p in values for p in parts):
                continue
            attribute = INTERSECTION_SEPARATOR.join(parts)
            name = INTERSECTION_SEPARATOR.join(values[p] for p in parts)
            out.append(index.get((attribute, name)) or self._empty_group(attribute, name))
        return out

    def _empty_group(self, attribute: str, group: str) -> GroupResult:
        reason = f"n=0 < {self.settings.get('min_sizes', {}).get('n', 1)}"
        return GroupResult(attribute, group, 0, 0.0,
                           {name: MetricValue.insufficient(reason) for name in self.metrics},
                           train_n=None, train_share=None)

    def to_dict(self) -> dict:
        """Pure-JSON representation (``json.dumps`` works as is; ``from_dict`` reverses it)."""
        return {"overall": {"n": self.n, "metrics": {k: v.to_dict(with_difference=False)
                                                     for k, v in self.overall.items()}},
                "groups": [g.to_dict() for g in self.groups],
                "settings": jsonable(self.settings)}

    @classmethod
    def from_dict(cls, raw: Mapping) -> "SubgroupAudit":
        try:
            return cls(n=int(raw["overall"]["n"]),
                       overall={k: MetricValue.from_dict(v)
                                for k, v in raw["overall"]["metrics"].items()},
                       groups=tuple(GroupResult.from_dict(g) for g in raw["groups"]),
                       settings=dict(raw.get("settings", {})))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(MSG_BAD_DICT.format(problem=f"{type(exc).__name__}: {exc}")) from None

    def __repr__(self) -> str:
        return (f"SubgroupAudit(task={self.settings.get('task')!r}, n={self.n}, "
                f"groups={len(self.groups)}, flagged={len(self.flagged())})")


# --- the audit -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Partition:
    attribute: str
    labels: tuple[str, ...]
    codes: np.ndarray


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

    Returns
    -------
    SubgroupAudit

    Warns
    -----
    SmallSubgroupWarning
        Once, listing every group with a metric reported as insufficient data.
    """
    _check_parameters("audit_subgroups", task=task, n_boot=n_boot, seed=seed, confidence=confidence,
                      intersections=intersections, min_group_size=min_group_size)
    y, pred, w, weighted = _check_outcomes(y_true, y_pred, task, sample_weight)
    n = y.size
    covered = _check_interval(interval, y)
    partitions = _partitions(_check_groups(groups, n, "groups"), intersections)
    train = _train_counts(train_groups, groups, intersections)
    min_sizes = _min_sizes(task, min_group_size)
    metric_names = (BINARY_METRICS if task == "binary" else REGRESSION_METRICS) + (
        ("coverage",) if covered is not None else ())

    # phase 1: sizes and point estimates of every group (global index 0 is the whole sample)
    all_parts = [_Partition("overall", ("overall",), np.zeros(n, dtype=np.intp))] + partitions
    cells = [(p, g) for p in all_parts for g in range(len(p.labels))]
    usable = w > 0
    point, reasons, starts = [], [], np.full((len(cells), 3), np.nan)
    for i, (part, g) in enumerate(cells):
        member = part.codes == g
        sizes = {"n": int(np.count_nonzero(member & usable)),
                 "events": int(np.count_nonzero(member & usable & (y == 1))),
                 "non-events": int(np.count_nonzero(member & usable & (y == 0)))}
        why = _insufficient(task, sizes, min_sizes, metric_names)
        values = _point_estimates(task, y[member], pred[member], w[member],
                                  None if covered is None else covered[member], why)
        if "calibration_slope" in values:
            starts[i] = values.pop("_calibration_fit")
        for name in metric_names:
            if why[name] is None and not math.isfinite(values.get(name, float("nan"))):
                why[name] = MSG_NOT_ESTIMABLE
        point.append(values)
        reasons.append(why)
    if task == "binary" and "calibration_slope" in metric_names:
        for i, why in enumerate(reasons):
            if why["calibration_slope"] or why["calibration_intercept"]:
                starts[i] = np.nan

    # phase 2: bootstrap replicates of everything, on the same resamples
    replicates = None
    if n_boot > 0:
        codes, n_groups, offset = [], [], 0
        for part in all_parts:
            keep = np.array([any(r is None for r in reasons[offset + g].values())
                             for g in range(len(part.labels))])
            remap = np.where(keep, np.arange(len(part.labels)), -1)
            codes.append(remap[part.codes])
            n_groups.append(len(part.labels))
            offset += len(part.labels)
        replicates = _bootstrap.bootstrap_replicates(
            task=task, y=y, pred=pred, partitions=codes, n_groups=n_groups,
            calibration_start=starts, n_boot=n_boot, seed=seed,
            sample_weight=w if weighted else None, covered=covered, tolerance=WITHIN_TOLERANCE)

    # phase 3: assemble
    alpha = (1 - confidence) / 2
    overall = {name: _metric_value(name, 0, point, reasons, replicates, alpha, compare=False)
               for name in metric_names}
    results, small = [], []
    for i, (part, g) in enumerate(cells):
        if i == 0:
            continue
        label = part.labels[g]
        mvs = {name: _metric_value(name, i, point, reasons, replicates, alpha, compare=True)
               for name in metric_names}
        n_g = int(np.count_nonzero(part.codes == g))
        train_n = train_share = None
        if train is not None:
            train_n = int(train[1].get((part.attribute, label), 0))
            train_share = train_n / train[0] if train[0] else None
        results.append(GroupResult(part.attribute, label, n_g, n_g / n, mvs, train_n, train_share))
        first = _size_reason(reasons[i])
        if first:
            small.append(f"{part.attribute}={label} ({first})")
    first = _size_reason(reasons[0])
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
        "min_sizes": min_sizes,
        "intersections": intersections,
        "attributes": [str(c) for c in groups.columns],
        "weighted": weighted,
        "bootstrap": "whole-sample (group sizes vary between resamples), percentile intervals",
    }
    if task == "regression":
        settings["within_tolerance"] = WITHIN_TOLERANCE
    return SubgroupAudit(n=n, overall=overall, groups=tuple(results), settings=settings)


# --- phases, as one-line helpers where possible ---------------------------------------------


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


def _as_labels(series: pd.Series) -> np.ndarray:
    return series.astype(str).to_numpy(dtype=object)


def _partitions(groups: pd.DataFrame, intersections: bool) -> list[_Partition]:
    singles = []
    for column in groups.columns:
        codes, labels = pd.factorize(_as_labels(groups[column]), sort=True)
        singles.append(_Partition(str(column), tuple(str(v) for v in labels), codes.astype(np.intp)))
    pairs = []
    if intersections:
        for a, b in itertools.combinations(singles, 2):
            codes, uniques = pd.factorize(a.codes * len(b.labels) + b.codes, sort=True)
            labels = tuple(f"{a.labels[u // len(b.labels)]}{INTERSECTION_SEPARATOR}"
                           f"{b.labels[u % len(b.labels)]}" for u in uniques)
            pairs.append(_Partition(f"{a.attribute}{INTERSECTION_SEPARATOR}{b.attribute}", labels,
                                    codes.astype(np.intp)))
    return singles + pairs


def _min_sizes(task: str, min_group_size) -> dict:
    sizes = dict(DEFAULT_MIN_SIZES[task])
    if _is_int(min_group_size):
        sizes["n"] = int(min_group_size)
    elif isinstance(min_group_size, Mapping):
        sizes.update({k: int(v) for k, v in min_group_size.items()
                      if task == "binary" or k == "n"})
    return sizes


def _insufficient(task, sizes, min_sizes, metric_names) -> dict[str, str | None]:
    """The reason each metric cannot be reported for a group, or None when it can."""
    why = dict.fromkeys(metric_names)
    if sizes["n"] < min_sizes["n"]:
        return dict.fromkeys(metric_names, f"n={sizes['n']} < {min_sizes['n']}")
    if task == "binary":
        for kind in ("events", "non-events"):
            if sizes[kind] < min_sizes["events"]:
                for name in EVENT_METRICS:
                    why[name] = why[name] or f"{kind}={sizes[kind]} < {min_sizes['events']}"
    return why


def _size_reason(why: dict) -> str | None:
    """The first too-few-patients/events reason of a group (what SmallSubgroupWarning lists)."""
    return next((r for r in why.values() if r and r != MSG_NOT_ESTIMABLE), None)


def _point_estimates(task, y, p, w, covered, why) -> dict[str, float]:
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
        out["within_20"] = mean(_m._within(y, p, WITHIN_TOLERANCE))
        out["mean_outcome"] = mean(y)
    if covered is not None:
        out["coverage"] = mean(covered)
    return out


def _percentiles(samples: np.ndarray, alpha: float) -> tuple[float | None, float | None]:
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return None, None
    lo, hi = np.percentile(samples, [100 * alpha, 100 * (1 - alpha)])
    return _num(lo), _num(hi)


def _metric_value(name, i, point, reasons, replicates, alpha, *, compare) -> MetricValue:
    if reasons[i][name] is not None:
        return MetricValue.insufficient(reasons[i][name])
    value = point[i][name]
    ci = (None, None) if replicates is None else _percentiles(replicates[name][:, i], alpha)
    if not compare or reasons[0][name] is not None:
        return MetricValue(_num(value), *ci)
    difference = value - point[0][name]
    diff_ci, flagged = (None, None), False
    if replicates is not None:
        group, whole = replicates[name][:, i], replicates[name][:, 0]
        diff_ci = _percentiles(group - whole, alpha)
        flagged = _is_worse(WORSE_DIRECTION[name], group, whole, diff_ci, alpha)
    return MetricValue(_num(value), *ci, difference=_num(difference), difference_ci_low=diff_ci[0],
                       difference_ci_high=diff_ci[1], flagged=flagged)


def _is_worse(direction, group, whole, diff_ci, alpha) -> bool:
    if direction is None or diff_ci[0] is None:
        return False
    if direction == "lower":
        return diff_ci[1] < 0
    if direction == "higher":
        return diff_ci[0] > 0
    target = 1.0 if direction == "farther_from_1" else 0.0
    excess_low, _ = _percentiles(np.abs(group - target) - np.abs(whole - target), alpha)
    return excess_low is not None and excess_low > 0


def _train_counts(train_groups, groups, intersections):
    if train_groups is None:
        return None
    is_frame = isinstance(train_groups, pd.DataFrame)
    if not is_frame or list(train_groups.columns) != list(groups.columns):
        got = list(train_groups.columns) if is_frame else type(train_groups).__name__
        raise ValueError(MSG_TRAIN_COLUMNS.format(expected=list(groups.columns), got=got))
    _check_groups(train_groups, None, "train_groups")
    counts: dict[tuple[str, str], int] = {}
    for part in _partitions(train_groups, intersections):
        for code, size in enumerate(np.bincount(part.codes, minlength=len(part.labels))):
            counts[(part.attribute, part.labels[code])] = int(size)
    return len(train_groups), counts


# --- from a file -------------------------------------------------------------------------------


def audit_predictions_file(
    path,
    *,
    label: str,
    score: str,
    attributes: Sequence[str],
    task: str = "binary",
    n_boot: int = 200,
    seed: int = 0,
    interval: tuple[str, str] | None = None,
    weight: str | None = None,
    min_group_size=None,
    intersections: bool = True,
    confidence: float = 0.95,
) -> SubgroupAudit:
    """Audit a CSV or Parquet file of test-set predictions (one row per patient).

    ``label``, ``score`` and ``attributes`` name columns; ``interval`` optionally names the
    (low, high) columns of prediction intervals and ``weight`` a sample-weight column. Every problem
    with the file raises :class:`InputFileError` saying what is wrong and where; rows with missing
    values are refused, never silently dropped.
    """
    _check_parameters("audit_predictions_file", task=task)
    path = Path(path)
    attributes = [attributes] if isinstance(attributes, str) else list(attributes)
    roles = {label: "label", score: "score"}
    roles.update({a: "attribute" for a in attributes})
    if interval is not None:
        roles.update({interval[0]: "interval low", interval[1]: "interval high"})
    if weight is not None:
        roles[weight] = "weight"

    frame = _read_table(path, attributes)
    for column, role in roles.items():
        if column not in frame.columns:
            raise InputFileError(MSG_FILE_COLUMN.format(path=path, column=column, role=role,
                                                        available=", ".join(map(str, frame.columns))))
    if len(frame) == 0:
        raise InputFileError(MSG_FILE_EMPTY.format(path=path))
    for column, role in roles.items():
        missing = np.flatnonzero(frame[column].isna().to_numpy())
        if missing.size:
            raise InputFileError(MSG_FILE_MISSING_VALUES.format(
                column=column, role=role, path=path, count=missing.size, row=int(missing[0]) + 1))

    y = _file_labels(frame[label], label, path, task)
    pred = _file_numeric(frame[score], score, "score", path)
    if task == "binary":
        bad = np.flatnonzero((pred < 0) | (pred > 1))
        if bad.size:
            raise InputFileError(MSG_FILE_NOT_PROBABILITY.format(
                column=score, path=path, value=pred[bad[0]].item(), row=int(bad[0]) + 1))
    bounds = None
    if interval is not None:
        bounds = np.column_stack([_file_numeric(frame[c], c, roles[c], path) for c in interval])
    w = None
    if weight is not None:
        w = _file_numeric(frame[weight], weight, "weight", path)
        bad = np.flatnonzero(w < 0)
        if bad.size:
            raise InputFileError(MSG_FILE_NEGATIVE_WEIGHT.format(
                column=weight, path=path, value=w[bad[0]].item(), row=int(bad[0]) + 1))
    groups = pd.DataFrame({a: _as_labels(frame[a]) for a in attributes})
    return audit_subgroups(y, pred, groups, task=task, sample_weight=w, interval=bounds,
                           n_boot=n_boot, seed=seed, min_group_size=min_group_size,
                           intersections=intersections, confidence=confidence)


def _read_table(path: Path, attributes: list[str]) -> pd.DataFrame:
    if not path.exists():
        raise InputFileError(MSG_FILE_NOT_FOUND.format(path=path))
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise InputFileError(MSG_FILE_TYPE.format(path=path, suffix=path.suffix))
    kind = "CSV" if suffix == ".csv" else "Parquet"
    try:
        if kind == "CSV":
            header = pd.read_csv(path, nrows=0).columns
            return pd.read_csv(path, dtype={a: str for a in attributes if a in header})
        return pd.read_parquet(path)
    except Exception as exc:  # pandas/pyarrow raise many types for a bad file
        raise InputFileError(MSG_FILE_UNREADABLE.format(path=path, kind=kind,
                                                        error=f"{type(exc).__name__}: {exc}")) from exc


def _file_numeric(series: pd.Series, column: str, role: str, path: Path) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy())
    if bad.size:
        raise InputFileError(MSG_FILE_NOT_NUMERIC.format(column=column, role=role, path=path,
                                                         value=_plain(series.iloc[bad[0]]),
                                                         row=int(bad[0]) + 1))
    values = values.to_numpy(dtype=np.float64)
    infinite = np.flatnonzero(~np.isfinite(values))
    if infinite.size:
        raise InputFileError(MSG_FILE_NOT_NUMERIC.format(column=column, role=role, path=path,
                                                         value=_plain(series.iloc[infinite[0]]),
                                                         row=int(infinite[0]) + 1))
    return values


def _plain(value):
    """A numpy scalar as the Python value it holds, for messages (``2``, not ``np.int64(2)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _file_labels(series: pd.Series, column: str, path: Path, task: str) -> np.ndarray:
    if task != "binary":
        return _file_numeric(series, column, "label", path)
    values = pd.to_numeric(series.astype(object) if series.dtype == bool else series, errors="coerce")
    ok = values.isin([0, 1]).to_numpy()
    if not ok.all():
        bad = pd.unique(series[~ok])[:5]
        raise InputFileError(MSG_FILE_NOT_BINARY.format(column=column, path=path,
                                                        values=", ".join(repr(_plain(v)) for v in bad)))
    return values.to_numpy(dtype=np.float64)
