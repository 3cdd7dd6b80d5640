"""The statistical test bench: simulated trials and doses with a known truth, through the full pipeline (issue 24).

Aims (Morris, White & Crowther, Stat Med 2019): do the per-patient 95% intervals on the difference between arms
cover the true difference, how often is a trial with identical arms called "clear", how often does a clear call
have the wrong sign, how much power is there for a true difference of 10 points, and do the dose intervals cover
in every predicted-dose band and race? Data-generating mechanisms, estimands and methods: ``core.simulation``.
Every run trains a sealed bundle with ``equipoise train --csv --spec`` and reports its held-out test split.

Targets (issue 24): null clear ≤ 5% of patients; wrong-sign ≤ 2.5% of clear calls; per-patient coverage ≥ 90%;
dose coverage ≥ 85% in every band and race with ≥ 50 patients. Each measure is a mean over seeds with its Monte
Carlo standard error (``_mcse``). Prints one JSON object; ``--out FILE`` also writes it (the docs' tables read it).

Usage: python benchmarks/simulation_report.py [--seeds 10] [--bases colon,actg175] [--dose-seeds 3] [--out F]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

from core.simulation import (SCENARIOS, run_doses, run_trial, simulate_doses, simulate_trial,  # noqa: E402
                             summarise_trials)

TARGETS = {"null_clear_max": 0.05, "wrong_sign_max": 0.025, "coverage_min": 0.90, "dose_coverage_min": 0.85}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--bases", default="colon,actg175")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--dose-seeds", type=int, default=3)
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    os.environ.setdefault("EQUIPOISE_CACHE_DIR", tempfile.mkdtemp(prefix="equipoise-sim-cache-"))
    out = {"targets": TARGETS, "trials": {}, "doses": None, "seconds": {}}
    for base in [b for b in args.bases.split(",") if b]:
        t0, runs = time.perf_counter(), []
        for scenario in [s for s in args.scenarios.split(",") if s]:
            for seed in range(1, args.seeds + 1):
                run = run_trial(simulate_trial(base, scenario, 1000 * SCENARIOS.index(scenario) + seed))
                runs.append(run)
                print(f"[sim] {base} {scenario} seed {seed}: clear {run.clear:.2f}, coverage {run.coverage:.2f}, "
                      f"{run.model}, {run.modelling}", file=sys.stderr, flush=True)
        summary = summarise_trials(runs)
        out["trials"][base] = {"summary": summary, "runs": [r.to_dict() for r in runs],
                               "targets_met": _targets(summary)}
        out["seconds"][base] = round(time.perf_counter() - t0, 1)
    if args.dose_seeds:
        t0 = time.perf_counter()
        runs = [run_doses(simulate_doses(seed)) for seed in range(1, args.dose_seeds + 1)]
        out["doses"] = {"summary": _dose_summary(runs), "runs": [r.to_dict() for r in runs]}
        out["seconds"]["warfarin_doses"] = round(time.perf_counter() - t0, 1)
    text = json.dumps(out, indent=1, allow_nan=False, default=float)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


def _targets(summary: dict) -> dict:
    met = {}
    if "null" in summary:
        met["null_clear"] = summary["null"]["clear"] <= TARGETS["null_clear_max"]
    wrong = [v["wrong_sign"] for k, v in summary.items() if k != "null" and v["wrong_sign"] is not None]
    met["wrong_sign"] = all(w <= TARGETS["wrong_sign_max"] for w in wrong)
    met["coverage"] = {k: v["coverage"] >= TARGETS["coverage_min"] for k, v in summary.items()}
    return met


def _dose_summary(runs) -> dict:
    def pool(key):
        groups = sorted({g for r in runs for g in getattr(r, key)})
        rows = {}
        for g in groups:
            n = sum(getattr(r, key)[g]["n"] for r in runs if g in getattr(r, key))
            cov = [getattr(r, key)[g]["coverage"] * getattr(r, key)[g]["n"] for r in runs
                   if g in getattr(r, key) and getattr(r, key)[g]["coverage"] is not None]
            rows[g] = {"n": n, "coverage": float(np.sum(cov) / n) if n else None,
                       "meets_target": (n < 50) or (float(np.sum(cov) / n) >= TARGETS["dose_coverage_min"])}
        return rows

    return {"n_seeds": len(runs), "coverage": float(np.mean([r.coverage for r in runs])),
            "mean_width": float(np.mean([r.mean_width for r in runs])), "by_predicted_band": pool("by_band"),
            "by_race": pool("by_race"), "n_without_interval": int(sum(r.n_without_interval for r in runs))}


if __name__ == "__main__":
    raise SystemExit(main())
