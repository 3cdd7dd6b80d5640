"""Per-row conformal intervals (IntervalResult) and their empirical coverage, overall and per group."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._format import finite_or_none as _json_float

STATUS_OK = "ok"
STATUS_INSUFFICIENT = "insufficient_evidence"

MSG_BAD_VECTOR = "{what} must be a 1-D array of finite numbers. {problem}"
MSG_LENGTH = "{what} must have one entry per row ({n}). Got {got} entries instead."
MSG_BAD_LABEL = (
    "Group labels must be str or int (plain JSON). Got {got!r} ({type}) instead; "
    "convert them first, e.g. groups.astype(str)."
)


@dataclass(frozen=True, eq=False)
class IntervalResult:
    """Per-row conformal intervals and whether each row has one.

    ``low``/``high`` are NaN where ``status == 'insufficient_evidence'`` (see ``reason``).
    ``fallback_low``/``fallback_high`` are the pooled (marginal) interval for every row: a
    reference, *not* calibrated for the row's group. ``group`` is None when calibrated without groups.
    """

    y_pred: np.ndarray
    low: np.ndarray
    high: np.ndarray
    status: np.ndarray
    reason: np.ndarray
    fallback_low: np.ndarray
    fallback_high: np.ndarray
    coverage: float
    group: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.y_pred)

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of rows with a calibrated interval."""
        return self.status == STATUS_OK

    @property
    def n_insufficient(self) -> int:
        return int(np.sum(~self.ok))

    @property
    def width(self) -> np.ndarray:
        return self.high - self.low

    def to_records(self) -> list[dict]:
        """One plain-JSON dict per row (NaN bounds become None)."""
        rows = []
        for i in range(len(self)):
            rows.append({
                "y_pred": _json_float(self.y_pred[i]),
                "low": _json_float(self.low[i]),
                "high": _json_float(self.high[i]),
                "coverage": self.coverage,
                "status": str(self.status[i]),
                "reason": str(self.reason[i]),
                "group": None if self.group is None else self.group[i],
                "fallback_low": _json_float(self.fallback_low[i]),
                "fallback_high": _json_float(self.fallback_high[i]),
                "fallback_note": "pooled interval over all calibration rows; not calibrated for this group",
            })
        return rows


@dataclass(frozen=True)
class GroupCoverage:
    """Empirical coverage of one group: ``coverage`` over ``n`` rows with an interval."""

    coverage: float
    n: int
    n_without_interval: int = 0


@dataclass(frozen=True)
class CoverageReport:
    """Empirical coverage, overall and per group.

    Rows without an interval (NaN bound) are not counted in ``coverage``/``n``; they are counted in
    ``n_without_interval``. ``coverage`` is NaN when no row has an interval.
    """

    overall: GroupCoverage
    by_group: dict[Any, GroupCoverage] = field(default_factory=dict)

    def to_dict(self) -> dict:
        def one(g: GroupCoverage) -> dict:
            return {"coverage": _json_float(g.coverage), "n": g.n, "n_without_interval": g.n_without_interval}

        return {
            "overall": one(self.overall),
            "by_group": [{"group": k, **one(v)} for k, v in self.by_group.items()],
        }


def coverage_report(y_true, low, high, *, groups=None) -> CoverageReport:
    """Share of rows with ``low <= y_true <= high``, overall and per group, with their n."""
    y = _vector(y_true, "y_true")
    lo = _vector(low, "low", allow_nan=True, allow_inf=True)
    hi = _vector(high, "high", allow_nan=True, allow_inf=True)
    _same_length(len(y), lo, "low")
    _same_length(len(y), hi, "high")
    has = ~(np.isnan(lo) | np.isnan(hi))
    covered = has & (lo <= y) & (y <= hi)

    def summarise(mask: np.ndarray) -> GroupCoverage:
        n = int(np.sum(has & mask))
        cov = float(np.sum(covered & mask) / n) if n else math.nan
        return GroupCoverage(coverage=cov, n=n, n_without_interval=int(np.sum(~has & mask)))

    overall = summarise(np.ones(len(y), dtype=bool))
    by_group: dict[Any, GroupCoverage] = {}
    if groups is not None:
        uniques, codes = _codes(_labels(groups, len(y)))
        for j, g in enumerate(uniques):
            by_group[g] = summarise(codes == j)
    return CoverageReport(overall=overall, by_group=by_group)


# --- input helpers (shared with the conformal estimator) ---




def _vector(x, what: str, *, allow_nan: bool = False, allow_inf: bool = False) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        problem = f"It could not be read as numbers: {exc}."
        raise ValueError(MSG_BAD_VECTOR.format(what=repr(what), problem=problem)) from exc
    a = np.atleast_1d(a)
    if a.ndim != 1:
        raise ValueError(MSG_BAD_VECTOR.format(what=repr(what), problem=f"Got shape {a.shape} instead."))
    bad = (np.isnan(a) if not allow_nan else np.zeros(len(a), bool)) | (np.isinf(a) if not allow_inf else False)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise ValueError(MSG_BAD_VECTOR.format(what=repr(what), problem=f"Got {float(a[i])!r} at row {i} instead."))
    return a


def _same_length(n: int, a, what: str) -> None:
    if len(a) != n:
        raise ValueError(MSG_LENGTH.format(what=repr(what), n=n, got=len(a)))


def _label(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, (str, int)):  # bool is an int
        return v
    raise ValueError(MSG_BAD_LABEL.format(got=v, type=type(v).__name__))


def _labels(groups, n: int) -> list:
    if hasattr(groups, "to_numpy"):
        groups = groups.to_numpy(dtype=object)
    arr = np.asarray(groups, dtype=object)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(MSG_BAD_VECTOR.format(what="'groups'", problem=f"Got shape {arr.shape} instead."))
    _same_length(n, arr, "groups")
    return [_label(v) for v in arr]


def _codes(labels: list) -> tuple[list, np.ndarray]:
    """Sorted distinct labels and each row's index into them."""
    uniques = sorted(set(labels), key=lambda g: (type(g).__name__, g))
    position = {g: j for j, g in enumerate(uniques)}
    return uniques, np.fromiter((position[g] for g in labels), dtype=np.intp, count=len(labels))
