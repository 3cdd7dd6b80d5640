"""Performance metrics for honest test-split evaluation: pure numpy, weight-aware.

Every function takes the data first and ``sample_weight`` (keyword-only) after it. Weights matter:
survival outcomes are scored with inverse-probability-of-censoring weights, so some patients have
weight 0 (censored before the horizon: outcome unknown) and others a weight above 1.

A metric that is undefined on the data given (an AUC with a single class, a zero total weight)
returns ``nan`` rather than raising; malformed input (wrong lengths, negative weights, labels other
than 0/1) raises ``ValueError`` with a message that says what was expected and what arrived.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "roc_auc",
    "brier_score",
    "calibration_intercept_slope",
    "mean_absolute_error",
    "mean_error",
    "within_fraction",
    "c_for_benefit",
]

MSG_NOT_1D = "{name} must be a 1-D array with one value per patient. Got shape {shape} instead."
MSG_LENGTH = "{name} has {got} values but {first} has {n}: every argument needs one value per patient."
MSG_NOT_FINITE = "{name} must hold finite numbers. Got {value!r} at position {pos} instead."
MSG_NOT_BINARY = "{name} must hold only 0 and 1. Got {values} instead."
MSG_NOT_PROBABILITY = "{name} must hold probabilities in [0, 1]. Got {value!r} at position {pos} instead."
MSG_BAD_WEIGHT = "sample_weight must hold finite numbers >= 0. Got {value!r} at position {pos} instead."
MSG_BAD_TOLERANCE = (
    "The 'tolerance' parameter must be a number >= 0 (0.2 means within 20%). Got {value!r} instead."
)

_CLIP = 1e-6
_MAX_ITER = 100
_TOL = 1e-10


# --- validation helpers (also used by core.fairness) -------------------------------------------


def _as_1d_float(values, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raw = np.asarray(values, dtype=object).ravel()
        bad = next((v for v in raw if not _is_number(v)), raw[0] if raw.size else None)
        pos = next((i for i, v in enumerate(raw) if not _is_number(v)), 0)
        raise ValueError(MSG_NOT_FINITE.format(name=name, value=bad, pos=pos)) from None
    if arr.ndim != 1:
        raise ValueError(MSG_NOT_1D.format(name=name, shape=arr.shape))
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(MSG_NOT_FINITE.format(name=name, value=arr[bad[0]].item(), pos=int(bad[0])))
    return arr


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _check_length(arr: np.ndarray, n: int, name: str, first: str = "y_true") -> None:
    if arr.shape[0] != n:
        raise ValueError(MSG_LENGTH.format(name=name, got=arr.shape[0], first=first, n=n))


def _check_binary(y: np.ndarray, name: str = "y_true") -> None:
    bad = ~((y == 0) | (y == 1))
    if bad.any():
        values = ", ".join(repr(v) for v in np.unique(y[bad])[:5].tolist())
        raise ValueError(MSG_NOT_BINARY.format(name=name, values=values))


def _check_probability(p: np.ndarray, name: str = "y_prob") -> None:
    bad = np.flatnonzero((p < 0) | (p > 1))
    if bad.size:
        raise ValueError(MSG_NOT_PROBABILITY.format(name=name, value=p[bad[0]].item(), pos=int(bad[0])))


def _weights(sample_weight, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    w = _as_1d_float(sample_weight, "sample_weight")
    _check_length(w, n, "sample_weight")
    bad = np.flatnonzero(w < 0)
    if bad.size:
        raise ValueError(MSG_BAD_WEIGHT.format(value=w[bad[0]].item(), pos=int(bad[0])))
    return w


def _pair(y_true, y_other, other_name: str, sample_weight):
    y = _as_1d_float(y_true, "y_true")
    other = _as_1d_float(y_other, other_name)
    _check_length(other, y.shape[0], other_name)
    return y, other, _weights(sample_weight, y.shape[0])


def _weighted_mean(values: np.ndarray, w: np.ndarray) -> float:
    total = w.sum()
    return float(np.dot(values, w) / total) if total > 0 else float("nan")


# --- discrimination ------------------------------------------------------------------------------


def _concordant_weight(hi_score, hi_w, lo_score, lo_w) -> float:
    """Sum of ``hi_w[i] * lo_w[j]`` over pairs with ``hi_score[i] > lo_score[j]``, ties counting 1/2."""
    order = np.argsort(lo_score, kind="stable")
    sorted_lo = lo_score[order]
    cum = np.concatenate(([0.0], np.cumsum(lo_w[order])))
    below = cum[np.searchsorted(sorted_lo, hi_score, side="left")]
    through = cum[np.searchsorted(sorted_lo, hi_score, side="right")]
    return float(np.dot(hi_w, below + through) * 0.5)


def roc_auc(y_true, y_score, *, sample_weight=None) -> float:
    """Area under the ROC curve: P(score of a random event > score of a random non-event).

    Ties count 1/2 (the trapezoidal rule, as ``sklearn.metrics.roc_auc_score``). Weighted pairs
    count ``w_i * w_j``. Returns ``nan`` when either class has zero total weight.
    """
    y, s, w = _pair(y_true, y_score, "y_score", sample_weight)
    _check_binary(y)
    pos = y == 1
    w_pos, w_neg = w[pos].sum(), w[~pos].sum()
    if w_pos <= 0 or w_neg <= 0:
        return float("nan")
    return _concordant_weight(s[pos], w[pos], s[~pos], w[~pos]) / (w_pos * w_neg)


# --- calibration -------------------------------------------------------------------------------


def brier_score(y_true, y_prob, *, sample_weight=None) -> float:
    """Weighted mean squared difference between predicted probability and the 0/1 outcome."""
    y, p, w = _pair(y_true, y_prob, "y_prob", sample_weight)
    _check_binary(y)
    _check_probability(p)
    return _weighted_mean((p - y) ** 2, w)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _CLIP, 1 - _CLIP)
    return np.log(p) - np.log1p(-p)


def _expit(eta):
    return 0.5 * (1.0 + np.tanh(0.5 * eta))


def _logistic_state(eta, y, w) -> tuple[float, np.ndarray]:
    """Weighted log-likelihood and fitted probabilities at linear predictor ``eta`` (one exp)."""
    e = np.exp(-np.abs(eta))
    ll = float(np.dot(w, y * eta - np.maximum(eta, 0.0) - np.log1p(e)))
    mu = np.where(eta >= 0, 1.0, e) / (1.0 + e)
    return ll, mu


def fit_logistic(x, y, w, *, slope: bool, start=None) -> tuple[float, float]:
    """Weighted logistic regression of y on x by Newton's method with step halving.

    ``slope=True`` fits logit P(y=1) = a + b*x; ``slope=False`` fits a + x (offset, b fixed at 1).
    Returns ``(a, b)``; ``(nan, nan)`` when the fit does not converge (e.g. separated outcomes).
    """
    a, b = (0.0, 1.0) if start is None else start
    ll, mu = _logistic_state(a + b * x, y, w)
    xx = x * x if slope else None
    for _ in range(_MAX_ITER):
        r, v = w * (y - mu), w * mu * (1 - mu)
        if slope:
            g = np.array([r.sum(), np.dot(r, x)])
            vx = np.dot(v, x)
            h = np.array([[v.sum(), vx], [vx, np.dot(v, xx)]])
            try:
                step = np.linalg.solve(h, g)
            except np.linalg.LinAlgError:
                return float("nan"), float("nan")
        else:
            vs = v.sum()
            if vs <= 0:
                return float("nan"), float("nan")
            step = np.array([r.sum() / vs, 0.0])
        for _ in range(30):  # step halving keeps the log-likelihood from decreasing
            a_new, b_new = a + step[0], b + step[1]
            ll_new, mu_new = _logistic_state(a_new + b_new * x, y, w)
            if ll_new >= ll - 1e-12 * abs(ll):
                break
            step = step / 2
        a, b, ll, mu = a_new, b_new, ll_new, mu_new
        if np.max(np.abs(step)) < _TOL * (1 + abs(a) + abs(b)):
            return float(a), float(b)
    return float("nan"), float("nan")


def _calibration_fit(y, p, w) -> tuple[float, float, float]:
    """``(intercept, slope_model_a, slope_model_b)`` for already-validated arrays."""
    if w[y == 1].sum() <= 0 or w[y == 0].sum() <= 0:
        return float("nan"), float("nan"), float("nan")
    keep = w > 0
    x, y, w = _logit(p[keep]), y[keep], w[keep]
    intercept, _ = fit_logistic(x, y, w, slope=False)
    a, b = fit_logistic(x, y, w, slope=True)
    return intercept, a, b


def calibration_intercept_slope(y_true, y_prob, *, sample_weight=None) -> tuple[float, float]:
    """Calibration-in-the-large and calibration slope of predicted probabilities.

    slope: ``b`` of the weighted logistic regression ``logit P(y=1) = a + b * logit(p)``.
    intercept: ``a`` of ``logit P(y=1) = a + logit(p)`` (offset, slope fixed at 1). Perfect
    calibration is intercept 0, slope 1; a slope below 1 means predictions too extreme.
    ``p`` is clipped to [1e-6, 1 - 1e-6]. Fitted by Newton's method (IRLS) with step halving;
    ``(nan, nan)`` when only one class has weight or the fit does not converge.
    """
    y, p, w = _pair(y_true, y_prob, "y_prob", sample_weight)
    _check_binary(y)
    _check_probability(p)
    intercept, _, slope = _calibration_fit(y, p, w)
    return intercept, slope


# --- continuous outcomes (e.g. a weekly warfarin dose) -------------------------------------------


def mean_absolute_error(y_true, y_pred, *, sample_weight=None) -> float:
    """Weighted mean of ``|y_pred - y_true|``."""
    y, p, w = _pair(y_true, y_pred, "y_pred", sample_weight)
    return _weighted_mean(np.abs(p - y), w)


def mean_error(y_true, y_pred, *, sample_weight=None) -> float:
    """Weighted mean of ``y_pred - y_true`` (signed: positive means over-prediction)."""
    y, p, w = _pair(y_true, y_pred, "y_pred", sample_weight)
    return _weighted_mean(p - y, w)


def within_mask(y: np.ndarray, p: np.ndarray, tolerance: float) -> np.ndarray:
    return (np.abs(p - y) <= tolerance * np.abs(y) * (1 + 1e-12)).astype(np.float64)


def within_fraction(y_true, y_pred, *, tolerance=0.2, sample_weight=None) -> float:
    """Weighted share of patients with ``|y_pred - y_true| <= tolerance * |y_true|``.

    With the default 0.2 this is the warfarin-dosing literature's "% of patients within 20% of the
    actual dose".
    """
    if not _is_number(tolerance) or isinstance(tolerance, bool) or not (float(tolerance) >= 0):
        raise ValueError(MSG_BAD_TOLERANCE.format(value=tolerance))
    y, p, w = _pair(y_true, y_pred, "y_pred", sample_weight)
    return _weighted_mean(within_mask(y, p, float(tolerance)), w)


# --- heterogeneous treatment effect ----------------------------------------------------------------


def c_for_benefit(predicted_benefit, treated, y_true, *, sample_weight=None, seed=0) -> float:
    """C-statistic for benefit (van Klaveren et al., J Clin Epidemiol 2018;94:59-68).

    ``treated`` is True for the arm being compared and False for the reference arm; ``y_true`` is
    the binary bad outcome; ``predicted_benefit`` is predicted risk under the reference arm minus
    predicted risk under the treatment arm (positive: the treatment helps).

    Patients with ``sample_weight == 0`` (outcome unknown) are excluded first. The larger arm is
    subsampled at random (``seed``) to the size of the smaller; each arm is sorted by predicted
    benefit and patients are paired in rank order. A pair's predicted benefit is the mean of its
    two patients'; its observed benefit is ``y_reference - y_treated`` in {-1, 0, 1}. The result is
    the concordance of predicted and observed pair benefit over pairs of pairs with unequal
    observed benefit, ties in prediction counting 1/2. Positive weights enter as pair weights
    ``w_treated * w_reference`` (so inverse-probability-of-censoring weights keep the estimate
    unbiased); with equal weights this is the unweighted statistic. Returns ``nan`` with fewer than
    2 pairs or no pairs of pairs with unequal observed benefit.
    """
    b = _as_1d_float(predicted_benefit, "predicted_benefit")
    n = b.shape[0]
    t = _as_1d_float(treated, "treated")
    _check_length(t, n, "treated", first="predicted_benefit")
    _check_binary(t, "treated")
    y = _as_1d_float(y_true, "y_true")
    _check_length(y, n, "y_true", first="predicted_benefit")
    _check_binary(y)
    w = _weights(sample_weight, n)

    usable = w > 0
    idx_t = np.flatnonzero(usable & (t == 1))
    idx_r = np.flatnonzero(usable & (t == 0))
    m = min(idx_t.size, idx_r.size)
    if m < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    if idx_t.size > m:
        idx_t = np.sort(rng.choice(idx_t, size=m, replace=False))
    elif idx_r.size > m:
        idx_r = np.sort(rng.choice(idx_r, size=m, replace=False))
    idx_t = idx_t[np.argsort(b[idx_t], kind="stable")]
    idx_r = idx_r[np.argsort(b[idx_r], kind="stable")]

    pair_pred = (b[idx_t] + b[idx_r]) / 2
    pair_obs = y[idx_r] - y[idx_t]
    pair_w = w[idx_t] * w[idx_r]
    concordant = comparable = 0.0
    for hi, lo in ((1, 0), (1, -1), (0, -1)):
        h, l_ = pair_obs == hi, pair_obs == lo
        if h.any() and l_.any():
            concordant += _concordant_weight(pair_pred[h], pair_w[h], pair_pred[l_], pair_w[l_])
            comparable += pair_w[h].sum() * pair_w[l_].sum()
    return concordant / comparable if comparable > 0 else float("nan")
