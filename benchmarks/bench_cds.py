"""CDS Hooks latency: median time of a patient-view call (FHIR mapping + report + card) beside the report alone.

Usage: python benchmarks/bench_cds.py [BUNDLE_ROOT] [--n 50]   Prints one JSON object. Goal: median <= 500 ms.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import service  # noqa: E402
from tests.test_cds_hooks import call, prefetch_for  # noqa: E402  (the same EHR request as the tests)


def main(argv: list[str]) -> int:
    n = int(argv[argv.index("--n") + 1]) if "--n" in argv else 50
    root = Path(next((a for a in argv if not a.startswith("--") and not a.isdigit()), tempfile.mkdtemp()))
    os.environ["EQUIPOISE_BUNDLE_DIR"] = str(root)
    from fastapi.testclient import TestClient

    bundle = service.ensure_bundle("warfarin")
    records = [{k: v for k, v in r.items() if k != "patient_id"} for r in service.held_out_patients(bundle)[:n]]
    # cards, not token checks, are measured here (a token check adds ~4 ms for ES384, <1 ms for RS384, measured under load)
    client = TestClient(service.cds_app(dashboard_url="http://localhost:8501", insecure_no_auth=True))
    card = client.post("/cds-services/warfarin", json=call(prefetch_for(records[0]))).json()["cards"][0]  # warm up
    if "mg/week" not in card["summary"]:
        raise SystemExit(f"the service did not answer with a dose card: {card['summary']!r} (retrain the bundle?)")
    calls, reports = [], []
    for r in records:
        body = call(prefetch_for(r))
        t = time.perf_counter()
        client.post("/cds-services/warfarin", json=body)
        calls.append(time.perf_counter() - t)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            service.predict(bundle, r)
        reports.append(time.perf_counter() - t)
    print(json.dumps({"cohort": "warfarin", "n": len(records),
                      "patient_view_median_ms": round(1000 * statistics.median(calls), 2),
                      "report_alone_median_ms": round(1000 * statistics.median(reports), 2),
                      "goal_ms": 500}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
