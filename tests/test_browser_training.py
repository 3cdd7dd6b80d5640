"""Real browser (Playwright + Debian's Chromium): an instructor creates a session, a trainee plays it whole
(consent, decide first, advice, final answer, debrief), and the instructor sees the trainee's scores."""

from __future__ import annotations

import pytest

from tests._browser import BROWSER_MARKS, SHOTS, launch, start_server, stop_server

pytestmark = BROWSER_MARKS


@pytest.fixture
def server(bundle_dirs, tmp_path):
    proc, url = start_server(bundle_dirs("warfarin").parent,
                             extra_env={"EQUIPOISE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
                                        "EQUIPOISE_AUDIT_CHECKPOINTS": str(tmp_path / "audit-checkpoints.jsonl")})
    yield url
    stop_server(proc)


def _settle(pg):
    pg.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=120_000)
    pg.wait_for_timeout(500)
    assert pg.locator("[data-testid='stException']").count() == 0


def _click(pg, name):
    pg.get_by_role("button", name=name).click()
    pg.wait_for_timeout(300)
    _settle(pg)


def test_instructor_and_trainee_play_a_whole_session(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        pg = browser.new_page(viewport={"width": 1400, "height": 1100})
        pg.goto(f"{server}/training_instructor")
        pg.locator("h1", has_text="Training sessions").wait_for(timeout=60_000)
        _settle(pg)
        cases = pg.get_by_label("Cases")
        cases.fill("2")
        _click(pg, "Create the session")
        pg.get_by_text("created. Trainees find it").wait_for(timeout=120_000)

        pg.goto(f"{server}/training")
        pg.locator("h1", has_text="Training: automation bias").wait_for(timeout=60_000)
        _settle(pg)
        assert pg.get_by_text("deliberately wrong").count() >= 1
        _click(pg, "I understand and agree")
        for case in (1, 2):
            pg.get_by_text(f"Case {case} of 2").wait_for(timeout=60_000)
            assert pg.locator("[data-testid='stMetric']").count() == 0  # no advice before deciding
            pg.screenshot(path=str(SHOTS / f"training-decide-{case}.png"), full_page=True)
            pg.get_by_label("Your first answer (").fill("40")  # starts empty: the trainee decides (mg/week or %)
            pg.get_by_label("How sure are you? (0 = guessing, 100 = certain)").fill("70")
            pg.get_by_label("How sure are you? (0 = guessing, 100 = certain)").press("Tab")
            pg.wait_for_timeout(300)
            _click(pg, "Commit my answer")
            pg.get_by_role("heading", name="Advice").wait_for(timeout=60_000)
            assert pg.locator("[data-testid='stMetric']").count() == 1
            pg.screenshot(path=str(SHOTS / f"training-advice-{case}.png"), full_page=True)
            _click(pg, "Commit my final answer")
        pg.get_by_role("heading", name="Debrief").wait_for(timeout=60_000)
        pg.get_by_role("heading", name="Your scores").wait_for(timeout=60_000)
        pg.screenshot(path=str(SHOTS / "training-debrief.png"), full_page=True)

        pg.goto(f"{server}/training_instructor")
        pg.locator("h1", has_text="Training sessions").wait_for(timeout=60_000)
        _settle(pg)
        pg.get_by_text("Whole session:").wait_for(timeout=60_000)
        pg.screenshot(path=str(SHOTS / "training-instructor.png"), full_page=True)
        browser.close()
