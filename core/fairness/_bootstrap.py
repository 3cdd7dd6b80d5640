"""Bootstrap replicates of every subgroup metric at once, without materialising resamples.

Private engine behind :func:`core.fairness.audit_subgroups`.

A resample is a vector of multinomial counts ``c`` (how often each patient was drawn when ``n``
patients are drawn with replacement from ``n``): exactly the classic whole-sample bootstrap, as
``DataFrame.sample(frac=1, replace=True)``. Counts are drawn one resample after another from one
``numpy.random.Generator``, so results depend on the seed only, not on the chunking. Resamples are
processed in chunks of ``k`` count vectors (a ``k x n`` uint8 matrix) to bound memory.

Per partition of the patients (the whole sample, one attribute, one intersection):

* patients are laid out once, sorted by (group, score) and split into the larger outcome class
  ``A`` and the smaller class ``B``, so each group is a contiguous block;
* every ratio-of-sums metric (outcome rate, mean prediction, Brier, coverage, MAE, ...) is a
  matrix product ``counts[:, block] @ features[block]`` per group;
* the AUC of every group and resample comes from a running sum of class-``A`` counts (integer,
  exact, when unweighted) read at each class-``B`` patient's precomputed rank, ties counting 1/2;
* the calibration intercept and slope are refitted in every resample: by Newton iterations
  (vectorised over the resamples, warm-started at the full-sample fit, iterated to convergence)
  for groups of up to ``EXACT_CALIBRATION_MAX_N`` patients; for larger groups by two Newton steps
  from the full-sample fit, the second with the score expanded to second order around that fit,
  so that every sum involved is linear in the counts (matrix products again). The error of this
  approximation is O(n^-3/2) against an O(n^-1/2) bootstrap spread: about 2% of the spread at
  n = 2,000 and far less above 10,000 (``tests/test_subgroups_bootstrap.py`` checks it).

Memory: per partition, 17 float64 summands per patient (7 for regression) are kept for the whole
run (136 bytes per patient and partition), plus the chunk's work arrays (``_Workspace``). With
``CHUNK_CELLS`` = 16e6, one million patients, race x sex (4 partitions) peak at about 1.3 GiB.
BLAS is held to one thread while the engine runs (see ``_single_threaded_blas``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..evaluation.metrics import _expit, _logit, within_mask

EXACT_CALIBRATION_MAX_N = 10_000
CHUNK_CELLS = 16_000_000  # resamples x patients held at once (~0.5 GiB of work arrays)
_NEWTON_MAX_ITER = 30
_NEWTON_TOL = 1e-9

# feature columns (already multiplied by the sample weight)
(_B_W, _B_Y, _B_P, _B_SQ, _B_COV, _B_RS, _B_RSX, _B_VS, _B_VSX, _B_VSXX, _B_RI, _B_VI,
 _B_QS0, _B_QS1, _B_QS2, _B_QS3, _B_QI) = range(17)
_R_W, _R_Y, _R_ERR, _R_ABS, _R_WITHIN, _R_COV, _R_REL = range(7)


@dataclass
class _Group:
    gid: int  # global group index
    a: tuple[int, int]  # [start, stop) in the class-A block
    b: tuple[int, int]  # [start, stop) in the class-B block (offset by n_a in the layout)
    exact_calibration: bool
    approx_calibration: bool
    rows: np.ndarray | None = None  # the members' columns in the layout (exact calibration only)
    xyw: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # members' logit(p), y, w


class _Plan:
    """One partition's layout: member order, group blocks, AUC ranks and feature matrix."""

    def __init__(self, codes, n_groups, offset, data, calibrate, swap):
        member = np.flatnonzero(codes >= 0)
        order = member[np.lexsort((data.pred[member], codes[member]))]
        if data.task == "binary":
            in_a = data.y[order] == (1.0 if swap else 0.0)
        else:
            in_a = np.ones(order.size, dtype=bool)
        idx_a, idx_b = order[in_a], order[~in_a]
        self.index = np.concatenate([idx_a, idx_b])
        self.n_a = idx_a.size
        edges = np.arange(n_groups + 1)
        bounds_a = np.searchsorted(codes[idx_a], edges)
        bounds_b = np.searchsorted(codes[idx_b], edges)
        self.bounds_a, self.bounds_b = bounds_a, bounds_b
        self.gids = offset + np.arange(n_groups)

        # rank of every class-B patient among its group's class-A patients
        score_a, score_b = data.pred[idx_a], data.pred[idx_b]
        self.lo = np.empty(idx_b.size, dtype=np.intp)
        self.hi = np.empty(idx_b.size, dtype=np.intp)
        for g in range(n_groups):
            a0, a1, b0, b1 = bounds_a[g], bounds_a[g + 1], bounds_b[g], bounds_b[g + 1]
            self.lo[b0:b1] = a0 + np.searchsorted(score_a[a0:a1], score_b[b0:b1], side="left")
            self.hi[b0:b1] = a0 + np.searchsorted(score_a[a0:a1], score_b[b0:b1], side="right")

        params = np.zeros((n_groups, 3))
        start = calibrate[self.gids]
        params[np.isfinite(start).all(axis=1)] = start[np.isfinite(start).all(axis=1)]
        self.features = data.features(self.index, params[codes[self.index]])
        self.w_a = None if data.w is None else data.w[idx_a]
        self.w_b = None if data.w is None else data.w[idx_b]

        self.groups = []
        for g, gid in enumerate(self.gids):
            n_g = bounds_a[g + 1] - bounds_a[g] + bounds_b[g + 1] - bounds_b[g]
            calibrated = bool(np.isfinite(calibrate[gid]).all())
            exact = calibrated and n_g <= EXACT_CALIBRATION_MAX_N
            group = _Group(int(gid), (bounds_a[g], bounds_a[g + 1]), (bounds_b[g], bounds_b[g + 1]),
                           exact, calibrated and not exact)
            if exact:
                group.rows = self._rows(group)
                who = self.index[group.rows]
                w = np.ones(who.size) if data.w is None else data.w[who]
                group.xyw = (data.x[who], data.y[who], w)
            self.groups.append(group)

    def _rows(self, group: _Group) -> np.ndarray:
        return np.r_[group.a[0]:group.a[1], self.n_a + group.b[0]:self.n_a + group.b[1]]


@dataclass
class _Data:
    task: str
    y: np.ndarray
    pred: np.ndarray
    w: np.ndarray | None
    covered: np.ndarray | None
    tolerance: float

    def __post_init__(self):
        self.x = _logit(self.pred) if self.task == "binary" else None

    def features(self, idx: np.ndarray, params: np.ndarray) -> np.ndarray:
        """``(n_features, len(idx))``: each patient's summands, times its weight.

        Built in blocks of patients so that temporaries stay small (and in cache)."""
        n_features = 17 if self.task == "binary" else 7
        out = np.empty((n_features, idx.size))
        for start in range(0, idx.size, 1 << 16):
            block = slice(start, start + (1 << 16))
            self._features_block(out[:, block], idx[block], params[block])
        return out

    def _features_block(self, out, idx, params) -> None:
        y, p = self.y[idx], self.pred[idx]
        out[0] = 1.0
        out[1] = y
        cov = 0.0 if self.covered is None else self.covered[idx]
        if self.task == "regression":
            out[2] = p - y
            out[3] = np.abs(out[2])
            out[4] = within_mask(y, p, self.tolerance)
            out[5] = cov
            out[6] = np.divide(out[3], y, out=np.zeros_like(y), where=y > 0)  # relative error (y > 0)
        else:
            x = self.x[idx]
            out[2] = p
            out[3] = (p - y) ** 2
            out[4] = cov
            mu = _expit(params[:, 1] + params[:, 2] * x)  # slope model at the full-sample fit
            v = mu * (1 - mu)
            q = v * (1 - 2 * mu)  # d^2 mu / d eta^2
            out[5] = y - mu
            out[6] = out[5] * x
            out[7] = v
            out[8] = v * x
            out[9] = out[8] * x
            out[12] = q
            out[13] = q * x
            out[14] = out[13] * x
            out[15] = out[14] * x
            mu = _expit(params[:, 0] + x)  # intercept model (offset logit p)
            v = mu * (1 - mu)
            out[10] = y - mu
            out[11] = v
            out[16] = v * (1 - 2 * mu)
        if self.w is not None:
            out *= self.w[idx]


def draw_counts(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """``k`` whole-sample bootstrap resamples of ``n`` patients as a ``(k, n)`` count matrix."""
    rows = [np.bincount(rng.integers(0, n, size=n), minlength=n) for _ in range(k)]
    dtype = np.uint8 if max(int(r.max()) for r in rows) <= 255 else np.int32
    return np.stack([r.astype(dtype) for r in rows])


def bootstrap_replicates(
    *,
    task: str,
    y: np.ndarray,
    pred: np.ndarray,
    partitions: Sequence[np.ndarray],
    n_groups: Sequence[int],
    calibration_start: np.ndarray,
    n_boot: int,
    seed: int,
    sample_weight: np.ndarray | None = None,
    covered: np.ndarray | None = None,
    tolerance: float = 0.2,
    chunk_size: int | None = None,
) -> dict[str, np.ndarray]:
    """Every metric of every group in each of ``n_boot`` whole-sample resamples.

    ``partitions[p]`` gives each patient's group code in partition ``p`` (``-1``: left out, e.g. a
    group too small to report); group ``g`` of partition ``p`` has the global index
    ``sum(n_groups[:p]) + g``. ``calibration_start`` is ``(n_total_groups, 3)``: the full-sample
    (intercept, slope-model a, slope-model b) of each group whose calibration is bootstrapped,
    ``nan`` for the others. Returns ``{metric: (n_boot, n_total_groups) array}``, ``nan`` where a
    metric is undefined in a resample or not requested.
    """
    n = y.size
    n_total = int(np.sum(n_groups))
    data = _Data(task, y, pred, sample_weight, covered, tolerance)
    swap = task == "binary" and np.count_nonzero(y == 1) > np.count_nonzero(y == 0)
    offsets = np.concatenate([[0], np.cumsum(n_groups)[:-1]]).astype(int)
    plans = [_Plan(codes, int(g), int(off), data, calibration_start, swap)
             for codes, g, off in zip(partitions, n_groups, offsets)]

    n_features = 17 if task == "binary" else 7
    sums = np.full((n_boot, n_total, n_features), np.nan)
    auc = np.full((n_boot, n_total), np.nan)
    exact_cal = np.full((n_boot, n_total, 2), np.nan)  # (intercept, slope)

    k_max = chunk_size or max(1, min(64, CHUNK_CELLS // max(n, 1)))
    work = _Workspace(min(k_max, n_boot), n, weighted=sample_weight is not None)
    rng = np.random.default_rng(seed)
    with _single_threaded_blas():
        for start in range(0, n_boot, k_max):
            k = min(k_max, n_boot - start)
            counts = draw_counts(rng, n, k)
            rows = slice(start, start + k)
            for plan in plans:
                layout = work.take(counts, plan.index)
                dense = work.as_float(layout)
                for group in plan.groups:
                    a, b = group.a, (plan.n_a + group.b[0], plan.n_a + group.b[1])
                    sums[rows, group.gid] = (dense[:, a[0]:a[1]] @ plan.features[:, a[0]:a[1]].T
                                             + dense[:, b[0]:b[1]] @ plan.features[:, b[0]:b[1]].T)
                    if group.exact_calibration:
                        exact_cal[rows, group.gid] = _calibration_batch(
                            dense[:, group.rows], *group.xyw, calibration_start[group.gid])
                if task == "binary":
                    auc[rows, plan.gids] = _auc_chunk(plan, layout, dense, swap, work)
    return _finish(task, sums, auc, exact_cal, calibration_start, plans)


class _Workspace:
    """Work arrays allocated once and reused for every chunk and partition.

    Large fresh arrays cost a page fault per 4 KiB on every allocation; reusing them keeps the
    engine's time in arithmetic (and its peak memory fixed: about 30 bytes, 40 with sample
    weights, per patient and resample of a chunk).
    """

    def __init__(self, k: int, n: int, *, weighted: bool):
        self.layout = np.empty(k * n, dtype=np.uint8)
        self.dense = np.empty(k * n, dtype=np.float64)
        exact = np.int32 if n < 2**30 else np.int64  # running sums of counts are at most n
        self.cum = np.empty(k * (n + 1), dtype=np.float64 if weighted else exact)
        self.lo = np.empty(k * n, dtype=self.cum.dtype)
        self.hi = np.empty(k * n, dtype=self.cum.dtype)
        self.pairs = np.empty(k * n, dtype=np.float64 if weighted else np.int64)

    @staticmethod
    def view(buffer: np.ndarray, k: int, m: int) -> np.ndarray:
        return buffer[: k * m].reshape(k, m)

    def take(self, counts: np.ndarray, index: np.ndarray) -> np.ndarray:
        if counts.dtype != np.uint8:  # a count above 255: astronomically rare, no buffer
            return np.take(counts, index, axis=1)
        out = self.view(self.layout, counts.shape[0], index.size)
        return np.take(counts, index, axis=1, out=out, mode="clip")

    def as_float(self, layout: np.ndarray) -> np.ndarray:
        out = self.view(self.dense, *layout.shape)
        np.copyto(out, layout, casting="unsafe")
        return out


class _single_threaded_blas:
    """Run BLAS on one thread: the engine's many thin matrix products gain nothing from threads,
    and multi-threaded OpenBLAS slows down by an order of magnitude when other processes compete
    for the cores (its threads spin while waiting)."""

    def __enter__(self):
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            self._limits = None
            return self
        self._limits = threadpool_limits(limits=1, user_api="blas")
        return self

    def __exit__(self, *exc):
        if self._limits is not None:
            self._limits.restore_original_limits()
        return False


def _auc_chunk(plan: _Plan, layout: np.ndarray, dense: np.ndarray, swap: bool,
               work: _Workspace) -> np.ndarray:
    """AUC of each group of ``plan`` in each resample of the chunk: ``(k, n_groups)``.

    ``sum_B w_B * (W_A below + W_A tied / 2)`` per group, from a running sum of class-A weights
    read at each class-B patient's precomputed rank. With sample weights, ``dense`` (the counts
    as floats) is overwritten.
    """
    k, n_a = layout.shape[0], plan.n_a
    n_b = layout.shape[1] - n_a
    cum = work.view(work.cum, k, n_a + 1)
    cum[:, 0] = 0
    lo, hi = work.view(work.lo, k, n_b), work.view(work.hi, k, n_b)
    pairs = work.view(work.pairs, k, n_b)
    if plan.w_a is None:  # exact integer arithmetic
        np.cumsum(layout[:, :n_a], axis=1, dtype=cum.dtype, out=cum[:, 1:])
        weight_b = layout[:, n_a:]
    else:
        weight_a, weight_b = dense[:, :n_a], dense[:, n_a:]
        np.multiply(weight_a, plan.w_a, out=weight_a)
        np.multiply(weight_b, plan.w_b, out=weight_b)
        np.cumsum(weight_a, axis=1, out=cum[:, 1:])
    np.take(cum, plan.lo, axis=1, out=lo, mode="clip")
    np.take(cum, plan.hi, axis=1, out=hi, mode="clip")
    np.add(lo, hi, out=lo)
    np.multiply(lo, weight_b, out=pairs, dtype=pairs.dtype)
    total_b = _segment_sum(weight_b, plan.bounds_b).astype(np.float64)
    start_a = cum[:, plan.bounds_a[:-1]].astype(np.float64)
    total_a = cum[:, plan.bounds_a[1:]].astype(np.float64) - start_a
    below = 0.5 * _segment_sum(pairs, plan.bounds_b).astype(np.float64) - total_b * start_a
    with np.errstate(divide="ignore", invalid="ignore"):
        share = below / (total_a * total_b)
    return 1.0 - share if swap else share


def _segment_sum(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Row sums of ``values[:, bounds[g]:bounds[g+1]]`` for every g (empty segments give 0)."""
    lengths = np.diff(bounds)
    out = np.zeros((values.shape[0], lengths.size), dtype=np.result_type(values, np.int64))
    nonempty = lengths > 0
    if nonempty.any():
        out[:, nonempty] = np.add.reduceat(values, bounds[:-1][nonempty], axis=1)
    return out


def _calibration_batch(counts, x, y, w, start) -> np.ndarray:
    """Exact (intercept, slope) for each row of ``counts``: Newton iterations vectorised over rows,
    warm-started at the full-sample fit; rows that do not converge are refitted one by one."""
    weights = counts * w
    intercept, _, ok_i = _newton_rows(weights, x, y, (start[0], 1.0), slope=False)
    _, slope, ok_s = _newton_rows(weights, x, y, (start[1], start[2]), slope=True)
    from ..evaluation.metrics import fit_logistic

    for i in np.flatnonzero(~(ok_i & ok_s)):  # rare: near-separated resamples of a small group
        keep = weights[i] > 0
        if not ok_i[i]:
            intercept[i] = fit_logistic(x[keep], y[keep], weights[i][keep], slope=False)[0]
        if not ok_s[i]:
            slope[i] = fit_logistic(x[keep], y[keep], weights[i][keep], slope=True)[1]
    return np.column_stack([intercept, slope])


def _newton_rows(weights, x, y, start, *, slope: bool):
    """Weighted logistic fits ``logit P(y=1) = a + b*x`` (b fixed at 1 unless ``slope``), one per row."""
    k = weights.shape[0]
    a, b = np.full(k, float(start[0])), np.full(k, float(start[1]))
    done = np.zeros(k, dtype=bool)
    for _ in range(_NEWTON_MAX_ITER):
        mu = _expit(a[:, None] + b[:, None] * x)
        r = weights * (y - mu)
        v = weights * mu * (1 - mu)
        with np.errstate(divide="ignore", invalid="ignore"):
            if slope:
                g0, g1, h00, h01, h11 = r.sum(axis=1), r @ x, v.sum(axis=1), v @ x, v @ (x * x)
                det = h00 * h11 - h01 * h01
                d_a = np.clip((h11 * g0 - h01 * g1) / det, -5, 5)
                d_b = np.clip((h00 * g1 - h01 * g0) / det, -5, 5)
            else:
                d_a, d_b = np.clip(r.sum(axis=1) / v.sum(axis=1), -5, 5), np.zeros(k)
        a, b = a + d_a, b + d_b
        done = np.abs(d_a) + np.abs(d_b) < _NEWTON_TOL * (1 + np.abs(a) + np.abs(b))
        if done.all():
            break
    return a, b, done


def _finish(task, sums, auc, exact_cal, calibration_start, plans) -> dict[str, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        w = sums[..., 0]
        ratio = lambda col: sums[..., col] / w  # noqa: E731
        if task == "regression":
            return {"mae": ratio(_R_ABS), "mean_error": ratio(_R_ERR), "within_20": ratio(_R_WITHIN),
                    "mean_outcome": ratio(_R_Y), "coverage": ratio(_R_COV), "mape": ratio(_R_REL)}
        # Newton step from the full-sample fit, then a second step whose score is expanded to
        # second order around the full-sample fit (so it, too, is linear in the counts).
        g0, g1 = sums[..., _B_RS], sums[..., _B_RSX]
        h00, h01, h11 = sums[..., _B_VS], sums[..., _B_VSX], sums[..., _B_VSXX]
        det = h00 * h11 - h01 * h01
        d_a = (h11 * g0 - h01 * g1) / det
        d_b = (h00 * g1 - h01 * g0) / det
        q0, q1, q2, q3 = (sums[..., c] for c in (_B_QS0, _B_QS1, _B_QS2, _B_QS3))
        u0 = -0.5 * (d_a * d_a * q0 + 2 * d_a * d_b * q1 + d_b * d_b * q2)
        u1 = -0.5 * (d_a * d_a * q1 + 2 * d_a * d_b * q2 + d_b * d_b * q3)
        approx_slope = calibration_start[:, 2] + d_b + (h00 * u1 - h01 * u0) / det
        d_i = sums[..., _B_RI] / sums[..., _B_VI]
        approx_intercept = (calibration_start[:, 0] + d_i
                            - 0.5 * d_i * d_i * sums[..., _B_QI] / sums[..., _B_VI])
        linear = {"brier": ratio(_B_SQ), "outcome_rate": ratio(_B_Y), "mean_predicted": ratio(_B_P),
                  "coverage": ratio(_B_COV)}
    intercept, slope = exact_cal[..., 0].copy(), exact_cal[..., 1].copy()
    for plan in plans:
        for group in plan.groups:
            if group.approx_calibration:
                intercept[:, group.gid] = approx_intercept[:, group.gid]
                slope[:, group.gid] = approx_slope[:, group.gid]
    return {"auc": auc, "brier": linear["brier"], "calibration_intercept": intercept,
            "calibration_slope": slope, "outcome_rate": linear["outcome_rate"],
            "mean_predicted": linear["mean_predicted"], "coverage": linear["coverage"]}
