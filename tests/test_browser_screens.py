"""Charts that fit: every page of every bundled cohort at 1280 and 1440 px, in a real browser.

One `streamlit run app.py` serves all cohorts (switched through the sidebar, as a user would). On every page
(and every tab of it), JavaScript in the page checks each Plotly chart: every text element lies inside the
chart's box, text that the chart clips to its plotting area lies inside that area, and the label written
beside a negative value keeps its minus sign. Screenshots go to tests/_artifacts/screenshots/screens/.
Skipped, with the reason, without /usr/bin/chromium or the playwright package.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests._browser import BROWSER_MARKS, SHOTS as _SHOTS, launch, start_server, stop_server

SHOTS = _SHOTS / "screens"
COHORTS = ("actg175", "colon", "warfarin")
PAGES = ("Patient", "What if", "Subgroups", "Model card")
WIDTHS = (1280, 1440)
pytestmark = BROWSER_MARKS

CHECK_CHARTS = r"""
() => {
  const problems = [];
  const inside = (r, box, tol) => r.left >= box.left - tol && r.right <= box.right + tol &&
                                  r.top >= box.top - tol && r.bottom <= box.bottom + tol;
  const charts = [...document.querySelectorAll('.js-plotly-plot')];
  charts.forEach((gd, k) => {
    const box = gd.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return;            // a chart in a hidden tab
    const title = (gd.querySelector('.gtitle') || {}).textContent || `chart ${k}`;
    const name = title.slice(0, 60);
    const areas = [...gd.querySelectorAll('.nsewdrag')].map(d => d.getBoundingClientRect());
    const shown = new Set();
    gd.querySelectorAll('text').forEach(t => {
      const r = t.getBoundingClientRect();
      const content = t.textContent.trim();
      if (!content || r.width === 0 || r.height === 0) return;
      if (t.closest('.hoverlayer')) return;
      shown.add(content.replace(/\s+/g, ''));
      if (!inside(r, box, 1)) {
        problems.push(`${name}: text "${content}" leaves the chart (${r.left.toFixed(0)}..${r.right.toFixed(0)} ` +
                      `x ${r.top.toFixed(0)}..${r.bottom.toFixed(0)}; chart ${box.left.toFixed(0)}..` +
                      `${box.right.toFixed(0)} x ${box.top.toFixed(0)}..${box.bottom.toFixed(0)})`);
      }
      const clipped = t.closest('[clip-path]');
      if (clipped && t.closest('.cartesianlayer') && areas.length && !areas.some(a => inside(r, a, 1))) {
        problems.push(`${name}: text "${content}" is cut by the plotting area`);
      }
    });
    (gd.data || []).forEach(trace => {
      if (!Array.isArray(trace.text)) return;
      const values = trace.orientation === 'h' || trace.type === 'scatter' ? trace.x : trace.y;
      if (!Array.isArray(values)) return;
      trace.text.forEach((text, i) => {
        if (typeof text !== 'string' || !text) return;
        const number = parseFloat(text.replace('\u2212', '-').replace(/[^0-9.+-]/g, ''));
        if (values[i] < 0 && number !== 0 && !/^[\u2212-]/.test(text.trim())) {
          problems.push(`${name}: the label "${text}" of the negative value ${values[i]} has no minus sign`);
        }
        if (values[i] < 0 && number !== 0 && !shown.has(text.replace(/<br>/g, '').replace(/\s+/g, ''))) {
          problems.push(`${name}: the label "${text}" of the negative value ${values[i]} is not drawn whole`);
        }
      });
    });
  });
  return {charts: charts.filter(gd => gd.getBoundingClientRect().width > 0).length, problems};
}
"""


@pytest.fixture(scope="module")
def server(bundle_dirs):
    root = None
    for name in COHORTS:  # all bundles trained once per test session, in one folder
        root = bundle_dirs(name).parent
    proc, url = start_server(root)
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def _settle(pg, title: str) -> None:
    pg.locator("h1", has_text=title).first.wait_for(timeout=90_000)
    pg.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=90_000)
    pg.wait_for_timeout(600)  # let plotly finish drawing


def _choose_cohort(pg, name: str) -> None:
    field = pg.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
        has_text="Cohort and model").locator("input")
    if field.input_value() == name:
        return
    field.click()
    pg.locator("[role='option']", has_text=name).first.click()
    pg.wait_for_function(f"() => document.querySelector('[data-testid=stSidebar] input[aria-label=\"Cohort and "
                         f"model\"]').value === {name!r}", timeout=30_000)


def _check(pg, where: str) -> tuple[int, list[str]]:
    result = pg.evaluate(CHECK_CHARTS)
    return result["charts"], [f"{where}: {p}" for p in result["problems"]]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_chart_of_every_page_and_cohort_fits(browser, server, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg = browser.new_page(viewport={"width": width, "height": 1000})
    pg.goto(server)
    _settle(pg, "Patient")
    problems, counted = [], {}
    for cohort in COHORTS:
        _choose_cohort(pg, cohort)
        for title in PAGES:
            pg.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
            _settle(pg, title)
            assert pg.locator("[data-testid='stException']").count() == 0, f"{cohort} / {title}: an exception"
            where = f"{cohort} / {title} at {width} px"
            n, found = _check(pg, where)
            tabs = pg.locator("[data-testid='stMain'] [role='tab']")
            for i in range(1, tabs.count()):  # the first tab is already shown
                tabs.nth(i).click()
                pg.wait_for_timeout(500)
                more, extra = _check(pg, f"{where}, tab {tabs.nth(i).inner_text()!r}")
                n, found = n + more, found + extra
                _screenshot(pg, SHOTS / f"{cohort}_{_slug(title)}_tab{i}_{width}.png", width)
            counted[f"{cohort}/{title}"] = n
            problems += found
            _screenshot(pg, SHOTS / f"{cohort}_{_slug(title)}_{width}.png", width)
    pg.close()
    (SHOTS / f"problems_{width}.json").write_text(json.dumps({"charts": counted, "problems": problems}, indent=1))
    assert all(counted[f"{c}/Patient"] >= 3 for c in COHORTS[:2]), counted  # the arm charts were really checked
    assert not problems, "\n".join(problems)


def _screenshot(pg, path: Path, width: int) -> None:
    """The whole page: Streamlit scrolls inside its main block, so the window is made as tall as the page."""
    height = pg.evaluate("() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                         "[data-testid=stMainBlockContainer]')].map(e => e.scrollHeight), 1000)")
    pg.set_viewport_size({"width": width, "height": min(int(height) + 40, 12_000)})
    pg.wait_for_timeout(400)
    pg.screenshot(path=str(path))
    pg.set_viewport_size({"width": width, "height": 1000})


def _slug(title: str) -> str:
    return title.lower().replace(" ", "_")
