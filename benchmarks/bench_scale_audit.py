"""The partition-wise subgroup audit at population scale (JSON): 1M predictions against fairlearn, then 100M on Dask.

1. One million synthetic predictions (``bench_audit.synthetic_cohort``: race x sex, a planted noisier group),
   200 resamples: the partition-wise audit in this process and on a local Dask cluster, beside fairlearn's
   ``MetricFrame`` with the same metrics and bootstrap (fairlearn timed on ``--fairlearn-boot`` resamples and
   extrapolated linearly to 200, as ``bench_audit.py`` does; its cost per resample is constant).
2. ``--rows`` (default 100 million) predictions generated partition-wise on the Dask workers (1M rows per
   partition, from a seed per partition: the rows never exist in one place, nor on disk), race x sex, 200
   resamples: wall time and peak memory (resident memory of the client and every worker process, sampled
   every 0.2 s, summed). It first measures ``--pilot-rows`` (10M) and extrapolates; when the extrapolated time
   exceeds ``--max-minutes`` (20), it stops there and reports the pilot and the extrapolation, labelled so.

Usage: python benchmarks/bench_scale_audit.py [--rows 100000000] [--pilot-rows 10000000] [--workers 2]
                                              [--skip-1m] [--max-minutes 20]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from bench_audit import run_fairlearn, synthetic_cohort  # noqa: E402
from core.scale import audit_local  # noqa: E402
from core.scale.partitioned import AuditLayout, add_sums, audit_from_sums, partition_sums  # noqa: E402

PARTITION_ROWS = 1_000_000
N_BOOT = 200


class PeakMemory:
    """Peak of the summed resident memory of this process and its children (the Dask workers)."""

    def __init__(self, every: float = 0.2):
        import psutil

        self.me, self.every, self.peak, self._stop = psutil.Process(), every, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            total = 0
            for p in [self.me, *self.me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except Exception:  # a process that just ended
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def generated_partition(index: int, rows: int, seed: int):
    """Partition ``index`` of the synthetic population: (y, score, {race, sex}), from (seed, index) only."""
    y, score, groups = synthetic_cohort(rows, seed=seed * 1_000_003 + index)
    return y.astype(float), score, {"race": groups["race"].to_numpy(), "sex": groups["sex"].to_numpy()}


def _partition_task(layout, index, rows, seed, n_boot):
    y, p, groups = generated_partition(index, rows, seed)
    return partition_sums(layout, y, p, groups, index * PARTITION_ROWS, n_boot=n_boot, seed=seed)


def _labels_task(index, rows, seed):
    _y, _p, groups = generated_partition(index, rows, seed)
    return {a: set(map(str, np.unique(v))) for a, v in groups.items()}


def audit_generated(client, total_rows: int, *, seed: int = 0, n_boot: int = N_BOOT):
    """The Dask audit of ``total_rows`` generated rows; returns (audit, seconds, peak bytes)."""
    sizes = [min(PARTITION_ROWS, total_rows - s) for s in range(0, total_rows, PARTITION_ROWS)]
    with PeakMemory() as mem:
        start = time.perf_counter()
        values = client.gather([client.submit(_labels_task, i, r, seed, pure=False) for i, r in enumerate(sizes)])
        attributes = ["race", "sex"]
        labels = tuple(tuple(sorted(set().union(*(v[a] for v in values)))) for a in attributes)
        layout = AuditLayout(tuple(attributes), labels, True)
        futures = [client.submit(_partition_task, layout, i, r, seed, n_boot, pure=False) for i, r in enumerate(sizes)]
        while len(futures) > 1:
            futures = [client.submit(add_sums, futures[i], futures[i + 1]) if i + 1 < len(futures) else futures[i]
                       for i in range(0, len(futures), 2)]
        hist, sums = futures[0].result()
        audit = audit_from_sums(layout, hist, sums, n_boot=n_boot, seed=seed)
        seconds = time.perf_counter() - start
    return audit, seconds, mem.peak


def bench_1m(client, fairlearn_boot: int) -> dict:
    n = 1_000_000
    y, score, groups = synthetic_cohort(n, seed=0)
    cols = {"race": groups["race"].to_numpy(), "sex": groups["sex"].to_numpy()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        local = audit_local(y.astype(float), score, cols, partition_rows=250_000, n_boot=N_BOOT, seed=0)
        t_local = time.perf_counter() - start
        dask_audit, t_dask, peak = audit_generated_1m(client, y, score, cols)
        t_point, _ = run_fairlearn(y, score, groups, 0, 0)
        t_boot, _ = run_fairlearn(y, score, groups, fairlearn_boot, 0)
    per = max(t_boot - t_point, 0.0) / fairlearn_boot
    fair = t_point + per * N_BOOT
    same = json.dumps(local.to_dict(), sort_keys=True) == json.dumps(dask_audit.to_dict(), sort_keys=True)
    return {"rows": n, "n_boot": N_BOOT, "groups": len(local.groups),
            "partitioned_local_seconds": round(t_local, 2), "partitioned_dask_seconds": round(t_dask, 2),
            "dask_peak_memory_mib": round(peak / 2**20), "fairlearn_seconds": round(fair, 2),
            "fairlearn_extrapolated_from_resamples": fairlearn_boot,
            "speedup_vs_fairlearn_local": round(fair / t_local, 1),
            "dask_equals_local_exactly": same,
            "flagged": [f"{f.attribute}={f.group}: {f.metric}" for f in local.flagged()]}


def audit_generated_1m(client, y, score, cols):
    """The 1M arrays cut into four partitions, scattered, audited on the cluster."""
    rows = 250_000
    with PeakMemory() as mem:
        start = time.perf_counter()
        labels = tuple(tuple(sorted(set(map(str, np.unique(cols[a]))))) for a in ("race", "sex"))
        layout = AuditLayout(("race", "sex"), labels, True)
        parts = []
        for s in range(0, len(y), rows):
            data = client.scatter((y[s:s + rows].astype(float), score[s:s + rows],
                                   {a: v[s:s + rows] for a, v in cols.items()}))
            parts.append(client.submit(lambda d, s=s: partition_sums(layout, d[0], d[1], d[2], s, n_boot=N_BOOT,
                                                                     seed=0), data, pure=False))
        sums = client.submit(lambda *xs: xs, *parts).result()
        total = sums[0]
        for x in sums[1:]:
            total = add_sums(total, x)
        audit = audit_from_sums(layout, *total, n_boot=N_BOOT, seed=0)
        seconds = time.perf_counter() - start
    return audit, seconds, mem.peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--pilot-rows", type=int, default=10_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--max-minutes", type=float, default=20)
    ap.add_argument("--fairlearn-boot", type=int, default=3)
    ap.add_argument("--skip-1m", action="store_true")
    args = ap.parse_args()
    from distributed import Client, LocalCluster

    out = {"benchmark": "scale_audit", "cpu_count": os.cpu_count(), "dask_workers": args.workers}
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        if not args.skip_1m:
            out["one_million"] = bench_1m(client, args.fairlearn_boot)
        pilot_rows = min(args.pilot_rows, args.rows)
        audit, seconds, peak = audit_generated(client, pilot_rows)
        out["pilot"] = {"rows": pilot_rows, "n_boot": N_BOOT, "seconds": round(seconds, 1),
                        "peak_memory_mib": round(peak / 2**20), "rows_per_second": round(pilot_rows / seconds)}
        estimate = seconds * args.rows / pilot_rows
        if args.rows > pilot_rows and estimate <= 60 * args.max_minutes:
            audit, seconds, peak = audit_generated(client, args.rows)
            out["full"] = {"rows": args.rows, "n_boot": N_BOOT, "seconds": round(seconds, 1), "measured": True,
                           "peak_memory_mib": round(peak / 2**20), "rows_per_second": round(args.rows / seconds)}
        elif args.rows > pilot_rows:
            out["full"] = {"rows": args.rows, "n_boot": N_BOOT, "measured": False,
                           "seconds_extrapolated_linearly_from_pilot": round(estimate, 1),
                           "note": f"not run: the pilot extrapolates to {estimate / 60:.0f} min, over the "
                                   f"{args.max_minutes:g}-minute budget; memory does not grow with the rows "
                                   "(per-partition sums of fixed size), so the pilot's peak applies"}
        out["groups"] = len(audit.groups)
        out["flagged"] = [f"{f.attribute}={f.group}: {f.metric}" for f in audit.flagged()]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
