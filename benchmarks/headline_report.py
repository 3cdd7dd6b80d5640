"""Issue 8 numbers on the held-out test split: summary states, warnings per patient by severity, banners.

Usage: python benchmarks/headline_report.py [BUNDLE_ROOT]   (default: train fresh bundles into a temp folder)
Prints one JSON object keyed by cohort.
"""

from __future__ import annotations

import json
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from core import service
from core.reporting.banners import digest

COHORTS = ("actg175", "colon", "warfarin")


def _bundle(root: Path, name: str):
    path = root / name
    if not (path / "manifest.json").exists():
        service.train_bundle(service.load_cohort(name) if hasattr(service, "load_cohort") else name, path)
    return service.open_bundle(path)


def cohort_numbers(bundle) -> dict:
    states, high_medium, kinds_any, banners, text_pct = Counter(), [], Counter(), [], 0
    records = service.held_out_patients(bundle)
    for r in records:
        pid = r["patient_id"]
        record = {k: v for k, v in r.items() if k != "patient_id"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rep = service.predict(bundle, record, patient_id=pid)
        d = rep.to_dict()
        states[d["summary"]["state"]] += 1
        if d["summary"]["state"] == "insufficient_evidence" and "%" in d["summary"]["text"]:
            text_pct += 1
        ws = d["warnings"]
        high_medium.append(sum(w["severity"] in ("high", "medium") for w in ws))
        for k in {w["kind"] for w in ws}:
            kinds_any[k] += 1
        fold = ("insufficient_evidence",) if d["summary"]["state"] == "insufficient_evidence" else ()
        banners.append(len(digest(ws, fold=fold).banners))
    n = len(records)
    hm = np.array(high_medium)
    return {"n_test": n, "summary_states": {k: {"n": v, "share": round(v / n, 4)} for k, v in sorted(states.items())},
            "insufficient_texts_with_a_percentage": text_pct,
            "high_medium_warnings_per_patient": {"median": float(np.median(hm)), "max": int(hm.max()),
                                                 "mean": round(float(hm.mean()), 3)},
            "share_with_warning_kind": {k: round(v / n, 4) for k, v in sorted(kinds_any.items())},
            "banners_per_patient": {"median": float(np.median(banners)), "max": int(max(banners))}}


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="equipoise-bench-"))
    out = {}
    for name in COHORTS:
        out[name] = cohort_numbers(_bundle(root, name))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
