"""A whole tumor-board meeting in a real browser (Playwright + Debian's Chromium against `streamlit run app.py`):
create the meeting, add five cases from a CSV with labels, present each in the presenter view (1920×1080),
record three decisions (one that differs from the model's summary, with its reason), sign them off, export the
PDF; the PDF's text holds every case label, each decision and the bundle id."""

from __future__ import annotations

import io

import pytest

from _board_helpers import board_roots, patients  # noqa: F401  (fixture)
from tests._browser import BROWSER_MARKS, SHOTS, browser_page, start_server, stop_server

pytestmark = BROWSER_MARKS
LABELS = [f"MDT-0{i}" for i in range(1, 6)]
OTHER = "FOLFOX for 6 months"
REASON = "The trial arms predate oxaliplatin."


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tmp_path_factory.mktemp("board_browser_data")


@pytest.fixture(scope="module")
def server(board_roots, data):
    proc, url = start_server(board_roots["original"], extra_env={"EQUIPOISE_DATA_DIR": str(data)})
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def page(server):
    yield from browser_page(viewport={"width": 1920, "height": 1080}, accept_downloads=True)


def _settle(pg, title: str) -> None:
    pg.locator("h1", has_text=title).first.wait_for(timeout=90_000)
    pg.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=90_000)
    pg.wait_for_timeout(600)
    assert pg.locator("[data-testid='stException']").count() == 0


def _click(pg, name: str, title: str) -> None:
    pg.get_by_role("button", name=name).first.click()
    pg.wait_for_timeout(300)
    _settle(pg, title)


def _choose(pg, label: str, option: str, title: str) -> None:
    pg.locator("[data-testid='stSelectbox']").filter(has_text=label).first.click()
    pg.get_by_role("option", name=option, exact=True).click()
    _settle(pg, title)


def _best_options(data, monkeypatch) -> dict:
    """{case label: the options its frozen summary names}, read from the server's store."""
    from core import service

    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(data))
    monkeypatch.delenv("EQUIPOISE_DATABASE_URL", raising=False)
    (meeting,) = service.meetings()
    return {c.case.label: c.snapshot.report["summary"]["best_set"] for c in service.meeting_record(meeting.id).cases}


def test_a_whole_meeting_in_the_browser(page, server, board_roots, tmp_path, data, monkeypatch):
    from core import service

    bundle = service.open_bundle(board_roots["original"] / "colon")
    records = patients(bundle, 5)
    header = ["label", *records[0][1]]
    csv = "\n".join([",".join(header)] + [",".join([label, *("" if v is None else str(v) for v in r.values())])
                                          for label, (_, r) in zip(LABELS, records)])
    (tmp_path / "agenda.csv").write_text(csv + "\n", encoding="utf-8")

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{server}/board_meetings")
    _settle(page, "Board agenda")
    page.get_by_label("Title").fill("Colorectal MDT")
    _click(page, "Create meeting", "Board agenda")
    page.get_by_role("tab", name="Rows of a CSV").click()
    page.locator("input[type='file']").set_input_files(str(tmp_path / "agenda.csv"))
    page.get_by_role("button", name="Add every row").wait_for(timeout=30_000)
    _settle(page, "Board agenda")
    _click(page, "Add every row", "Board agenda")
    page.screenshot(path=str(SHOTS / "board_agenda.png"), full_page=True)
    page.get_by_text("row(s) added as cases").first.wait_for(timeout=30_000)
    assert "5 of 5 row(s) added as cases" in page.get_by_text("row(s) added as cases").first.inner_text()

    page.goto(f"{server}/board_present")
    _settle(page, "1/5 · MDT-01")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "board_presenter_1920x1080.png"))
    for i in range(2, 6):
        _click(page, "Next", f"{i}/5 · MDT-0{i}")

    best = _best_options(data, monkeypatch)
    page.goto(f"{server}/board_decide")
    _settle(page, "Board decision")
    for label, differs in (("MDT-01", False), ("MDT-02", True), ("MDT-03", False)):
        _choose(page, "Case", label, "Board decision")
        agrees = page.locator("[data-testid='stRadio']").filter(has_text="Agrees with the model")
        if differs:
            _choose(page, "Recommendation", "Another treatment (in words)", "Board decision")
            page.get_by_label("Other treatment, in words (if chosen above)").fill(OTHER)
            agrees.get_by_text("No", exact=True).click()
            page.get_by_label("If not: why not").fill(REASON)
        else:  # nothing is pre-chosen: the board chooses one of the options the model's summary names, and agrees
            _choose(page, "Recommendation", (best[label] or ["Obs"])[0], "Board decision")
            agrees.get_by_text("Yes", exact=True).click()
        page.get_by_label("Rationale").fill(f"Rationale for {label}.")
        _click(page, "Record this version", "Board decision")
        _click(page, "Sign off version 1 as chair", "Board decision")
    page.screenshot(path=str(SHOTS / "board_decision.png"), full_page=True)
    _click(page, "Prepare PDF: whole meeting", "Board decision")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download PDF: whole meeting").click()
    pdf = download.value.path().read_bytes()

    from pypdf import PdfReader

    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    for label in LABELS:
        assert label in text
    assert OTHER in text and REASON in text and bundle.bundle_id in text
    assert text.count("Signed off") >= 3 and "Rationale for MDT-03." in text
    assert "Model output is decision support" in text
