"""Real-browser end-to-end test: Playwright drives Debian's Chromium against `streamlit run app.py`.

Skipped, with the reason shown in pytest's summary, on a machine without /usr/bin/chromium or without
the playwright package
(`.ci/run` installs it, so CI always runs this test).
"""

from __future__ import annotations

import pytest

from tests._browser import BROWSER_MARKS, SHOTS, browser_page, start_server, stop_server

PAGES = [("", "Patient"), ("what_if", "What if"), ("subgroups", "Subgroups"), ("model_card", "Model card")]
pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def server(bundle_dirs):
    proc, url = start_server(bundle_dirs("actg175").parent)  # the default cohort, trained once per test session
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def page(server):
    yield from browser_page(viewport={"width": 1400, "height": 1000})


def _settle(pg, title: str) -> None:
    """Wait until the page's title is shown and the script run has finished."""
    pg.locator("h1", has_text=title).first.wait_for(timeout=60_000)
    pg.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=60_000)
    pg.wait_for_timeout(800)  # let plotly finish drawing before a screenshot


@pytest.mark.parametrize("path, title", PAGES)
def test_every_page_renders_without_exception(page, server, path, title):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{server}/{path}")
    _settle(page, title)
    page.screenshot(path=str(SHOTS / f"{path or 'patient'}.png"), full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("h1").first.inner_text().strip() == title


def test_moving_a_what_if_slider_updates_the_prediction(page, server):
    page.goto(f"{server}/what_if")
    _settle(page, "What if")
    before = page.locator("[data-testid='stMetricValue']").first.inner_text()
    # weight is not a treatment lever in ACTG 175: it moves only when exploring the model
    page.get_by_text("Explore the model").click()
    _settle(page, "What if")
    slider = page.locator("[data-testid='stSlider']").filter(has_text="Weight").get_by_role("slider")
    slider.focus()
    for _ in range(15):
        page.keyboard.press("ArrowRight")
    changed = ("(before) => { const m = document.querySelector('[data-testid=stMetricValue]');"
               " return m && m.innerText !== before; }")
    page.wait_for_function(changed, arg=before, timeout=30_000)
    _settle(page, "What if")
    after = page.locator("[data-testid='stMetricValue']").first.inner_text()
    page.screenshot(path=str(SHOTS / "what_if_moved.png"), full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0
    assert after != before


def test_a_patient_from_an_uploaded_csv_row(page, server, tmp_path):
    import csv

    from core.data.cohorts import load_spec
    from core.data.template import patient_template

    good = patient_template(load_spec("actg175"))["patient"]
    path = tmp_path / "patients.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(good))
        writer.writeheader()
        writer.writerow(good)
        writer.writerow(good | {"weight_kg": 700})
    page.goto(server)
    _settle(page, "Patient")
    page.get_by_text("Row of an uploaded CSV").click()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
    page.get_by_text("CSV row 1 of patients.csv").first.wait_for(timeout=30_000)
    _settle(page, "Patient")
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("estimated risk").count() >= 1
    page.screenshot(path=str(SHOTS / "csv_row.png"), full_page=True)
    # the second row is refused with the field's message, and nothing is predicted for it
    row = page.locator("[data-testid='stNumberInput']").filter(has_text="Row").locator("input")
    row.fill("2")
    row.press("Enter")
    try:
        page.get_by_text("Weight must be a number from 20 to 300 kg. Got 700 instead.").first.wait_for(
            timeout=30_000)
    finally:
        page.screenshot(path=str(SHOTS / "csv_row_refused.png"), full_page=True)
    _settle(page, "Patient")
    assert page.get_by_text("estimated risk").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0


def _most_warned(bundle_dir) -> str:
    """The held-out patient with the most high/medium warnings (ties: the first)."""
    import warnings as _w

    from core import service

    bundle = service.open_bundle(bundle_dir)
    best, best_n = None, -1
    for r in service.held_out_patients(bundle):
        record = {k: v for k, v in r.items() if k != "patient_id"}
        with _w.catch_warnings():
            _w.simplefilter("ignore")
            ws = service.predict(bundle, record).to_dict()["warnings"]
        n = sum(w["severity"] in ("high", "medium") for w in ws)
        if n > best_n:
            best, best_n = r["patient_id"], n
    return best


@pytest.mark.parametrize("cohort", ["actg175", "colon", "warfarin"])
def test_the_headline_is_on_the_first_screen_for_the_most_warned_patient(page, server, bundle_dirs, cohort):
    patient = _most_warned(bundle_dirs(cohort))
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto(f"{server}/?cohort={cohort}&patient={patient}")
    _settle(page, "Patient")
    page.get_by_text(f"Test patient {patient}").first.wait_for(timeout=30_000)
    _settle(page, "Patient")
    page.screenshot(path=str(SHOTS / f"first_screen_{cohort}.png"))
    headline = page.locator("[data-testid='stMarkdownContainer'] h4").first
    box = headline.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 1000, box
    assert page.locator("[data-testid='stException']").count() == 0
