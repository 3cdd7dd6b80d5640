"""How sure the bundled models are, on their held-out test splits (issue 24): one JSON object keyed by cohort.

Arm cohorts: the headline's states, per pair of arms the median width of the per-patient 95% interval and how many
test patients it separates (interval excluding zero), the model's average effect beside the trial's own
Kaplan–Meier estimate (training split), the modelling choice (risk or effect modelling) with its heterogeneity check,
the chosen model and its paired comparison with logistic regression. Dose cohort: the states, interval coverage by
race, by predicted-dose band and by the observed dose band, and the paired comparison with the baselines.

Usage: python benchmarks/uncertainty_report.py [BUNDLE_ROOT] [--out FILE]
(without BUNDLE_ROOT, fresh bundles are trained into a temporary folder)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

from core import service  # noqa: E402

COHORTS = ("actg175", "colon", "warfarin")


def _bundle(root: Path, name: str):
    path = root / name
    if not (path / "manifest.json").exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            service.train_bundle(service.load_cohort(name), path)
    return service.open_bundle(path)


def _reports(bundle) -> list[dict]:
    from core.scale.batch import report_columns_ignored, score_chunk

    records = service.held_out_patients(bundle)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = score_chunk(bundle, records, first_row=0, explanations=False, id_column="patient_id",
                          ignore=(*report_columns_ignored(bundle.spec), "patient_id"))
    return [r for r in out if "summary" in r]


def cohort_numbers(bundle) -> dict:
    reports = _reports(bundle)
    out = {"n_test": len(reports), "states": dict(Counter(r["summary"]["state"] for r in reports)),
           "evaluation": {"verdict": bundle.evaluation.verdict, "paired": bundle.evaluation.paired,
                          "model": bundle.evaluation.rows[0]["description"]}}
    if bundle.spec.is_dose:
        cov = bundle.uncertainty.test_coverage
        out["coverage"] = {"overall": cov["overall"], "by_race": cov["by_group"],
                           "by_predicted_band": cov["by_predicted_band"]["by_group"],
                           "by_observed_band": cov["by_observed_band"]["by_group"],
                           "mean_width_mg_per_week": cov["mean_width_mg_per_week"], "method": cov["method"],
                           "guarantee": cov["guarantee"]}
        return out
    pairs = {}
    for r in reports:
        for p in r["pairwise"]:
            key = f"{p['a']} vs {p['b']}"
            lo, hi = p["interval"]
            row = pairs.setdefault(key, {"widths": [], "separated": 0})
            row["widths"].append(hi - lo)
            row["separated"] += lo > 0 or hi < 0
    out["pairs"] = {k: {"median_width_points": round(100 * float(np.median(v["widths"])), 1),
                        "separated": v["separated"]} for k, v in pairs.items()}
    out["average_effect"] = bundle.uncertainty.average_effect
    out["heterogeneity"] = bundle.training.heterogeneity
    out["calibration_slope"] = {r["name"]: [r["calibration_slope"], r["calibration_slope_ci_low"],
                                            r["calibration_slope_ci_high"]] for r in bundle.evaluation.rows}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", nargs="?")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    root = Path(args.root) if args.root else Path(tempfile.mkdtemp(prefix="equipoise-bundles-"))
    result = {name: cohort_numbers(_bundle(root, name)) for name in COHORTS}
    text = json.dumps(result, indent=1, default=float)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
