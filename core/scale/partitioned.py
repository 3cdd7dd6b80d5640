"""The subgroup audit computed partition by partition: rows never meet in one process.

Three steps, each of which a Dask cluster (:mod:`.distributed`) or this process runs the same way:

1. :func:`discover_labels` — each partition's distinct group values, united (so every partition codes
   groups alike); :class:`AuditLayout` then names every cell: the whole sample, each group, each group of
   each pairwise intersection.
2. :func:`partition_sums` — each partition's sufficient statistics under Poisson bootstrap weights
   (:mod:`.sufficient`); they are added up (in any order: addition is exact enough to give the same
   numbers to ~1e-15, and the weights do not depend on the partitioning).
3. :func:`audit_from_sums` — every metric of every cell and resample, each group against the rest (the
   whole sample minus the group), one-sided p-values, the same multiplicity correction as the in-memory
   audit (:func:`core.fairness.audit_subgroups`, Holm by default) and the same result object.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ..fairness import (AUDIT_FORMAT_VERSION, BINARY_METRICS, FLAG_METRICS, INTERSECTION_SEPARATOR, REGRESSION_METRICS,
                       GroupResult, SubgroupAudit, adjust_p_values, comparison, insufficient, metric_value, min_sizes)
from . import sufficient as _s

BOOTSTRAP = ("Poisson bootstrap, partition-wise: each row gets an independent Poisson(1) weight per resample, drawn "
             "by (seed, row position); percentile intervals; AUC and calibration from scores binned on "
             f"the logit scale ({_s.N_BINS} bins on [-{_s.LOGIT_RANGE:g}, {_s.LOGIT_RANGE:g}])")
BOOTSTRAP_REGRESSION = ("Poisson bootstrap, partition-wise: each row gets an independent Poisson(1) weight per resample, "
                        "drawn by (seed, row position); percentile intervals; every metric from exact weighted sums")
TASKS = ("binary", "regression")


@dataclass(frozen=True)
class AuditLayout:
    """Every cell of the audit: index 0 the whole sample, then each attribute's groups (labels sorted), then
    each pairwise intersection's groups (first attribute's order, then the second's)."""

    attributes: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...]
    intersections: bool = True

    @property
    def partitions(self) -> list[tuple[str, int, int]]:
        """(attribute name, first cell, number of cells) of the whole sample, each attribute, each intersection."""
        out, start = [("overall", 0, 1)], 1
        for a, labels in zip(self.attributes, self.labels):
            out.append((a, start, len(labels)))
            start += len(labels)
        if self.intersections:
            for (a, la), (b, lb) in itertools.combinations(zip(self.attributes, self.labels), 2):
                out.append((f"{a}{INTERSECTION_SEPARATOR}{b}", start, len(la) * len(lb)))
                start += len(la) * len(lb)
        return out

    @property
    def n_cells(self) -> int:
        name, start, size = self.partitions[-1]
        return start + size

    def cells(self) -> list[tuple[str, str]]:
        out = [("overall", "overall")]
        for a, labels in zip(self.attributes, self.labels):
            out += [(a, g) for g in labels]
        if self.intersections:
            for (a, la), (b, lb) in itertools.combinations(zip(self.attributes, self.labels), 2):
                out += [(f"{a}{INTERSECTION_SEPARATOR}{b}", f"{g}{INTERSECTION_SEPARATOR}{h}") for g in la for h in lb]
        return out

    @property
    def n_fine(self) -> int:
        """Cells of the full cross-product of the attributes (each row is in exactly one)."""
        return int(np.prod([len(labels) for labels in self.labels]))

    def fine_cells_of(self, groups: dict[str, np.ndarray]) -> np.ndarray:
        """Each row's cell in the cross-product of every attribute (mixed radix of its groups' positions)."""
        code = None
        for a, labels in zip(self.attributes, self.labels):
            index = {g: i for i, g in enumerate(labels)}
            c = np.fromiter((index[str(v)] for v in groups[a]), dtype=np.int64, count=len(groups[a]))
            code = c if code is None else code * len(labels) + c
        return code

    def aggregation(self) -> np.ndarray:
        """(cells x fine cells) 0/1: which cross-product cells make up each cell of :meth:`cells`."""
        digits = np.indices([len(labels) for labels in self.labels]).reshape(len(self.labels), -1)
        rows = [np.ones(self.n_fine, dtype=bool)]
        for i, labels in enumerate(self.labels):
            rows += [digits[i] == g for g in range(len(labels))]
        if self.intersections:
            for i, j in itertools.combinations(range(len(self.labels)), 2):
                rows += [(digits[i] == g) & (digits[j] == h) for g in range(len(self.labels[i]))
                         for h in range(len(self.labels[j]))]
        return np.array(rows, dtype=np.float64)


def discover_labels(value_sets: list[dict[str, set]], attributes: list[str]) -> tuple[tuple[str, ...], ...]:
    """The sorted union of every partition's distinct values, per attribute (as the audit sorts labels)."""
    return tuple(tuple(sorted(set().union(*(v[a] for v in value_sets)))) for a in attributes)


def partition_values(groups: dict[str, np.ndarray], attributes: list[str]) -> dict[str, set]:
    return {a: {str(v) for v in np.unique(np.asarray(groups[a]).astype(str))} for a in attributes}


def partition_sums(layout: AuditLayout, y: np.ndarray, p: np.ndarray, groups: dict[str, np.ndarray],
                   first_row: int, *, n_boot: int, seed: int, chunk_rows: int = 50_000, task: str = "binary"):
    """One partition's sums per cross-product cell (rows ``first_row`` … of the whole data), in chunks.
    ``task="regression"`` (continuous outcomes): no histogram (an empty one), the regression sums."""
    cells = layout.fine_cells_of(groups)
    if task == "regression":
        sums = np.zeros((layout.n_fine, _s.R_STATS, n_boot + 1))
        for s in range(0, len(y), chunk_rows):
            rows = slice(s, s + chunk_rows)
            sums += _s.regression_chunk_sums(np.asarray(y[rows], float), np.asarray(p[rows], float), cells[rows],
                                             layout.n_fine, first_row + s, n_boot=n_boot, seed=seed)
        return np.zeros((layout.n_fine, 0)), sums
    hist = np.zeros((layout.n_fine, 2, _s.N_BINS, n_boot + 1))
    sums = np.zeros((layout.n_fine, _s.N_STATS, n_boot + 1))
    for s in range(0, len(y), chunk_rows):
        rows = slice(s, s + chunk_rows)
        h, t = _s.chunk_sums(np.asarray(y[rows], float), np.asarray(p[rows], float), cells[rows], layout.n_fine,
                             first_row + s, n_boot=n_boot, seed=seed)
        hist += h
        sums += t
    return hist, sums


def add_sums(a, b):
    return a[0] + b[0], a[1] + b[1]


def audit_from_sums(layout: AuditLayout, hist: np.ndarray, sums: np.ndarray, *, n_boot: int, seed: int,
                    confidence: float = 0.95, alpha: float = 0.05, correction: str = "holm",
                    min_group_size=None, task: str = "binary") -> SubgroupAudit:
    """The audit from the added-up sums of every partition (unweighted; binary or continuous outcomes)."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}. Got {task!r} instead.")
    names = BINARY_METRICS if task == "binary" else REGRESSION_METRICS
    minimum = min_sizes(task, min_group_size)
    all_cells = layout.cells()
    agg = layout.aggregation()  # every cell's sums from the cross-product cells' sums
    hist = np.tensordot(agg, hist, axes=(1, 0))
    sums = np.tensordot(agg, sums, axes=(1, 0))
    counts = sums[:, 0, 0]
    keep = [0] + [i for i in range(1, len(all_cells)) if counts[i] > 0]  # only groups that occur
    # complements: the whole sample minus each group (additive sums)
    h = np.concatenate([hist[keep], hist[[0]] - hist[keep[1:]]])
    t = np.concatenate([sums[keep], sums[[0]] - sums[keep[1:]]])
    values = _s.metrics_from_sums(h, t) if task == "binary" else _s.regression_metrics_from_sums(t)
    point, reasons = [], []
    for i in range(len(t)):
        n_i = int(round(t[i, 0, 0]))
        events = int(round(t[i, 1, 0])) if task == "binary" else 0
        why = insufficient(task, {"n": n_i, "events": events, "non-events": n_i - events}, minimum, names)
        point.append({m: float(values[m][i, 0]) for m in names})
        for m in names:
            if why[m] is None and not math.isfinite(point[-1][m]):
                why[m] = "not estimable in this group"
        reasons.append(why)
    replicates = {m: values[m][:, 1:].T for m in names} if n_boot > 0 else None
    cells = [all_cells[i] for i in keep]
    n_cells, tail = len(cells), (1 - confidence) / 2
    testing = FLAG_METRICS[task]
    compared = {(i, m): comparison(m, i, n_cells + i - 1, point, reasons, replicates, tail, tested=m in testing)
                for i in range(1, n_cells) for m in names}
    family = [k for k, c in compared.items() if c is not None and c["p"] is not None]
    adjusted = dict(zip(family, adjust_p_values([compared[k]["p"] for k in family], correction)))
    tests = {k: (float(adjusted[k]), correction, bool(adjusted[k] < alpha)) for k in family}
    n = int(round(counts[0]))
    overall = {m: metric_value(m, 0, point, reasons, replicates, tail) for m in names}
    groups = []
    for i in range(1, n_cells):
        attribute, label = cells[i]
        mvs = {m: metric_value(m, i, point, reasons, replicates, tail, compared[i, m], tests.get((i, m))) for m in names}
        n_g = int(round(t[i, 0, 0]))
        groups.append(GroupResult(attribute, label, n_g, n_g / n, mvs, None, None))
    settings = {
        "version": AUDIT_FORMAT_VERSION, "task": task, "n_boot": n_boot, "seed": seed, "confidence": float(confidence),
        "min_sizes": minimum, "intersections": layout.intersections, "attributes": list(layout.attributes),
        "weighted": False, "bootstrap": BOOTSTRAP if task == "binary" else BOOTSTRAP_REGRESSION,
        "comparison": "each group against the rest of the audited patients (its complement)",
        "p_value": "one-sided z test of 'group worse than the rest' with the bootstrap standard error",
        "flag_metrics": list(testing), "correction": correction, "alpha": float(alpha), "n_tests": len(family),
        "n_below_alpha_uncorrected": int(sum(compared[k]["p"] < alpha for k in family)),
        "n_flagged": int(sum(v[2] for v in tests.values())),
    }
    return SubgroupAudit(n=n, overall=overall, groups=tuple(groups), settings=settings)


def audit_local(y: np.ndarray, p: np.ndarray, groups: dict[str, np.ndarray], *, partition_rows: int,
                n_boot: int = 200, seed: int = 0, intersections: bool = True, task: str = "binary",
                **options) -> SubgroupAudit:
    """The partition-wise audit in this process, the data cut into partitions of ``partition_rows`` rows
    (the reference the Dask run must equal)."""
    attributes = list(groups)
    bounds = [(s, min(s + partition_rows, len(y))) for s in range(0, len(y), partition_rows)]
    part = lambda s, e: {a: np.asarray(groups[a])[s:e] for a in attributes}  # noqa: E731
    labels = discover_labels([partition_values(part(s, e), attributes) for s, e in bounds], attributes)
    layout = AuditLayout(tuple(attributes), labels, intersections)
    total = None
    for s, e in bounds:
        sums = partition_sums(layout, y[s:e], p[s:e], part(s, e), s, n_boot=n_boot, seed=seed, task=task)
        total = sums if total is None else add_sums(total, sums)
    return audit_from_sums(layout, *total, n_boot=n_boot, seed=seed, task=task, **options)
