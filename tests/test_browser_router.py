"""The router stays in charge whatever URL the first visitor of a fresh server opens (real browser).

Streamlit's legacy pages-folder mode would otherwise run ``pages/what_if.py`` (or a helper module such
as ``pages/_state.py``) without ``app.py`` when the very first request names it. Each case starts its
own server, so the URL under test is that server's first request.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests._browser import BROWSER_MARKS, SHOTS, launch, start_server, stop_server

pytestmark = BROWSER_MARKS
# The pages app.py declares in its navigation (read from app.py itself, so a new page cannot slip past).
NAV = re.findall(r'st\.Page\("pages/(?!not_found|sign_in)[a-z_]+\.py", title="([^"]+)"',
                 (Path(__file__).parents[1] / "app.py").read_text(encoding="utf-8"))
assert NAV[:2] == ["Patient", "What if"], NAV
CASES = [("", "Patient"), ("what_if", "What if"), ("subgroups", "Subgroups"), ("model_card", "Model card"),
         ("state", None), ("cached", None), ("layout", None), ("keys", None), ("router", None), ("board", None),
         ("board_meetings", "Board agenda"),
         ("no_such_page", None)]
STREAMLIT_NOTICE = "does not seem to exist"  # Streamlit's own page-not-found dialog


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def bundle_root(bundle_dirs):
    for name in ("actg175", "colon"):
        root = bundle_dirs(name).parent
    return root


def _open_first(browser, bundle_root, path: str):
    proc, url = start_server(bundle_root)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(f"{url}/{path}")
    page.locator("h1").first.wait_for(timeout=90_000)
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=90_000)
    page.wait_for_timeout(500)
    return proc, page


@pytest.mark.parametrize("path, title", CASES)
def test_first_request_on_a_fresh_server_is_routed(browser, bundle_root, path, title):
    proc, page = _open_first(browser, bundle_root, path)
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"first_request_{path or 'root'}.png"))
        assert page.locator("[data-testid='stException']").count() == 0
        nav = [a.inner_text().strip().split("\n")[-1] for a in page.locator("[data-testid='stSidebarNavLink']").all()]
        assert nav == NAV  # only the pages app.py declares, never the raw files of pages/
        heading = page.locator("h1").first.inner_text().strip()
        if title is None:
            assert heading == "Page not found"
            if path != "no_such_page":  # a file of pages/ is not a page: no trace of Streamlit's guess either
                assert page.get_by_text(STREAMLIT_NOTICE).count() == 0
            assert page.get_by_role("link", name="Go to the Patient page").count() == 1
            assert page.get_by_text("Page not found").count() >= 1
        else:
            assert heading == title
            assert "Equipoise" in page.title()
    finally:
        page.close()
        stop_server(proc)


def test_unknown_addresses_after_the_first_visit_get_only_our_page_not_found(browser, bundle_root):
    proc, page = _open_first(browser, bundle_root, "")
    try:
        base = page.url.split("?")[0].rstrip("/")
        for path in ("no_such_page", "_state", "state", "app"):
            page.goto(f"{base}/{path}")
            try:
                page.locator("h1", has_text="Page not found").wait_for(timeout=60_000)
            finally:
                page.screenshot(path=str(SHOTS / f"warm_{path}.png"))
            page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=60_000)
            assert page.get_by_text(STREAMLIT_NOTICE).count() == 0
            assert page.get_by_role("link", name="Go to the Patient page").count() == 1
    finally:
        page.close()
        stop_server(proc)


def test_a_deep_link_is_followed_on_a_fresh_server(browser, bundle_root):
    from core import service

    ids = [r["patient_id"] for r in service.held_out_patients(service.open_bundle(bundle_root / "colon"))]
    proc, page = _open_first(browser, bundle_root, f"what_if?cohort=colon&patient={ids[3]}")
    try:
        assert page.locator("h1").first.inner_text().strip() == "What if"
        page.get_by_text("NCCTG colon cancer").first.wait_for(timeout=30_000)
        assert f"patient={ids[3]}" in page.url and "cohort=colon" in page.url  # kept, not replaced by another
        assert page.get_by_text("not a held-out test patient").count() == 0
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        page.close()
        stop_server(proc)
