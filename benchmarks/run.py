"""Speed of the core engine, printed as one JSON object (never asserted in tests).

- time to train each bundled cohort (tuning + final fit), and to build its full bundle (plus test-split
  evaluation, bootstrap ensemble or conformal calibration, subgroup audit, novelty detector), single run;
- per-patient latency of the full `predict` report (every arm with intervals, explanations, comparison,
  representation and out-of-distribution warnings), median over many held-out patients, on one core.

Usage: python benchmarks/run.py [--cohorts actg175,colon,warfarin] [--patients 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from core.modeling.heldout import held_out_records  # noqa: E402
from core.modeling.bundle import load_bundle  # noqa: E402
from core.data.cohorts import load_cohort  # noqa: E402
from core.modeling.pipeline import build_bundle  # noqa: E402
from core.reporting.patient_report import predict_patient  # noqa: E402
from core.modeling.training import train  # noqa: E402


def bench_cohort(name: str, n_patients: int, workdir: str) -> dict:
    t0 = time.perf_counter()
    cohort = load_cohort(name)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    train(cohort)
    t_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path, _ = build_bundle(cohort, os.path.join(workdir, name))
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    bundle = load_bundle(path)
    t_bundle = time.perf_counter() - t0
    records = [{k: v for k, v in r.items() if k != "patient_id"} for r in held_out_records(bundle)][:n_patients]
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in records[:20]:  # warm-up
            predict_patient(bundle, r).to_dict()
        for r in records:
            t0 = time.perf_counter()
            predict_patient(bundle, r).to_dict()
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "cohort": name, "n_patients_in_cohort": cohort.n, "load_seconds": round(t_load, 3),
        "train_seconds": round(t_train, 2), "full_bundle_seconds": round(t_build, 2),
        "bundle_load_seconds": round(t_bundle, 3),
        "predict_ms_median": round(statistics.median(times), 2),
        "predict_ms_p95": round(times[int(0.95 * (len(times) - 1))], 2), "predict_runs": len(times),
        "predict_target_ms": 20, "trees": bundle.model.params.n_trees,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--cohorts", default="actg175,colon,warfarin")
    p.add_argument("--patients", type=int, default=300)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("EQUIPOISE_CACHE_DIR", os.path.join(tmp, "cache"))
        results = [bench_cohort(c, args.patients, tmp) for c in args.cohorts.split(",")]
    print(json.dumps({"benchmark": "core_engine", "machine": {"python": platform.python_version(),
                      "cpu_count": os.cpu_count()}, "results": results}, indent=2))


if __name__ == "__main__":
    main()
