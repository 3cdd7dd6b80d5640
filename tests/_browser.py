"""Shared by the real-browser tests: Debian's Chromium, the skip rules, and a `streamlit run app.py` server.

Tests are skipped, with the reason shown in pytest's summary, on a machine without /usr/bin/chromium or
without the playwright package (`.ci/run` installs both, so CI always runs them).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "tests" / "_artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def _has_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (apt-get install chromium)"),
    pytest.mark.skipif(not _has_playwright(), reason="the playwright package is not installed (pip install playwright)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(bundle_root, *, extra_env: dict | None = None, timeout: float = 60, port: int | None = None,
                 extra_args: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on ``port`` (default: a free local port), reading bundles from ``bundle_root``,
    with ``extra_args`` (e.g. ``--secrets.files PATH``) after ours; waits until healthy."""
    port = port or free_port()
    env = os.environ | {"EQUIPOISE_BUNDLE_DIR": str(bundle_root)} | (extra_env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *extra_args],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(proc, lambda: urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok",
                  what="streamlit's health endpoint", timeout=timeout)
    return proc, url


def wait_until_up(proc: subprocess.Popen, probe, *, what: str, timeout: float = 60, errors=(OSError,)) -> None:
    """Poll ``probe()`` (True when the server answers; raises one of ``errors`` while it does not yet) until
    it is True; fail the test, killing ``proc``, when the process exits or ``timeout`` seconds pass."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if probe():
                return
        except errors:
            if proc.poll() is not None:
                pytest.fail(f"the server exited (code {proc.returncode}) before {what} answered")
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"{what} did not answer within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def browser_page(**page_options):
    """Yield one Chromium page (``viewport=...``, ``accept_downloads=...``), closed afterwards: for fixtures."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        yield browser.new_page(**page_options)
        browser.close()
