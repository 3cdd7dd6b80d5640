"""In a real browser: the numbers a moved what-if slider shows are in the audit log, and so is the effect curve of a
feature chosen below it. (A region rerun alone with ``st.fragment`` skips app.py, where every run's audit-log context
is set; ``pages._auth.logged_fragment`` sets it again, and this test would catch a region that did not.)"""

from __future__ import annotations

import pytest

from tests._browser import BROWSER_MARKS, browser_page, start_server, stop_server

pytestmark = BROWSER_MARKS
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


@pytest.fixture(scope="module")
def server(bundle_dirs, tmp_path_factory):
    data = tmp_path_factory.mktemp("fragment_data")
    proc, url = start_server(bundle_dirs("colon").parent, extra_env={"EQUIPOISE_DATA_DIR": str(data)})
    yield url, data
    stop_server(proc)


@pytest.fixture(scope="module")
def page(server):
    yield from browser_page(viewport={"width": 1400, "height": 1000})


def _entries(data, kind: str, monkeypatch) -> list[dict]:
    from core import service

    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(data))
    monkeypatch.delenv("EQUIPOISE_DATABASE_URL", raising=False)
    return [e for e in service.open_log().export(reports=True) if e["body"]["kind"] == kind]


def test_what_a_moved_slider_shows_is_in_the_log(page, server, bundles, monkeypatch):
    from core import service

    url, data = server
    patient = service.held_out_patients(bundles("colon"))[0]["patient_id"]
    page.goto(f"{url}/what_if?cohort=colon&patient={patient}")
    page.get_by_text("Explore the model").wait_for(timeout=60_000)
    page.locator(IDLE).wait_for(timeout=60_000)
    page.get_by_text("Explore the model").first.click()  # colon has no lever: explore mode shows every value
    thumb = page.locator("[data-testid='stSlider']").filter(has_text="Positive lymph nodes").locator(
        "input[type='range']:not([disabled])")
    thumb.wait_for(state="attached", timeout=60_000)
    page.locator(IDLE).wait_for(timeout=60_000)
    metric = page.locator("[data-testid='stMetricValue']").first
    before = metric.inner_text()
    thumb.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("([el, before]) => el.innerText !== before", arg=[metric.element_handle(), before],
                           timeout=60_000)
    page.locator(IDLE).wait_for(timeout=60_000)
    shown, nodes = metric.inner_text(), float(thumb.get_attribute("value"))
    assert page.locator("[data-testid='stException']").count() == 0

    logged = _entries(data, "what_if", monkeypatch)
    moved = [e["report"] for e in logged if any(c["feature"] == "positive_nodes" and float(c["new"]) == nodes
                                                 for c in e["report"]["changes"])]
    assert moved, f"no what_if entry with {nodes} positive nodes among {len(logged)}"
    assert f"{100 * moved[-1]['arm_deltas'][0]['after']:.1f}%" == shown


def test_an_effect_curve_chosen_in_its_region_is_in_the_log(page, server, monkeypatch):
    url, data = server
    page.locator(IDLE).wait_for(timeout=60_000)
    box = page.locator("[data-testid='stSelectbox']").filter(has_text="Feature")
    box.click()
    page.keyboard.type("Sex")
    page.keyboard.press("Enter")
    page.locator(IDLE).wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    page.locator(IDLE).wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert any(e["report"]["feature"] == "sex" for e in _entries(data, "effect_curve", monkeypatch))
