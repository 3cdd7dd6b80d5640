"""Dashboard speed in a real browser (Playwright + Debian's Chromium), printed as JSON (never asserted in tests).

Three actions of issue 29, each timed ``--samples`` times after warm-up, median and p95 in milliseconds:

- ``what_if_slider``: on the What-if page, one step of a slider (keyboard) until the first risk on screen changes
  (and, under ``run_ended``, until the script run that changed it has ended: every figure drawn);
- ``patient_switch``: on the Patient page, another held-out patient chosen in the sidebar until the page names
  the new patient and the script run has ended (everything drawn);
- ``deep_link``: a new browser session opening ``/?cohort=colon&patient=ID`` until the headline is shown and the
  script run has ended.

Each sits beside its **floor**, measured in the same run: the same action on a page with nothing but the widget
and one number (``st.slider`` + ``st.metric``, ``st.selectbox`` + ``st.caption``), served by a second Streamlit
server on the same machine. The floor is what Streamlit and the browser cost on their own; the difference is ours.

The dashboard runs with ``streamlit run app.py --server.headless true`` on a free loopback port, a temporary
EQUIPOISE_DATA_DIR (a fresh audit log) and the colon bundle in ``--bundle-dir`` (trained there once with
``equipoise train --cohort colon --out DIR/colon`` if missing).

Usage: python benchmarks/bench_browser.py [--samples 15] [--bundle-dir .equipoise_cache/bench_bundles] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", "--no-first-run"]
COHORT = "colon"
SLIDER = "Positive lymph nodes"  # colon: a strong predictor, so every step moves the risk shown
GOALS_MS = {"what_if_slider": 200, "patient_switch": 500, "deep_link": 1500}
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
FLOOR_APP = '''import streamlit as st
v = st.slider("Floor slider", 0, 30, 5, key="x")
st.metric("Floor value", f"{v}")
p = st.selectbox("Floor patient", [str(i) for i in range(300)], key="p")
st.caption(f"Floor patient {p} shown")
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _server(script: Path, env: dict):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"streamlit did not start for {script}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _ensure_bundle(bundle_dir: Path, env: dict) -> list[str]:
    """The colon bundle in ``bundle_dir`` (trained once if missing); returns held-out patient ids."""
    if not (bundle_dir / COHORT).exists():
        print(f"[bench] training the {COHORT} bundle into {bundle_dir} (once)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "core.cli", "train", "--cohort", COHORT, "--out",
                        str(bundle_dir / COHORT)], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    code = ("import json, sys; from core import service; b = service.open_bundle(sys.argv[1]); "
            "print(json.dumps([p['patient_id'] for p in service.held_out_patients(b)]))")
    out = subprocess.run([sys.executable, "-c", code, str(bundle_dir / COHORT)], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return [str(p) for p in json.loads(out.splitlines()[-1])]


def _summary(times: list[float]) -> dict:
    times = sorted(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {"median_ms": round(statistics.median(times)), "p95_ms": round(p95), "n": len(times)}


def _timed(samples: int, warmup: int, action) -> list[float]:
    out = []
    for i in range(warmup + samples):
        ms = action(i)
        if i >= warmup:
            out.append(ms)
    return out


# --- the actions ----------------------------------------------------------------------------------
def _slider_steps(page, label: str, metric_index: int, samples: int, warmup: int) -> tuple[list[float], list[float]]:
    """(until the number changed, until the run that changed it ended) per slider step, in ms."""
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text=label).locator('input[type="range"]')
    metric = page.locator('[data-testid="stMetricValue"]').nth(metric_index)
    done = []

    def step(i: int) -> float:
        page.wait_for_selector(IDLE)
        before = metric.inner_text()
        thumb.focus()
        t0 = time.perf_counter()
        thumb.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")  # back and forth: always a new value
        page.wait_for_function("([el, before]) => el.innerText !== before", arg=[metric.element_handle(), before])
        shown = (time.perf_counter() - t0) * 1000
        page.wait_for_selector(IDLE)
        done.append((time.perf_counter() - t0) * 1000)
        return shown

    shown = _timed(samples, warmup, step)
    return shown, done[warmup:]


def _choose(page, box_label: str, value: str) -> None:
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=box_label)
    box.click()
    page.keyboard.type(value)
    page.locator('[role="option"]').filter(has_text=value).first.wait_for()


def _switches(page, box_label: str, shown, values: list[str], samples: int, warmup: int) -> list[float]:
    def switch(i: int) -> float:
        value = values[i % len(values)]
        page.wait_for_selector(IDLE)
        _choose(page, box_label, value)
        t0 = time.perf_counter()
        page.keyboard.press("Enter")
        page.get_by_text(shown(value), exact=False).first.wait_for()
        page.wait_for_selector(IDLE)
        return (time.perf_counter() - t0) * 1000

    return _timed(samples, warmup, switch)


def _deep_links(browser, url_of, ready: str, values: list[str], samples: int, warmup: int) -> list[float]:
    def open_link(i: int) -> float:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        try:
            t0 = time.perf_counter()
            page.goto(url_of(values[i % len(values)]))
            page.wait_for_selector(ready)
            page.wait_for_selector(IDLE)
            return (time.perf_counter() - t0) * 1000
        finally:
            context.close()

    return _timed(samples, warmup, open_link)


def measure(app_url: str, floor_url: str, patients: list[str], samples: int, warmup: int) -> dict:
    from playwright.sync_api import sync_playwright

    ids = patients[1:1 + max(samples + warmup, 4)]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(120_000)
        floor = browser.new_page(viewport={"width": 1280, "height": 900})
        floor.set_default_timeout(60_000)
        floor.goto(floor_url)
        floor.get_by_text("Floor patient 0 shown").wait_for()
        result = {}

        # what-if slider (the colon features are all locked until unlocked)
        page.goto(f"{app_url}/what_if?cohort={COHORT}&patient={patients[0]}")
        page.get_by_text("Unlock immutable features").wait_for()
        page.wait_for_selector(IDLE)
        page.get_by_text("Unlock immutable features").click()
        page.locator('[data-testid="stSlider"]').filter(has_text=SLIDER).locator(
            'input[type="range"]:not([disabled])').wait_for(state="attached")
        page.wait_for_selector(IDLE)
        shown, done = _slider_steps(page, SLIDER, 0, samples, warmup)
        floor_shown, floor_done = _slider_steps(floor, "Floor slider", 0, samples, warmup)
        result["what_if_slider"] = {**_summary(shown), "floor": _summary(floor_shown),
                                    "run_ended": {**_summary(done), "floor": _summary(floor_done)}}

        # patient switch on the Patient page
        page.goto(f"{app_url}/?cohort={COHORT}&patient={patients[0]}")
        page.get_by_text(f"Test patient {patients[0]}").first.wait_for()
        result["patient_switch"] = {
            **_summary(_switches(page, "Held-out patient", lambda v: f"Test patient {v} ·", ids, samples, warmup)),
            "floor": _summary(_switches(floor, "Floor patient", lambda v: f"Floor patient {v} shown",
                                        [str(i) for i in range(1, 40)], samples, warmup))}

        # deep link in a new session
        result["deep_link"] = {
            **_summary(_deep_links(browser, lambda v: f"{app_url}/?cohort={COHORT}&patient={v}",
                                   '[data-testid="stMain"] h4', ids, samples, warmup)),
            "floor": _summary(_deep_links(browser, lambda v: floor_url, '[data-testid="stMetricValue"]', ids,
                                          samples, warmup))}
        browser.close()
    for name, row in result.items():
        row["above_floor_ms"] = row["median_ms"] - row["floor"]["median_ms"]
        row["goal_median_ms"] = GOALS_MS[name]
        row["meets_goal"] = row["median_ms"] <= GOALS_MS[name]
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--bundle-dir", type=Path, default=ROOT / ".equipoise_cache" / "bench_bundles")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "browser.json")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    bundle_dir = args.bundle_dir.resolve()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "EQUIPOISE_DATA_DIR": data_dir, "EQUIPOISE_BUNDLE_DIR": str(bundle_dir),
               "PYTHONPATH": str(ROOT)}
        patients = _ensure_bundle(bundle_dir, env)
        floor_script = Path(data_dir) / "floor_page.py"
        floor_script.write_text(FLOOR_APP, encoding="utf-8")
        with _server(ROOT / "app.py", env) as app_url, _server(floor_script, env) as floor_url:
            result = {"what": "real browser (Chromium, Playwright), milliseconds; floor = the same action on a "
                              "one-widget Streamlit page served alongside, in the same run",
                      "cohort": COHORT, "cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
                      **measure(app_url, floor_url, patients, args.samples, args.warmup)}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
