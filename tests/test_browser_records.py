"""Record integrity in a real browser (Playwright + Debian's Chromium against `streamlit run app.py`), issue 25:
each case the issue found is reproduced and must now hold.

* Two board cases from different cohorts, added in a row: each is named after its own patient, and nothing typed
  for the first (the question) is recorded for the second.
* An untouched decision form cannot be saved.
* The insufficient-evidence case's PDF prints no risk number (read back with pypdf).
* "12,5" typed for CD8 is refused naming the field (never read as 125); "250,5" for weight is read as 250.5;
  "abc" gets a message; a typed patient lost on reload is said to be gone, not replaced by a test patient.
* A trainee who keeps their first answer is recorded with it (never the fixed dose of 35 mg/week).
"""

from __future__ import annotations

import io
import re
import urllib.parse

import pytest

from tests._browser import BROWSER_MARKS, SHOTS, browser_page, start_server, stop_server

pytestmark = BROWSER_MARKS
CD8 = "CD8 count at baseline (cells/µL)"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("records_browser_data")


@pytest.fixture(scope="module")
def server(bundle_dirs, data_dir):
    for name in ("actg175", "colon", "warfarin"):
        root = bundle_dirs(name).parent
    proc, url = start_server(root, extra_env={"EQUIPOISE_DATA_DIR": str(data_dir)}, timeout=90)
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def page(server):
    yield from browser_page(viewport={"width": 1600, "height": 1100}, accept_downloads=True)


@pytest.fixture
def store(data_dir, bundle_dirs, monkeypatch):
    """This process reads the server's store (and bundles), to check what was recorded."""
    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(data_dir))
    monkeypatch.delenv("EQUIPOISE_DATABASE_URL", raising=False)
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(bundle_dirs("colon").parent))
    from core import service

    return service


def _settle(pg, title: str | None = None) -> None:
    if title:
        pg.locator("h1", has_text=title).first.wait_for(timeout=120_000)
    pg.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=120_000)
    pg.wait_for_timeout(700)
    assert pg.locator("[data-testid='stException']").count() == 0


def _click(pg, name: str, title: str | None = None) -> None:
    pg.get_by_role("button", name=name).first.click()
    pg.wait_for_timeout(400)
    _settle(pg, title)


def _choose(pg, label: str, option: str | None, title: str | None = None) -> str:
    """Open the selectbox labelled ``label`` and pick ``option`` (None: the first); returns the option picked."""
    label_text = pg.locator("label").filter(has_text=re.compile("^" + re.escape(label)))
    pg.locator("[data-testid='stSelectbox']").filter(has=label_text).first.click()
    if option is None:
        chosen = pg.get_by_role("option").first
        text = chosen.inner_text().strip()
        chosen.click()
    else:
        text = option
        pg.keyboard.type(option)  # the list is virtualised: type to bring the option up, then take it
        pg.get_by_role("option", name=option, exact=True).click()
    _settle(pg, title)
    return text


def _fill(pg, label: str, text: str) -> None:
    box = pg.get_by_role("textbox", name=label, exact=True)
    box.fill(text)
    box.press("Tab")  # a text input is sent when it loses focus
    box.page.wait_for_timeout(300)


def test_board_cases_from_two_cohorts_each_carry_their_own_patient(page, server, store, bundle_dirs, tmp_path):
    page.goto(f"{server}/board_meetings")
    _settle(page, "Board agenda")
    page.get_by_label("Title").fill("Records MDT")
    _click(page, "Create meeting", "Board agenda")

    _choose(page, "Cohort (the model", "colon", "Board agenda")
    first = _choose(page, "Test patient", None, "Board agenda")
    _fill(page, "Question to the board", "Adjuvant chemotherapy for this colon patient?")
    _click(page, "Add this patient", "Board agenda")
    page.get_by_text(f"Case 'colon · test patient {first}' added").wait_for(timeout=30_000)

    _choose(page, "Cohort (the model", "actg175", "Board agenda")
    second = _choose(page, "Test patient", None, "Board agenda")
    assert page.get_by_label("Question to the board", exact=True).input_value() == ""  # nothing carried over
    assert page.get_by_label("Label (left empty, the case is named after the patient)").input_value() == ""
    _click(page, "Add this patient", "Board agenda")
    page.get_by_text(f"Case 'actg175 · test patient {second}' added").wait_for(timeout=30_000)

    # a far-out ACTG 175 patient, from a CSV: the evidence is insufficient for a number
    typical = store.typical_patient(store.open_bundle(bundle_dirs("actg175")))
    far = {k: v for k, v in typical.items() if v is not None} | {"weight_kg": 250}
    (tmp_path / "far.csv").write_text("label," + ",".join(far) + "\nACTG-far," + ",".join(str(v) for v in far.values())
                                      + "\n", encoding="utf-8")
    page.get_by_role("tab", name="Rows of a CSV").click()
    page.locator("input[type='file']").set_input_files(str(tmp_path / "far.csv"))
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SHOTS / "records_csv_upload.png"), full_page=True)
    page.get_by_role("button", name="Add every row").wait_for(timeout=90_000)
    _settle(page, "Board agenda")
    _click(page, "Add every row", "Board agenda")
    page.get_by_text("1 of 1 row(s) added as cases").first.wait_for(timeout=30_000)
    page.screenshot(path=str(SHOTS / "records_board_agenda.png"), full_page=True)

    (meeting,) = [m for m in store.meetings() if m.title == "Records MDT"]
    cases = [c.case for c in store.meeting_record(meeting.id).cases]
    assert [(c.label, c.cohort, c.source_ref) for c in cases[:2]] == [
        (f"colon · test patient {first}", "colon", first), (f"actg175 · test patient {second}", "actg175", second)]
    assert [c.question for c in cases[:2]] == ["Adjuvant chemotherapy for this colon patient?", ""]
    held_out = {p["patient_id"]: p for p in store.held_out_patients(store.open_bundle(bundle_dirs("actg175")))}
    assert all(cases[1].record[k] == held_out[second][k] for k in cases[1].record)  # the patient actually chosen


def test_an_untouched_decision_is_refused_and_the_insufficient_evidence_pdf_has_no_risk_number(page, server, store):
    (meeting,) = [m for m in store.meetings() if m.title == "Records MDT"]
    page.goto(f"{server}/board_present")
    _settle(page, "1/3 ·")
    for i in (2, 3):
        _click(page, "Next", f"{i}/3 ·")
    page.screenshot(path=str(SHOTS / "records_presenter_insufficient.png"))

    page.goto(f"{server}/board_decide")
    _settle(page, "Board decision")
    _click(page, "Record this version", "Board decision")
    page.get_by_text("The decision is not complete, so nothing was recorded").wait_for(timeout=30_000)
    assert all(not c.decisions for c in store.meeting_record(meeting.id).cases)

    _choose(page, "Case", "ACTG-far", "Board decision")
    record = store.meeting_record(meeting.id).cases[2]
    assert record.snapshot.report["summary"]["state"] == "insufficient_evidence"
    _click(page, "Prepare PDF: this case", "Board decision")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download PDF: this case").click()
    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(download.value.path().read_bytes()))
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    assert "ACTG-far" in text and "Why no number is shown" in text
    arms = [a["arm"] for a in record.snapshot.report["arms"]]
    risk_lines = [re.escape(a) + r":? \d+%" for a in arms] + [r"interval [+−-]?\d+%", r"\d+% to [+−-]?\d+%"]
    assert not any(re.search(r, text) for r in risk_lines), [re.findall(r".{60}" + r, text) for r in risk_lines]
    assert "wider than for 99% of the training patients" not in text  # the warning that carried the interval
    assert sum(len(p.images) for p in pdf.pages) == 0  # no chart


def test_typed_numbers_are_read_strictly_and_never_vanish(page, server, store, bundle_dirs):
    from core.cds import encode_record

    typical = store.typical_patient(store.open_bundle(bundle_dirs("actg175")))
    page.goto(f"{server}/?cohort=actg175&record={urllib.parse.quote(encode_record(typical))}")
    _settle(page, "Patient")
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.get_by_role("textbox", name="Age (years)").input_value() == str(typical["age_years"])  # an integer, no ".00"

    _fill(sidebar, CD8, "12,5")
    _click(page, "Use this patient", "Patient")
    page.get_by_text(f"{CD8} must be a whole number. Got '12,5' instead.").first.wait_for(timeout=30_000)
    assert sidebar.get_by_role("textbox", name=CD8).input_value() == "12,5"  # kept as typed, never turned into 125
    assert "125" not in page.locator("[data-testid='stMain']").inner_text()

    _fill(sidebar, CD8, "abc")
    _click(page, "Use this patient", "Patient")
    page.get_by_text(f"{CD8} must be a number").first.wait_for(timeout=30_000)

    _fill(sidebar, CD8, str(typical["cd8_cells_per_ul"]))
    _fill(sidebar, "Weight (kg)", "250,5")
    _click(page, "Use this patient", "Patient")
    main = page.locator("[data-testid='stMain']")
    main.get_by_text("Insufficient evidence").first.wait_for(timeout=60_000)
    page.screenshot(path=str(SHOTS / "records_patient_decimal_comma.png"), full_page=True)
    assert "250.5" in main.inner_text() and "2505" not in main.inner_text()  # the decimal comma read as a decimal

    page.reload()
    _settle(page, "Patient")
    page.get_by_text("could not be restored").first.wait_for(timeout=30_000)
    assert "Held-out patient" not in sidebar.inner_text()  # no test patient put in its place


def test_a_trainee_who_keeps_the_first_answer_is_recorded_with_it(page, server, store):
    session = store.new_training_session("warfarin", cases=2, manipulated_share=0.5, seed=11)
    page.goto(f"{server}/training")
    _settle(page, "Training: automation bias")
    _click(page, "I understand and agree")
    for case, (first, final) in enumerate((("40", None), ("50,5", "45")), start=1):
        page.get_by_text(f"Case {case} of 2").wait_for(timeout=60_000)
        box = page.get_by_label("Your first answer (mg/week)")
        assert box.input_value() == ""  # no 35 mg/week to anchor on
        _fill(page, "Your first answer (mg/week)", first)
        _fill(page, "How sure are you? (0 = guessing, 100 = certain)", "70")
        _click(page, "Commit my answer")
        page.get_by_role("heading", name="Advice").wait_for(timeout=60_000)
        shown = first.replace(",", ".")
        final_box = page.get_by_label(f"Your final answer (mg/week); it starts at your first answer: {shown} mg/week")
        assert final_box.input_value() == shown
        page.screenshot(path=str(SHOTS / f"records_training_final_{case}.png"), full_page=True)
        if final is not None:
            final_box.fill(final)
            final_box.press("Tab")
            page.wait_for_timeout(300)
        _click(page, "Commit my final answer")
    page.get_by_role("heading", name="Debrief").wait_for(timeout=60_000)
    report = store.training_report(session.id, trainee=store.local_identity().user)
    assert [(r.initial, r.final) for r in report.rows] == [(40.0, 40.0), (50.5, 45.0)]
