"""Dashboard speed, printed as JSON (never asserted in tests).

- what-if rerun: median wall time of an AppTest rerun after one slider change (target < 150 ms);
- cold start: `make run` until Streamlit's health endpoint answers, with bundles already on disk
  (target < 10 s).

Usage: python benchmarks/bench_ui.py [--reruns 30] [--skip-cold-start]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def whatif_rerun_ms(reruns: int) -> dict:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/what_if.py")
    at.run()
    times = []
    for i in range(reruns + 3):
        (weight,) = [s for s in at.slider if s.label.startswith("Weight")]
        weight.set_value(weight.min + (i % 20) * weight.step * 3)
        t0 = time.perf_counter()
        at.run()
        if i >= 3:  # warm-up
            times.append((time.perf_counter() - t0) * 1000)
    assert not at.exception, [e.value for e in at.exception]
    return {"median_ms": round(statistics.median(times), 1), "p90_ms": round(sorted(times)[int(0.9 * len(times))], 1),
            "reruns": len(times), "target_ms": 150}


def cold_start_s() -> dict:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    proc = subprocess.Popen(["make", "-s", "run", f"PORT={port}"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while time.perf_counter() - t0 < 120:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                    return {"seconds": round(time.perf_counter() - t0, 2), "target_s": 10, "command": "make run"}
            except OSError:
                time.sleep(0.1)
        return {"seconds": None, "error": "no answer within 120 s"}
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reruns", type=int, default=30)
    p.add_argument("--skip-cold-start", action="store_true")
    args = p.parse_args()
    from core.service import DEFAULT_COHORT, ensure_bundle

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ensure_bundle(DEFAULT_COHORT)  # bundles cached on disk first, as after a first start
        out = {"benchmark": "dashboard", "whatif_rerun": whatif_rerun_ms(args.reruns)}
    if not args.skip_cold_start:
        out["cold_start"] = cold_start_s()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
