"""The board records what the board meant (issue 25, record integrity), headlessly (AppTest) and in core:
a case's label, question and context start empty for each patient and after each added case, and a case left
unnamed is named after the patient actually chosen; an untouched decision form records nothing; 'agrees with
the model' beside an option outside the model's best set is refused unless explained."""

from __future__ import annotations

import pytest
import streamlit as st

from _apps import APP, rendered
from _board_helpers import board_roots, patients  # noqa: F401  (fixture)
from streamlit.testing.v1 import AppTest

from core import service
from core.board import BoardError, checked_decision, default_label

CLEAR = {"arms": [{"arm": a} for a in ("Obs", "Lev", "Lev+5FU")],
         "summary": {"state": "clear", "text": "Lev+5FU lower", "best_set": ["Lev+5FU"], "reasons": []}}
INSUFFICIENT = {**CLEAR, "summary": {"state": "insufficient_evidence", "text": "Insufficient evidence", "best_set": [],
                                     "reasons": ["wide"]}}
BASE = {"recommendation": "Lev+5FU", "rationale": "Stage III.", "agrees_with_model": True}


@pytest.mark.parametrize("data, report, message", [
    ({}, CLEAR, "not complete, so nothing was recorded: choose the board's recommendation .*; answer whether the "
                "board agrees with the model's summary .*; write the rationale"),
    ({**BASE, "agrees_with_model": None}, CLEAR, "answer whether the board agrees with the model's summary"),
    ({**BASE, "recommendation": "  "}, CLEAR, "choose the board's recommendation"),
    ({**BASE, "recommendation": "Obs"}, CLEAR, "agrees with the model's summary, but it recommends Obs, which is not "
                                               "among the options that summary names \\(Lev\\+5FU\\)"),
    ({**BASE, "recommendation": "FOLFOX"}, CLEAR, "recommends FOLFOX, which is not among"),
])
def test_an_unanswered_or_contradictory_decision_is_refused(data, report, message):
    with pytest.raises(BoardError, match=message):
        checked_decision(data, case_id="c", snapshot_report=report)


@pytest.mark.parametrize("data, report", [
    (BASE, CLEAR),  # agrees, and chose the model's best option
    ({**BASE, "recommendation": "lev+5fu"}, CLEAR),  # the same option, written in another case
    ({**BASE, "recommendation": "Obs", "agreement_note": "Lev+5FU declined; agrees with the estimates."}, CLEAR),
    ({**BASE, "recommendation": "Obs", "agrees_with_model": False, "disagreement_reason": "Frail."}, CLEAR),
    ({**BASE, "recommendation": "Obs"}, INSUFFICIENT),  # the summary names no option: nothing to contradict
])
def test_a_consistent_or_explained_decision_is_accepted(data, report):
    decision = checked_decision(data, case_id="c", snapshot_report=report)
    assert decision.recommendation == data["recommendation"]
    assert decision.agreement_note == data.get("agreement_note", "")


@pytest.mark.parametrize("cohort, source, ref, label", [
    ("colon", "test_patient", "6", "colon · test patient 6"),
    ("colon", "test_patient", "Test patient 6", "colon · Test patient 6"),
    ("actg175", "csv_row", "row 3 of a.csv", "actg175 · row 3 of a.csv"),
    ("warfarin", "form", "New patient (form)", "warfarin · patient entered by hand"),
])
def test_a_case_nobody_named_is_named_after_its_patient(cohort, source, ref, label):
    assert default_label(cohort, source, ref) == label


@pytest.fixture
def meeting(board_roots, tmp_path, monkeypatch):
    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EQUIPOISE_DATABASE_URL", raising=False)
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(board_roots["original"]))
    st.cache_resource.clear()
    bundle = service.open_bundle(board_roots["original"] / "colon")
    log = service.open_log()
    with service.log_context(log, user="setup"):
        made = service.new_meeting(title="Colorectal MDT", date="2026-12-03", attendees=["Dr A:oncology"],
                                   chair=service.local_identity().user)
    yield made, bundle, log
    st.cache_resource.clear()
    log.store.close()


def _open(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def _case_fields(at) -> dict:
    return {w.label.split(" (")[0]: w.value for w in list(at.text_input) + list(at.text_area)
            if w.key and w.key.startswith("bd.case.")}


def test_each_added_case_starts_empty_and_is_named_after_its_own_patient(meeting):
    made, bundle, log = meeting
    (first, _), (second, _) = patients(bundle, 2)
    at = _open("pages/board_meetings.py")
    assert at.selectbox(key="bd.case.0.colon.test_id").value is None  # no patient chosen for the user
    at.selectbox(key="bd.case.0.colon.test_id").set_value(first).run()
    fields = _case_fields(at)
    assert fields == {"Label": "", "Question to the board": "", "Clinical context": ""}
    at.text_input(key=f"bd.case.0.colon.test.{first}.question").input("Adjuvant chemotherapy?")
    at.text_area(key=f"bd.case.0.colon.test.{first}.context").input("Stage III, ECOG 1")
    at.button(key="bd.add_test").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(f"colon · test patient {first}" in rendered(s.value) for s in at.success)

    # the next case: no patient chosen, and once one is, none of the first case's text
    assert at.selectbox(key="bd.case.1.colon.test_id").value is None
    at.selectbox(key="bd.case.1.colon.test_id").set_value(second).run()
    assert _case_fields(at) == {"Label": "", "Question to the board": "", "Clinical context": ""}
    at.button(key="bd.add_test").click().run()
    cases = [c.case for c in service.meeting_record(made.id).cases]
    assert [c.label for c in cases] == [f"colon · test patient {first}", f"colon · test patient {second}"]
    assert [c.source_ref for c in cases] == [first, second]
    assert [c.question for c in cases] == ["Adjuvant chemotherapy?", ""]
    assert [c.context for c in cases] == ["Stage III, ECOG 1", ""]
    records = {p: r for p, r in patients(bundle, 2)}
    assert [dict(c.record) for c in cases] == [
        {k: v for k, v in records[p].items() if k in bundle.spec.feature_names} for p in (first, second)]


def test_typed_text_does_not_follow_another_patient(meeting):
    made, bundle, log = meeting
    (first, _), (second, _) = patients(bundle, 2)
    at = _open("pages/board_meetings.py")
    at.selectbox(key="bd.case.0.colon.test_id").set_value(first).run()
    at.text_input(key=f"bd.case.0.colon.test.{first}.label").input("MDT-A")
    at.text_input(key=f"bd.case.0.colon.test.{first}.question").input("Surgery?")
    at.run()
    at.selectbox(key="bd.case.0.colon.test_id").set_value(second).run()  # changed their mind: another patient
    assert _case_fields(at) == {"Label": "", "Question to the board": "", "Clinical context": ""}
    at.button(key="bd.add_test").click().run()
    (case,) = [c.case for c in service.meeting_record(made.id).cases]
    assert (case.label, case.source_ref, case.question) == (f"colon · test patient {second}", second, "")


def _present(meeting) -> tuple:
    made, bundle, log = meeting
    pid, record = patients(bundle, 1)[0]
    with service.log_context(log, user="setup"):
        service.add_case(made.id, bundle, record, label="MDT-1", source="test_patient", source_ref=pid)
        snap = service.present(made.id, "MDT-1", bundle=bundle).snapshot
    return made, snap


def test_an_untouched_decision_form_records_nothing(meeting):
    made, snap = _present(meeting)
    at = _open("pages/board_decide.py")
    ns = f"{service.meeting_record(made.id).cases[0].case.id}.0"
    assert at.selectbox(key=f"bd.decision.{ns}.recommendation").value is None
    assert at.radio(key=f"bd.decision.{ns}.agrees").value is None
    assert at.multiselect(key=f"bd.decision.{ns}.present").value == []
    [b for b in at.button if b.label == "Record this version"][0].click().run()
    assert not at.exception
    errors = [rendered(e.value) for e in at.error]
    assert any("The decision is not complete, so nothing was recorded: choose the board's recommendation" in e
               and "agrees with the model's summary" in e and "write the rationale" in e for e in errors), errors
    assert service.meeting_record(made.id).cases[0].decisions == ()


def test_agreeing_with_the_model_while_choosing_outside_its_best_set_needs_an_explanation(meeting):
    made, snap = _present(meeting)
    at = _open("pages/board_decide.py")
    ns = f"{service.meeting_record(made.id).cases[0].case.id}.0"
    at.selectbox(key=f"bd.decision.{ns}.recommendation").set_value("Another treatment (in words)")
    at.text_input(key=f"bd.decision.{ns}.other").input("FOLFOX for 6 months")
    at.text_area(key=f"bd.decision.{ns}.rationale").input("Current standard.")
    at.radio(key=f"bd.decision.{ns}.agrees").set_value("Yes")
    [b for b in at.button if b.label == "Record this version"][0].click().run()
    if snap.report["summary"]["state"] in ("clear", "similar"):
        assert any("recommends FOLFOX for 6 months, which is not among" in rendered(e.value) for e in at.error)
        assert service.meeting_record(made.id).cases[0].decisions == ()
        at.text_input(key=f"bd.decision.{ns}.agreement_note").input("Same class of treatment as the model's option.")
        [b for b in at.button if b.label == "Record this version"][0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (decision,) = service.meeting_record(made.id).cases[0].decisions
    assert decision.recommendation == "FOLFOX for 6 months" and decision.agrees_with_model
    assert decision.guideline_concordant is None and decision.trial_eligible is None  # left unchosen: not recorded
