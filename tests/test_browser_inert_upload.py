"""Real browser: text from an uploaded CSV (its cells and its file name) is shown literally, never as Markdown or HTML.

A local HTTP listener stands in for an attacker's server. The CSV's cells carry an image, a link, bold, LaTeX and a raw
<img> tag aimed at it, in numeric fields so the refusal messages quote them; the file name carries Markdown too. The
test checks that the listener received no request, that no <a>, <img>, <strong> or KaTeX element was made from the
probes, and that the raw text is on screen. A second row with an implausible weight checks that the patient's value
never reaches the server's log. Skip rules and Chromium flags as in test_browser_e2e.py.
"""

from __future__ import annotations

import csv
import http.server
import os
import subprocess
import sys
import threading
import urllib.request

import pytest

from tests._browser import BROWSER_MARKS, ROOT, SHOTS, free_port as _free_port, launch, wait_until_up
from tests.test_browser_e2e import _settle

pytestmark = BROWSER_MARKS

IMPLAUSIBLE_WEIGHT = "287.35"   # possible (limits 20-300 kg) but outside the plausible 35-160 kg: used and flagged


@pytest.fixture(scope="module")
def listener():
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()


@pytest.fixture(scope="module")
def app(bundle_dirs, tmp_path_factory):
    """The dashboard, run as `make run` does (from the repository, so .streamlit/config.toml applies); its log kept."""
    root = bundle_dirs("actg175").parent
    port = _free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1"],
        cwd=ROOT, env=os.environ | {"EQUIPOISE_BUNDLE_DIR": str(root)}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(proc, lambda: urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok",
                  what="streamlit's health endpoint")
    yield url, log_path
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def test_upload_text_is_inert_and_nothing_is_fetched(app, listener, tmp_path):
    from playwright.sync_api import sync_playwright

    from core.data.cohorts import load_spec
    from core.data.template import patient_template

    url, log_path = app
    port, hits = listener
    probes = {
        "weight_kg": f"![px](http://127.0.0.1:{port}/leak.png)",
        "cd4_cells_per_ul": f"[click](http://127.0.0.1:{port}/x)",
        "cd8_cells_per_ul": "**bold**",
        "prior_art_days": r"$\frac{a}{b}$",
        "karnofsky_score": f"<img src=http://127.0.0.1:{port}/h.png>",
    }
    good = patient_template(load_spec("actg175"))["patient"]
    name = r"**fname** [flink](x) $\frac{f}{n}$.csv"
    path = tmp_path / name
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(good))
        writer.writeheader()
        writer.writerow(good | probes)
        writer.writerow(good | {"weight_kg": IMPLAUSIBLE_WEIGHT})

    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(url)
            _settle(page, "Patient")
            page.get_by_text("Row of an uploaded CSV").click()
            page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
            page.get_by_text("Weight (kg) must be a number").first.wait_for(timeout=30_000)  # clinical words
            _settle(page, "Patient")
            page.wait_for_timeout(1500)   # give any fetch time to arrive
            text = page.locator("[data-testid='stApp']").inner_text()
            for probe in probes.values():   # quoted as the refusal quotes text: repr, so \frac reads \\frac
                assert repr(probe) in text, f"the raw text {probe!r} is not shown literally in {text[-3000:]}"
            _assert_nothing_rendered(page, port)

            row = page.locator("[data-testid='stNumberInput']").filter(has_text="Row").locator("input")
            row.fill("2")
            row.press("Enter")
            page.get_by_text("Unusual value: please check").first.wait_for(timeout=60_000)
            _settle(page, "Patient")
            page.wait_for_timeout(1500)
            text = page.locator("[data-testid='stApp']").inner_text()
            assert name in text, "the file name is not shown literally"
            assert IMPLAUSIBLE_WEIGHT in text   # the report shows the value (and flags it)...
            _assert_nothing_rendered(page, port)
            assert page.locator("[data-testid='stException']").count() == 0
        finally:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "inert_upload.png"), full_page=True)
            browser.close()
    assert hits == [], f"the browser fetched {hits} from the listener"
    server_log = log_path.read_text(errors="replace")
    assert IMPLAUSIBLE_WEIGHT not in server_log, "...but the patient's value reached the server's log"
    for probe in probes.values():
        assert probe not in server_log


def _assert_nothing_rendered(page, port: int) -> None:
    found = page.evaluate("""(port) => ({
        links: [...document.querySelectorAll('a')].filter(a => a.href.includes(':' + port) || /^(click|flink)$/.test(a.innerText)).length,
        images: [...document.querySelectorAll('img')].filter(i => i.src.includes(':' + port)).length,
        strong: [...document.querySelectorAll('strong, b')].filter(s => /^(bold|fname)$/.test(s.innerText.trim())).length,
        katex: document.querySelectorAll('.katex, .katex-display').length,
    })""", port)
    assert found == {"links": 0, "images": 0, "strong": 0, "katex": 0}, found
