"""Split-conformal prediction intervals for a regression model, group-conditional (Mondrian).

The nonconformity score of a calibration row is ``|y - y_pred|`` (or ``|y - y_pred| / sigma`` when
``normalized=True``, with ``sigma`` a per-row difficulty estimate such as the predicted dose). For each
Mondrian category (group) of ``n`` calibration rows the interval half-width is the ``k``-th smallest
score, ``k = ceil((n + 1) * coverage)`` (Vovk et al. 2005; Lei et al. 2018). When ``k > n`` that
quantile is infinite: the group is too small for the requested coverage.

Guarantee, and when it holds. If (a) the model that made ``y_pred`` — and ``sigma`` — was fitted *and
tuned* without the calibration rows, and (b) the calibration rows of a group and a new row of that
group are exchangeable, then ``coverage <= P(y in interval) < coverage + 1/(n + 1)`` within that group
(the upper bound needs continuous scores without ties); the probability is over the calibration set
and the new row together, so it is marginal, not conditional on the row's features. Residuals of the
calibration rows under a model that saw them — including out-of-fold residuals when the settings were
tuned on those residuals, or fold-model residuals placed around a refitted model — do *not* satisfy
(a); intervals calibrated that way are empirical, with no stated guarantee. This module cannot check
(a): the caller (:mod:`core.uncertainty.dose_intervals`) holds out the calibration part before fitting.

A row whose group is too small (or was never seen at calibration) gets **no** interval: its
``low``/``high`` are NaN, its ``status`` is ``'insufficient_evidence'`` with a ``reason`` naming the
group and its ``n``, and an :class:`InsufficientEvidenceWarning` is emitted. The pooled (marginal)
interval is offered separately as ``fallback_low``/``fallback_high``; it is *not* calibrated for the
row's group, and is never put in ``low``/``high``.

Pure numpy; fitted state is plain JSON (``to_dict`` / ``from_dict``), never pickle.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError

from .._errors import BundleIntegrityError, InsufficientEvidenceWarning
from .._format import finite_or_none as _json_float
from .._params import Constraint, check_attributes, is_bool, is_int, is_real
from .coverage import (MSG_BAD_LABEL, MSG_BAD_VECTOR, MSG_LENGTH, STATUS_INSUFFICIENT, STATUS_OK,  # noqa: F401
                       CoverageReport, GroupCoverage, IntervalResult, _codes, _label, _labels, _same_length, _vector,
                       coverage_report)

__all__ = [
    "DEFAULT_MIN_GROUP_SIZE",
    "STATUS_OK",
    "STATUS_INSUFFICIENT",
    "MondrianConformalRegressor",
    "IntervalResult",
    "CoverageReport",
    "GroupCoverage",
    "coverage_report",
    "conformal_rank",
    "min_calibration_size",
]

DEFAULT_MIN_GROUP_SIZE = 30
_FORMAT = "MondrianConformalRegressor"
_FORMAT_VERSION = 1
_EPS = 1e-9  # absorbs float error in (n + 1) * coverage, e.g. 20 * 0.9 = 18.000000000000004

# --- messages (tests assert them) ---------------------------------------------------------------

MSG_NOT_CALIBRATED = (
    "This {cls} instance is not calibrated yet. Call 'calibrate' with held-out calibration "
    "outcomes and predictions before using this method."
)
MSG_BAD_DIFFICULTY = "'difficulty' must be finite and > 0 for every row (it divides the residual). {problem}"
MSG_DIFFICULTY_REQUIRED = "{cls} was created with normalized=True: 'difficulty' is required by '{method}'."
MSG_DIFFICULTY_UNUSED = (
    "{cls} was created with normalized=False, so 'difficulty' would be ignored by '{method}'. "
    "Create it with normalized=True to use a difficulty estimate."
)
MSG_GROUPS_REQUIRED = (
    "This {cls} was calibrated per group (Mondrian): 'groups' is required by 'predict_interval'."
)
MSG_GROUPS_UNUSED = (
    "This {cls} was calibrated without groups: pass groups=None to 'predict_interval', or calibrate "
    "again with groups."
)
MSG_EMPTY = "'calibrate' needs at least one calibration row. Got 0."
REASON_UNSEEN = "group {group!r} was not seen in the calibration set (n=0)"
REASON_INFINITE = (
    "group {group!r} has only n={n} calibration rows; at least {needed} are needed for a finite "
    "{coverage:g}% interval"
)
REASON_SMALL = "group {group!r} has only n={n} calibration rows, fewer than the minimum of {minimum}"
MSG_INSUFFICIENT_WARNING = (
    "No calibrated interval for {k} of {n} rows ({groups}): their low/high are NaN and their status "
    "is 'insufficient_evidence'. fallback_low/fallback_high hold the pooled interval, which is not "
    "calibrated for these groups."
)
MSG_BAD_BUNDLE = "Cannot read a {fmt} from this JSON: {problem}"

_ALL = "all"  # the name of the single pooled group when calibrated without groups


# --- parameter constraints (declared once, checked by core._params) ------------------------------


_CONSTRAINTS: dict[str, Constraint] = {
    "coverage": Constraint("a float in the range (0, 1)", lambda v: is_real(v) and 0.0 < float(v) < 1.0),
    "min_group_size": Constraint("None or an int in the range [1, inf)", lambda v: v is None or (is_int(v) and v >= 1)),
    "normalized": Constraint("a bool", is_bool),
    "lower_bound": Constraint("None or a finite float", lambda v: v is None or is_real(v)),
}


# --- the finite-sample rule -----------------------------------------------------------------


def conformal_rank(n: int, coverage: float) -> int:
    """``k = ceil((n + 1) * coverage)``: the rank (1-based) of the conformal quantile among n scores.

    ``k > n`` means the quantile is infinite (too few calibration rows for this coverage).
    """
    return int(math.ceil((n + 1) * coverage - _EPS))


def min_calibration_size(coverage: float) -> int:
    """The smallest n for which the split-conformal quantile at ``coverage`` is finite (9 for 0.9)."""
    n = max(int(math.floor(coverage / (1.0 - coverage))) - 1, 1)
    while conformal_rank(n, coverage) > n:
        n += 1
    return n


def _conformal_quantile(scores: np.ndarray, coverage: float) -> float:
    k = conformal_rank(len(scores), coverage)
    if k > len(scores):
        return math.inf
    return float(np.partition(scores, k - 1)[k - 1])


# --- the estimator -----------------------------------------------------------------------------


class MondrianConformalRegressor:
    """Split-conformal intervals for a regression model, per group (Mondrian) or pooled.

    Parameters
    ----------
    coverage : float in (0, 1), default 0.9
        Target probability that the interval holds the true outcome, within every group.
    min_group_size : int >= 1 or None, default None (meaning 30)
        A group with fewer calibration rows gets no interval (status 'insufficient_evidence'),
        even when its conformal quantile is finite. Groups below ``min_calibration_size(coverage)``
        (9 at 90%) never get one: their quantile is infinite.
    normalized : bool, default False
        Scores are ``|y - y_pred| / difficulty`` and intervals ``y_pred ± q * difficulty``;
        ``difficulty`` (> 0) is then required by ``calibrate`` and ``predict_interval``.
    lower_bound : float or None, default None
        Clip interval bounds below at this value (0.0 for a dose). Coverage is unaffected when the
        outcome can never be below it.

    Attributes (after ``calibrate``)
    --------------------------------
    mondrian_ : bool — calibrated per group.
    min_group_size_ : int — the resolved minimum.
    n_by_group_ : dict — calibration rows per group label (``{'all': n}`` when pooled).
    quantile_by_group_ : dict — conformal quantile per group (``inf`` when too small).
    n_marginal_, quantile_marginal_ : pooled n and quantile (the fallback).
    """

    def __init__(self, *, coverage: float = 0.9, min_group_size: int | None = None,
                 normalized: bool = False, lower_bound: float | None = None):
        self.coverage = coverage
        self.min_group_size = min_group_size
        self.normalized = normalized
        self.lower_bound = lower_bound

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(coverage={self.coverage!r}, min_group_size={self.min_group_size!r}, "
                f"normalized={self.normalized!r}, lower_bound={self.lower_bound!r})")

    # -- fitting --

    def calibrate(self, y_true, y_pred, *, groups=None, difficulty=None) -> "MondrianConformalRegressor":
        """Compute the conformal quantile of each group from a held-out calibration set.

        ``y_pred`` must come from a model fitted and tuned without these rows (see the module doc);
        otherwise the intervals are empirical and carry no finite-sample guarantee.
        """
        check_attributes(self, _CONSTRAINTS)
        y = _vector(y_true, "y_true")
        yhat = _vector(y_pred, "y_pred")
        _same_length(len(y), yhat, "y_pred")
        if len(y) == 0:
            raise ValueError(MSG_EMPTY)
        scores = np.abs(y - yhat) / self._sigma(difficulty, len(y), "calibrate")
        coverage = float(self.coverage)

        if groups is None:
            n_by_group = {_ALL: len(y)}
            q_by_group = {_ALL: _conformal_quantile(scores, coverage)}
        else:
            uniques, codes = _codes(_labels(groups, len(y)))
            n_by_group, q_by_group = {}, {}
            for j, g in enumerate(uniques):
                n_by_group[g] = int(np.sum(codes == j))
                q_by_group[g] = _conformal_quantile(scores[codes == j], coverage)

        self.mondrian_ = groups is not None
        self.min_group_size_ = DEFAULT_MIN_GROUP_SIZE if self.min_group_size is None else int(self.min_group_size)
        self.n_by_group_ = n_by_group
        self.quantile_by_group_ = q_by_group
        self.n_marginal_ = len(y)
        self.quantile_marginal_ = _conformal_quantile(scores, coverage)
        return self

    # -- prediction --

    def predict_interval(self, y_pred, *, groups=None, difficulty=None) -> IntervalResult:
        """Intervals for new predictions; rows of too-small or unseen groups get none (see module doc)."""
        self._check_calibrated()
        yhat = _vector(y_pred, "y_pred")
        n = len(yhat)
        sigma = self._sigma(difficulty, n, "predict_interval")
        cls = type(self).__name__
        if self.mondrian_ and groups is None:
            raise ValueError(MSG_GROUPS_REQUIRED.format(cls=cls))
        if not self.mondrian_ and groups is not None:
            raise ValueError(MSG_GROUPS_UNUSED.format(cls=cls))
        labels = _labels(groups, n) if self.mondrian_ else [_ALL] * n
        uniques, codes = _codes(labels)

        half = np.full(n, np.nan)
        status = np.full(n, STATUS_OK, dtype=object)
        reason = np.full(n, "", dtype=object)
        refused: dict[Any, int] = {}
        for j, g in enumerate(uniques):
            rows = codes == j
            why = self._refusal(g)
            if why:
                status[rows], reason[rows] = STATUS_INSUFFICIENT, why
                refused[g] = self.n_by_group_.get(g, 0)
            else:
                half[rows] = self.quantile_by_group_[g]

        fallback_q = self.quantile_marginal_
        if self.n_marginal_ < self.min_group_size_ or math.isinf(fallback_q):
            fallback_q = math.nan
        low, high = self._clip(yhat - half * sigma), self._clip(yhat + half * sigma)
        fb_low, fb_high = self._clip(yhat - fallback_q * sigma), self._clip(yhat + fallback_q * sigma)

        if refused:
            shown = ", ".join(f"group {g!r} n={k}" for g, k in refused.items())
            warnings.warn(MSG_INSUFFICIENT_WARNING.format(k=int(np.sum(status != STATUS_OK)), n=n, groups=shown),
                          InsufficientEvidenceWarning, stacklevel=2)
        return IntervalResult(
            y_pred=yhat, low=low, high=high, status=status.astype(str), reason=reason.astype(str),
            fallback_low=fb_low, fallback_high=fb_high, coverage=float(self.coverage),
            group=np.asarray(labels, dtype=object) if self.mondrian_ else None,
        )

    # -- JSON --

    def to_dict(self) -> dict:
        """Plain JSON: parameters and fitted quantiles (an infinite quantile is written as null)."""
        out = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "params": {
                "coverage": float(self.coverage),
                "min_group_size": None if self.min_group_size is None else int(self.min_group_size),
                "normalized": bool(self.normalized),
                "lower_bound": None if self.lower_bound is None else float(self.lower_bound),
            },
            "fitted": None,
        }
        if hasattr(self, "quantile_by_group_"):
            out["fitted"] = {
                "mondrian": self.mondrian_,
                "min_group_size": self.min_group_size_,
                "marginal": {"n": self.n_marginal_, "quantile": _json_float(self.quantile_marginal_)},
                "groups": [
                    {"group": g, "n": self.n_by_group_[g], "quantile": _json_float(self.quantile_by_group_[g])}
                    for g in self.n_by_group_
                ],
            }
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "MondrianConformalRegressor":
        """Rebuild from ``to_dict()``; raises BundleIntegrityError for anything else."""
        try:
            if d.get("format") != _FORMAT or d.get("version") != _FORMAT_VERSION:
                raise ValueError(f"expected format {_FORMAT!r} version {_FORMAT_VERSION}, "
                                 f"got {d.get('format')!r} version {d.get('version')!r}")
            obj = cls(**d["params"])
            check_attributes(obj, _CONSTRAINTS)
            fitted = d["fitted"]
            if fitted is not None:
                obj.mondrian_ = bool(fitted["mondrian"])
                obj.min_group_size_ = int(fitted["min_group_size"])
                obj.n_marginal_ = int(fitted["marginal"]["n"])
                obj.quantile_marginal_ = _from_json_float(fitted["marginal"]["quantile"])
                obj.n_by_group_, obj.quantile_by_group_ = {}, {}
                for row in fitted["groups"]:
                    g = _label(row["group"])
                    obj.n_by_group_[g] = int(row["n"])
                    obj.quantile_by_group_[g] = _from_json_float(row["quantile"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BundleIntegrityError(MSG_BAD_BUNDLE.format(fmt=_FORMAT, problem=exc)) from exc
        return obj

    # -- helpers --

    def _check_calibrated(self) -> None:
        if not hasattr(self, "quantile_by_group_"):
            raise NotFittedError(MSG_NOT_CALIBRATED.format(cls=type(self).__name__))

    def _refusal(self, g) -> str:
        """The reason a group gets no interval, or '' if it gets one."""
        if g not in self.n_by_group_:
            return REASON_UNSEEN.format(group=g)
        n = self.n_by_group_[g]
        if math.isinf(self.quantile_by_group_[g]):
            needed = min_calibration_size(float(self.coverage))
            return REASON_INFINITE.format(group=g, n=n, needed=needed, coverage=100 * float(self.coverage))
        if n < self.min_group_size_:
            return REASON_SMALL.format(group=g, n=n, minimum=self.min_group_size_)
        return ""

    def _sigma(self, difficulty, n: int, method: str) -> np.ndarray | float:
        cls = type(self).__name__
        if not self.normalized:
            if difficulty is not None:
                raise ValueError(MSG_DIFFICULTY_UNUSED.format(cls=cls, method=method))
            return 1.0
        if difficulty is None:
            raise ValueError(MSG_DIFFICULTY_REQUIRED.format(cls=cls, method=method))
        sigma = _vector(difficulty, "difficulty", allow_nan=True, allow_inf=True)
        _same_length(n, sigma, "difficulty")
        bad = ~np.isfinite(sigma) | (sigma <= 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(MSG_BAD_DIFFICULTY.format(problem=f"Got {float(sigma[i])!r} at row {i} instead."))
        return sigma

    def _clip(self, a: np.ndarray) -> np.ndarray:
        if self.lower_bound is None:
            return a
        return np.where(np.isnan(a), np.nan, np.maximum(a, float(self.lower_bound)))


# --- helpers ---------------------------------------------------------------------------------


def _from_json_float(x) -> float:
    return math.inf if x is None else float(x)
