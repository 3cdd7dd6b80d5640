"""Out-of-distribution detection: is this patient unlike the data the model was trained on?

Two checks, both fitted on the training design matrix (numeric; categorical features already
encoded; NaN for missing):

* a multivariate **novelty score**: the Mahalanobis distance of the standardised row under a
  Ledoit–Wolf shrinkage covariance of the training rows. Missing values are mean-imputed (so they
  add nothing to the distance); constant columns are left out of the score (their rows and columns
  of the precision matrix are zero) and caught by the range check instead. The threshold is the
  conformal ``(1 - target_rate)`` quantile of scores on a held-out in-distribution calibration set,
  ``k = ceil((n + 1) * (1 - target_rate))``-th smallest, so that at most ``target_rate`` (and at
  least ``target_rate - 1/(n+1)``) of new in-distribution patients are flagged;
* per-feature **range checks**: each column's training min/max (and 1st/99th percentiles);
  :meth:`NoveltyDetector.feature_flags` names the columns of a row outside them.

:meth:`NoveltyDetector.assess` checks one patient, returns a :class:`NoveltyAssessment` and emits an
:class:`OutOfDistributionWarning` when the patient is novel or outside a training range.

For a cohort, :func:`novelty_matrix` is that design matrix (one 0/1 column per category) and
:func:`fit_novelty` fits the detector on the training split. The value objects live in
``_novelty_results``. Pure numpy + scikit-learn's ``ledoit_wolf``; fitted state is plain JSON
(``to_dict``/``from_dict``).
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.covariance import ledoit_wolf
from sklearn.exceptions import NotFittedError

from .._errors import BundleIntegrityError, OutOfDistributionWarning
from .._params import Constraint, check_attributes, is_real
from ..data.spec import CohortSpec
from .conformal import conformal_rank, min_calibration_size
from ._novelty_results import KIND_RANGE, KIND_TAIL, KIND_UNOBSERVED, FeatureFlag, NoveltyAssessment  # noqa: F401

__all__ = ["NoveltyDetector", "NoveltyAssessment", "FeatureFlag", "fit_novelty", "novelty_matrix"]

_FORMAT = "NoveltyDetector"
_FORMAT_VERSION = 1
_CONSTANT_STD = 1e-12  # a column whose training std is at most this is treated as constant

# --- messages (tests assert them) ---------------------------------------------------------------

MSG_NOT_FITTED = (
    "This {cls} instance is not fitted yet. Call 'fit' with training rows and a held-out "
    "in-distribution calibration set before using this method."
)
MSG_BAD_MATRIX = "{what} must be a 2-D numeric array (NaN for missing values). {problem}"
MSG_INF = "{what} must hold finite numbers or NaN (missing). Got {value!r} at row {row}, column {col} instead."
MSG_N_FEATURES = "{what} has {got} columns; this {cls} was fitted on {expected}."
MSG_FEW_FIT_ROWS = "'X_fit' needs at least 2 rows to estimate a covariance. Got {n}."
MSG_FEW_CALIB_ROWS = (
    "'X_calib' has {n} rows; at least {needed} are needed to set a threshold flagging "
    "{rate:g}% of in-distribution patients."
)
MSG_NAMES = "'names' must list one name per column ({expected}). Got {got} names instead."
MSG_ONE_ROW = "'x_row' must be one patient's row of {expected} values. Got shape {shape} instead."
MSG_BAD_BUNDLE = "Cannot read a {fmt} from this JSON: {problem}"
MSG_BAD_FORMAT = "expected format {fmt!r} version {version}, got {got!r} version {got_version!r}"
MSG_BAD_COLUMNS = "per-column lists must have {p} entries"
MSG_BAD_LIST = "expected a list of {n} numbers, got {got}"


_CONSTRAINTS = {"target_rate": Constraint("a float in the range (0, 0.5]", lambda v: is_real(v) and 0.0 < float(v) <= 0.5)}


# --- the detector ----------------------------------------------------------------------------


class NoveltyDetector:
    """Flags patients unlike the training data (see the module docstring).

    Parameters
    ----------
    target_rate : float in (0, 0.5], default 0.01
        Share of new in-distribution patients to flag (at most; the conformal threshold).

    Attributes (after ``fit``)
    --------------------------
    n_features_in_, feature_names_in_ (list or None, from a DataFrame's columns),
    mean_, scale_, constant_ (per column), precision_ (p × p, on standardised columns),
    shrinkage_ (Ledoit–Wolf), threshold_, calibration_scores_ (sorted),
    min_, max_, p01_, p99_ (per column training ranges; NaN for a column missing in every row).
    """

    def __init__(self, *, target_rate: float = 0.01):
        self.target_rate = target_rate

    def __repr__(self) -> str:
        return f"{type(self).__name__}(target_rate={self.target_rate!r})"

    # -- fitting --

    def fit(self, X_fit, X_calib) -> "NoveltyDetector":
        """Fit the score on ``X_fit`` and set the threshold on the held-out ``X_calib``."""
        check_attributes(self, _CONSTRAINTS)
        names = _column_names(X_fit)
        A = _matrix(X_fit, "'X_fit'")
        if A.shape[0] < 2:
            raise ValueError(MSG_FEW_FIT_ROWS.format(n=A.shape[0]))
        C = _matrix(X_calib, "'X_calib'")
        if C.shape[1] != A.shape[1]:
            raise ValueError(MSG_N_FEATURES.format(what="'X_calib'", got=C.shape[1], cls=type(self).__name__,
                                                   expected=A.shape[1]))
        level = 1.0 - float(self.target_rate)
        k = conformal_rank(C.shape[0], level)
        if k > C.shape[0]:
            raise ValueError(MSG_FEW_CALIB_ROWS.format(n=C.shape[0], needed=min_calibration_size(level),
                                                       rate=100 * self.target_rate))

        observed = ~np.all(np.isnan(A), axis=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: handled via `observed`
            mean = np.where(observed, np.nanmean(A, axis=0), 0.0)
            lo, hi = np.nanmin(A, axis=0), np.nanmax(A, axis=0)
            p01, p99 = np.nanpercentile(A, 1, axis=0), np.nanpercentile(A, 99, axis=0)
        Z = np.where(np.isnan(A), mean, A) - mean
        std = Z.std(axis=0)
        constant = ~observed | (std <= _CONSTANT_STD)
        scale = np.where(constant, 1.0, std)

        p = A.shape[1]
        precision = np.zeros((p, p))
        shrinkage = 0.0
        keep = np.flatnonzero(~constant)
        if keep.size:
            cov, shrinkage = ledoit_wolf(Z[:, keep] / scale[keep], assume_centered=True)
            precision[np.ix_(keep, keep)] = np.linalg.inv(cov)

        self.n_features_in_ = p
        self.feature_names_in_ = names
        self.mean_, self.scale_, self.constant_ = mean, scale, constant
        self.precision_, self.shrinkage_ = precision, float(shrinkage)
        self.min_, self.max_, self.p01_, self.p99_ = lo, hi, p01, p99
        self.n_fit_, self.n_calib_ = int(A.shape[0]), int(C.shape[0])
        calib = np.sort(self._scores(C))
        self.calibration_scores_ = calib
        self.threshold_ = float(calib[k - 1])
        return self

    # -- scoring --

    def score(self, X) -> np.ndarray:
        """Mahalanobis distance of each row (missing values mean-imputed)."""
        self._check_fitted()
        return self._scores(self._rows(X, "'X'"))

    def is_novel(self, X) -> np.ndarray:
        """True where the score is above the threshold."""
        return self.score(X) > self.threshold_

    def percentile(self, X) -> np.ndarray:
        """Percent (0–100) of calibration patients whose score is at most each row's score."""
        s = self.score(X)
        return 100.0 * np.searchsorted(self.calibration_scores_, s, side="right") / len(self.calibration_scores_)

    def feature_flags(self, x_row, names: Sequence[str] | None = None, *,
                      include_tails: bool = False) -> list[FeatureFlag]:
        """The columns of one row outside the training [min, max] (missing values are not flagged).

        ``names`` default to the fitted DataFrame's columns, else ``x0, x1, ...``. With
        ``include_tails=True``, values inside the range but outside the 1st–99th percentiles are
        listed too (kind ``'outside_p01_p99'``).
        """
        self._check_fitted()
        row = self._one_row(x_row)
        names = self._names(names)
        flags = []
        for j, v in enumerate(row):
            if math.isnan(v):
                continue
            lo, hi, p01, p99 = (float(a[j]) for a in (self.min_, self.max_, self.p01_, self.p99_))
            ranges = dict(train_min=_num(lo), train_max=_num(hi), p01=_num(p01), p99=_num(p99))
            if math.isnan(lo):
                flags.append(FeatureFlag(names[j], float(v), KIND_UNOBSERVED, None, **ranges))
            elif v < lo or v > hi:
                flags.append(FeatureFlag(names[j], float(v), KIND_RANGE, "below" if v < lo else "above", **ranges))
            elif include_tails and (v < p01 or v > p99):
                flags.append(FeatureFlag(names[j], float(v), KIND_TAIL, "below" if v < p01 else "above", **ranges))
        return flags

    def assess(self, x_row, names: Sequence[str] | None = None) -> NoveltyAssessment:
        """Score, percentile and range flags of one patient; warns OutOfDistributionWarning if unusual."""
        row = self._one_row(x_row)
        score = float(self._scores(row[None, :])[0])
        pct = float(100.0 * np.searchsorted(self.calibration_scores_, score, side="right")
                    / len(self.calibration_scores_))
        result = NoveltyAssessment(
            score=score, threshold=self.threshold_, percentile=pct, is_novel=bool(score > self.threshold_),
            flags=tuple(self.feature_flags(row, names, include_tails=True)), n_missing=int(np.isnan(row).sum()),
        )
        if result.out_of_distribution:
            warnings.warn(result.message, OutOfDistributionWarning, stacklevel=2)
        return result

    # -- JSON --

    def to_dict(self) -> dict:
        """Plain JSON (NaN written as null)."""
        out = {"format": _FORMAT, "version": _FORMAT_VERSION,
               "params": {"target_rate": float(self.target_rate)}, "fitted": None}
        if hasattr(self, "threshold_"):
            out["fitted"] = {
                "n_features": self.n_features_in_,
                "feature_names": self.feature_names_in_,
                "n_fit": self.n_fit_,
                "n_calib": self.n_calib_,
                "means": _list(self.mean_),
                "scales": _list(self.scale_),
                "constant": [bool(c) for c in self.constant_],
                "precision": [_list(r) for r in self.precision_],
                "shrinkage": self.shrinkage_,
                "threshold": self.threshold_,
                "calibration_scores": _list(self.calibration_scores_),
                "ranges": {"min": _list(self.min_), "max": _list(self.max_),
                           "p01": _list(self.p01_), "p99": _list(self.p99_)},
            }
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "NoveltyDetector":
        """Rebuild from ``to_dict()``; raises BundleIntegrityError for anything else."""
        try:
            if d.get("format") != _FORMAT or d.get("version") != _FORMAT_VERSION:
                raise ValueError(MSG_BAD_FORMAT.format(fmt=_FORMAT, version=_FORMAT_VERSION, got=d.get("format"),
                                                       got_version=d.get("version")))
            obj = cls(**d["params"])
            f = d["fitted"]
            if f is not None:
                p = int(f["n_features"])
                obj.n_features_in_ = p
                obj.feature_names_in_ = None if f["feature_names"] is None else [str(n) for n in f["feature_names"]]
                obj.n_fit_, obj.n_calib_ = int(f["n_fit"]), int(f["n_calib"])
                obj.mean_, obj.scale_ = _array(f["means"], p), _array(f["scales"], p)
                obj.constant_ = np.array([bool(c) for c in f["constant"]], dtype=bool)
                obj.precision_ = np.array([_array(r, p) for r in f["precision"]]).reshape(p, p)
                obj.shrinkage_ = float(f["shrinkage"])
                obj.threshold_ = float(f["threshold"])
                obj.calibration_scores_ = _array(f["calibration_scores"], int(f["n_calib"]))
                r = f["ranges"]
                obj.min_, obj.max_, obj.p01_, obj.p99_ = (_array(r[k], p) for k in ("min", "max", "p01", "p99"))
                if len(obj.constant_) != p or (obj.feature_names_in_ is not None and len(obj.feature_names_in_) != p):
                    raise ValueError(MSG_BAD_COLUMNS.format(p=p))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BundleIntegrityError(MSG_BAD_BUNDLE.format(fmt=_FORMAT, problem=exc)) from exc
        return obj

    # -- helpers --

    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFittedError(MSG_NOT_FITTED.format(cls=type(self).__name__))

    def _scores(self, X: np.ndarray) -> np.ndarray:
        Z = (np.where(np.isnan(X), self.mean_, X) - self.mean_) / self.scale_
        Z[:, self.constant_] = 0.0
        d2 = np.einsum("ij,jk,ik->i", Z, self.precision_, Z)
        return np.sqrt(np.maximum(d2, 0.0))

    def _rows(self, X, what: str) -> np.ndarray:
        A = _matrix(X, what)
        if A.shape[1] != self.n_features_in_:
            raise ValueError(MSG_N_FEATURES.format(what=what, got=A.shape[1], cls=type(self).__name__,
                                                   expected=self.n_features_in_))
        return A

    def _one_row(self, x_row) -> np.ndarray:
        self._check_fitted()
        if hasattr(x_row, "to_numpy"):
            x_row = x_row.to_numpy(dtype=float)
        row = np.asarray(x_row, dtype=float)
        if row.ndim == 2 and row.shape[0] == 1:
            row = row[0]
        if row.ndim != 1 or row.shape[0] != self.n_features_in_:
            raise ValueError(MSG_ONE_ROW.format(expected=self.n_features_in_, shape=row.shape))
        return self._rows(row[None, :], "'x_row'")[0]

    def _names(self, names) -> list[str]:
        if names is None:
            names = self.feature_names_in_ or [f"x{j}" for j in range(self.n_features_in_)]
        names = [str(n) for n in names]
        if len(names) != self.n_features_in_:
            raise ValueError(MSG_NAMES.format(expected=self.n_features_in_, got=len(names)))
        return names


# --- helpers -------------------------------------------------------------------------------------


def _column_names(X) -> list[str] | None:
    columns = getattr(X, "columns", None)
    return None if columns is None else [str(c) for c in columns]


def _matrix(X, what: str) -> np.ndarray:
    try:
        A = X.to_numpy(dtype=float, na_value=np.nan) if hasattr(X, "to_numpy") else np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(MSG_BAD_MATRIX.format(what=what, problem=f"It could not be read as numbers: {exc}.")) from exc
    if A.ndim != 2:
        raise ValueError(MSG_BAD_MATRIX.format(what=what, problem=f"Got shape {A.shape} instead."))
    inf = np.isinf(A)
    if inf.any():
        r, c = map(int, np.argwhere(inf)[0])
        raise ValueError(MSG_INF.format(what=what, value=float(A[r, c]), row=r, col=c))
    return A


def _num(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _list(a) -> list:
    return [_num(float(v)) for v in np.asarray(a, dtype=float).ravel()]


def _array(values, n: int) -> np.ndarray:
    a = np.array([math.nan if v is None else float(v) for v in values], dtype=float)
    if a.shape != (n,):
        raise ValueError(MSG_BAD_LIST.format(n=n, got=len(a)))
    return a


# --- the cohort's design matrix for the detector ---------------------------------------------------


def novelty_matrix(spec: CohortSpec, frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Numeric and binary features as they are; one 0/1 column per category (NaN when missing)."""
    cols, names = [], []
    for f in spec.features:
        col = frame[f.name]
        if f.type in ("numeric", "binary"):
            cols.append(col.astype(float).to_numpy())
            names.append(f.name)
        else:
            codes = pd.Categorical(col, categories=list(f.categories)).codes
            for k, cat in enumerate(f.categories):
                cols.append(np.where(codes < 0, np.nan, (codes == k).astype(float)))
                names.append(f"{f.name}={cat}")
    return np.column_stack(cols), names


def fit_novelty(spec: CohortSpec, frame: pd.DataFrame, calibration_rows: np.ndarray) -> NoveltyDetector:
    """Fitted on training rows outside ``calibration_rows``; threshold set on those held-out rows."""
    x, _ = novelty_matrix(spec, frame)
    return NoveltyDetector(target_rate=0.01).fit(x[~calibration_rows], x[calibration_rows])
