"""Federated training over the IWPC sites on Flower (issue 28): the four-regime table and the wall time, as JSON.

Runs ``core.federated.run_federated_comparison`` (Flower's simulation engine, one virtual SuperNode per site) with
the default settings, and beside it, in the same run, the floor: the wall time of fitting the same two models
pooled on one machine (the linear model and the boosted trees with the same settings). Writes one JSON object:
``{settings, overall, regimes: [...rows...], training, linear_coefficients, wall_seconds, floor_seconds, ...}``.

Usage: python benchmarks/federated_report.py [--rounds 40] [--n-boot 500] [--out benchmarks/results/federated.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

from core._json import jsonable  # noqa: E402
from core.federated import (DEFAULT_ROUNDS, LINEAR_MODEL, TREE_MODEL, TreeSettings, bundled_partition,  # noqa: E402
                            feature_matrix, fit_pooled, fit_trees, run_federated_comparison)


def floor_seconds(rounds: int) -> float:
    """Both models fitted pooled on this machine (what federation costs on top of plain training)."""
    cohort, part = bundled_partition("warfarin")
    train = ~part.held_out
    frame, dose = cohort.frame, cohort.frame["dose_mg_per_week"].to_numpy(float)
    t0 = time.perf_counter()
    linear = fit_pooled(frame[train], dose[train])
    x, names = feature_matrix(cohort.spec, frame)
    fit_trees(x[train], np.sqrt(dose[train]), names, TreeSettings(rounds=rounds),
              offset=linear.predict_sqrt(frame[train]))
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    ap.add_argument("--n-boot", type=int, default=500)
    ap.add_argument("--out", default="benchmarks/results/federated.json")
    args = ap.parse_args()
    say = lambda m: print(f"[federated] {m}", file=sys.stderr, flush=True)  # noqa: E731
    report = run_federated_comparison("warfarin", rounds=args.rounds, n_boot=args.n_boot, progress=say)
    d = report.to_dict()
    overall = d["overall"]
    trees = overall.get(TREE_MODEL, {})
    gap = None
    if trees:
        gap = {"federated_mae": trees["federated"], "pooled_mae": trees["pooled"],
               "relative_gap": trees["federated"] / trees["pooled"] - 1.0,
               "within_5_percent": bool(trees["federated"] <= 1.05 * trees["pooled"])}
    out = {"benchmark": "federated training over the IWPC sites (Flower simulation engine)",
           "cpus": os.cpu_count(), "rounds": args.rounds, "n_boot": args.n_boot,
           "wall_seconds": d["wall_seconds"], "training_seconds": d["training"]["training_seconds"],
           "floor_seconds": round(floor_seconds(args.rounds), 2),
           "floor": "the same linear model and trees fitted pooled on this machine, same run",
           "overall": overall, "trees_vs_pooled": gap,
           "linear_equals_pooled_max_abs_difference": d["linear_coefficients"]["max_abs_difference"],
           "regimes": d["rows"], "sites": d["sites"], "training": d["training"], "notes": d["notes"]}
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(jsonable(out), fh, indent=2, allow_nan=False)
    print(json.dumps(jsonable({k: out[k] for k in ("wall_seconds", "floor_seconds", "overall", "trees_vs_pooled",
                                                   "linear_equals_pooled_max_abs_difference")}), indent=2))
    print(f"[federated] {LINEAR_MODEL} and {TREE_MODEL} table written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
