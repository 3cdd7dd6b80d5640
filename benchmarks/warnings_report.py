"""How many warnings the held-out test patients of each bundled cohort get, printed as one JSON object.

    python benchmarks/warnings_report.py                         # trains the three bundles in a temp dir
    python benchmarks/warnings_report.py --bundles DIR           # reuses DIR/<cohort> (trains what is missing)
    python benchmarks/warnings_report.py --cohorts warfarin --patients 200

Per cohort: the subgroup audit's number of tests, how many are below alpha before and after the
multiplicity correction; then, over the held-out test patients' full reports (``predict_patient``),
the share with any ``worse_performance`` warning and, per patient, the median and maximum number of
warnings by severity: for the warnings ``core.fairness`` produces (underrepresented,
worse_performance, out_of_distribution) and for the whole report (other kinds without a
``severity`` are counted as "unrated"), plus high/medium banners once consolidated per kind.
Goal for the whole report: median <= 2 and max <= 4 high/medium warnings per patient.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.cohorts import load_cohort  # noqa: E402
from core.modeling.bundle import load_bundle  # noqa: E402
from core.modeling.heldout import held_out_records  # noqa: E402
from core.modeling.pipeline import build_bundle  # noqa: E402
from core.reporting.patient_report import predict_patient  # noqa: E402

FAIRNESS_KINDS = ("underrepresented", "worse_performance", "out_of_distribution")
SEVERITIES = ("high", "medium", "low", "unrated")


def _bundle(name: str, root: Path):
    out = root / name
    if not (out / "manifest.json").exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            build_bundle(load_cohort(name), out)
    return load_bundle(out)


def _summary(counts: list[int]) -> dict:
    return {"median": statistics.median(counts) if counts else 0, "max": max(counts, default=0),
            "mean": round(statistics.fmean(counts), 3) if counts else 0.0}


def report_cohort(name: str, root: Path, n_patients: int | None) -> dict:
    bundle = _bundle(name, root)
    settings = bundle.audit.settings
    records = held_out_records(bundle)[:n_patients]
    per_patient = collections.defaultdict(list)  # (scope, severity) -> counts per patient
    kinds = collections.Counter()
    any_worse = 0
    for record in records:
        pid = record.pop("patient_id")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = predict_patient(bundle, record, patient_id=pid).to_dict()["warnings"]
        any_worse += any(w["kind"] == "worse_performance" for w in found)
        for scope, chosen in (("fairness", [w for w in found if w["kind"] in FAIRNESS_KINDS]), ("report", found)):
            by = collections.Counter(w.get("severity") or "unrated" for w in chosen)
            for severity in SEVERITIES:
                per_patient[scope, severity].append(by[severity])
            per_patient[scope, "high_or_medium"].append(by["high"] + by["medium"])
            per_patient[scope, "high_or_medium_kinds"].append(
                len({w["kind"] for w in chosen if w.get("severity") in ("high", "medium")}))
        kinds.update(f"{w['kind']}:{w.get('severity') or 'unrated'}" for w in found)
    out = {"test_patients": len(records),
           "audit": {"tests": settings.get("n_tests"), "correction": settings.get("correction"),
                     "alpha": settings.get("alpha"), "flag_metrics": settings.get("flag_metrics"),
                     "below_alpha_before_correction": settings.get("n_below_alpha_uncorrected"),
                     "flagged_after_correction": len(bundle.audit.flagged()),
                     "flagged": [f"{f.attribute}={f.group}: {f.metric}" for f in bundle.audit.flagged()]},
           "share_with_worse_performance": round(any_worse / len(records), 4) if records else 0.0,
           "warnings_by_kind_and_severity": dict(sorted(kinds.items()))}
    for scope in ("fairness", "report"):
        out[f"per_patient_{scope}"] = {key: _summary(per_patient[scope, key])
                                       for key in SEVERITIES + ("high_or_medium", "high_or_medium_kinds")}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", default="actg175,colon,warfarin")
    parser.add_argument("--bundles", default=None, help="directory holding (or to receive) one bundle per cohort")
    parser.add_argument("--patients", type=int, default=None, help="first N held-out patients (default all)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.bundles or tmp)
        result = {name: report_cohort(name, root, args.patients) for name in args.cohorts.split(",")}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
