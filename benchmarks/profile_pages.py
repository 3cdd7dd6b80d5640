"""Where a rerun of the What-if and Patient pages spends its time: cProfile over AppTest reruns, top entries as JSON.

Four actions, each profiled over ``--reruns`` reruns after warm-up: a what-if slider change, switching the
held-out patient on the Patient page, the same switch on the What-if page, and a deep link (a new session's first
run of the Patient page, server caches warm). Prints
``{action: {median_ms, top: [{function, cumulative_ms_per_rerun, own_ms_per_rerun, calls}]}}``.

Usage: EQUIPOISE_BUNDLE_DIR=DIR EQUIPOISE_DATA_DIR=TMP python benchmarks/profile_pages.py [--cohort colon]
(the bundle DIR/COHORT must exist: ``equipoise train --cohort colon --out DIR/colon``).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _open(page: str, cohort: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["cohort"] = cohort  # a deep link: the default cohort's bundle is never needed
    at.run()
    at.switch_page(page)
    at.run()
    if at.toggle:  # What if: unlock every feature (colon's are all locked by default)
        at.toggle[0].set_value(True)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _profile(at, change, reruns: int, top: int) -> dict:
    for i in range(2):  # warm-up
        change(at, i)
        at.run()
    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner

    prof, times, original = cProfile.Profile(), [], ScriptRunner._run_script

    def profiled(self, rerun_data):  # the script runs in its own thread: profile that thread
        prof.enable()
        try:
            return original(self, rerun_data)
        finally:
            prof.disable()

    ScriptRunner._run_script = profiled
    try:
        for i in range(reruns):
            change(at, i + 2)
            t0 = time.perf_counter()
            at.run()
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        ScriptRunner._run_script = original
    assert not at.exception, [e.value for e in at.exception]
    return _report(prof, times, reruns, top)


def _report(prof, times: list[float], reruns: int, top: int) -> dict:
    stats = pstats.Stats(prof)
    rows = []
    for (file, line, fn), (cc, nc, tt, ct, _) in stats.stats.items():
        where = file.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
        rows.append({"function": f"{where}:{line}({fn})", "cumulative_ms_per_rerun": round(1000 * ct / reruns, 1),
                     "own_ms_per_rerun": round(1000 * tt / reruns, 1), "calls": nc})
    by_cum = sorted(rows, key=lambda r: -r["cumulative_ms_per_rerun"])
    by_own = sorted(rows, key=lambda r: -r["own_ms_per_rerun"])
    ours = [r for r in by_cum if r["function"].startswith(("pages/", "core/", "app.py"))]
    return {"median_ms": round(statistics.median(times), 1), "reruns": reruns,
            "top_cumulative": by_cum[:top], "top_own": by_own[:top], "top_ours": ours[:top]}


def _profile_new_sessions(cohort: str, reruns: int, top: int) -> dict:
    """A deep link: a new session's first run of ``/?cohort=COHORT&patient=ID`` (server caches warm)."""
    from streamlit.testing.v1 import AppTest
    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner

    prof, times, original = cProfile.Profile(), [], ScriptRunner._run_script

    def profiled(self, rerun_data):
        prof.enable()
        try:
            return original(self, rerun_data)
        finally:
            prof.disable()

    first = _open("pages/patient.py", cohort)
    ids = first.sidebar.selectbox(key="w.test_id").options[1:reruns + 3]
    for i, pid in enumerate(ids):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.query_params["cohort"], at.query_params["patient"] = cohort, pid
        if i >= 2:
            ScriptRunner._run_script = profiled
        t0 = time.perf_counter()
        try:
            at.run()
        finally:
            ScriptRunner._run_script = original
        if i >= 2:
            times.append((time.perf_counter() - t0) * 1000)
        assert not at.exception, [e.value for e in at.exception]
    return _report(prof, times, reruns, top)


def _slider(at, i: int) -> None:
    s = [s for s in at.slider if not s.disabled][0]
    s.set_value(min(s.max, s.min + (i % 7 + 1) * s.step))  # a new value each time (i counts up)


def _patient(at, i: int) -> None:
    box = at.sidebar.selectbox(key="w.test_id")
    box.set_value(box.options[(i + 1) % min(len(box.options), 20)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cohort", default="colon")
    ap.add_argument("--reruns", type=int, default=10)
    ap.add_argument("--top", type=int, default=60)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    import warnings

    warnings.simplefilter("ignore")
    out = {
        "what_if_slider": _profile(_open("pages/what_if.py", args.cohort), _slider, args.reruns, args.top),
        "patient_switch": _profile(_open("pages/patient.py", args.cohort), _patient, args.reruns, args.top),
        "what_if_patient_switch": _profile(_open("pages/what_if.py", args.cohort), _patient, args.reruns, args.top),
        "deep_link_new_session": _profile_new_sessions(args.cohort, args.reruns, args.top),
    }
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
