"""The tumor-board pages headlessly (AppTest, through app.py): the presenter view freezes each case it shows,
steps next/previous, shows exactly the frozen snapshot after the model is retrained, with the current estimate
beside it only on request and labelled; the decision page records a version and the chair signs it off; the
pages are closed to people who are neither board chair nor member."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from _apps import APP, rendered
from _board_helpers import board_roots, patients  # noqa: F401  (fixture)
from streamlit.testing.v1 import AppTest

from core import service
from core.auth import Identity


@pytest.fixture
def meeting(board_roots, tmp_path, monkeypatch):
    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EQUIPOISE_DATABASE_URL", raising=False)
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(board_roots["original"]))
    st.cache_resource.clear()  # the app's audit log is opened anew, in this test's data dir
    bundle = service.open_bundle(board_roots["original"] / "colon")
    log = service.open_log()
    with service.log_context(log, user="setup"):
        made = service.new_meeting(title="Colorectal MDT", date="2026-12-03", attendees=["Dr A:oncology"],
                                   chair=service.local_identity().user)  # the page's user chairs it
        for i, (pid, record) in enumerate(patients(bundle, 2), start=1):
            service.add_case(made.id, bundle, record, label=f"MDT-{i}", source="test_patient", source_ref=pid,
                             question="Adjuvant chemotherapy?", context="*Stage III* <b>ECOG 1</b>")
    yield made, bundle, log
    st.cache_resource.clear()
    log.store.close()


def _open(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page(page)  # straight to the board page, through app.py's router
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_presenter_freezes_steps_and_keeps_the_snapshot_after_retraining(meeting, board_roots, monkeypatch):
    made, bundle, log = meeting
    at = _open("pages/board_present.py")
    assert at.title[0].value == "1/2 · MDT-1"
    assert any("\\*Stage III\\*" in m.value for m in at.markdown)  # user text inert, not Markdown
    first = service.meeting_record(made.id).cases[0].snapshot
    assert first is not None and first.bundle_id == bundle.bundle_id
    assert any(bundle.bundle_id in c.value for c in at.caption)
    at.button(key="bd.next").click().run()
    assert not at.exception and at.title[0].value == "2/2 · MDT-2"
    assert service.meeting_record(made.id).cases[1].snapshot is not None
    at.button(key="bd.prev").click().run()
    assert at.title[0].value == "1/2 · MDT-1" and not at.warning

    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(board_roots["retrained"]))
    at.run()
    assert not at.exception
    assert "has changed since this case was presented" in at.warning[0].value
    assert not any("CURRENT MODEL" in c.value for c in at.caption)  # only on request
    at.toggle(key="bd.compare").set_value(True).run()
    captions = [c.value for c in at.caption]
    assert any(c.startswith("FROZEN: what the board saw") and bundle.bundle_id in c for c in captions)
    assert any(c.startswith("CURRENT MODEL, for comparison only") for c in captions)
    assert service.meeting_record(made.id).cases[0].snapshot.report_json == first.report_json
    kinds = [e.kind for e in log.entries()]
    assert kinds.count("board_snapshot") >= 3 and log.verify().ok


def test_the_decision_page_records_a_version_and_the_chair_signs_it_off(meeting):
    made, bundle, log = meeting
    with service.log_context(log, user="setup"):
        service.present(made.id, "MDT-1", bundle=bundle)
    at = _open("pages/board_decide.py")
    ns = f"{service.meeting_record(made.id).cases[0].case.id}.0"
    best = service.meeting_record(made.id).cases[0].snapshot.report["summary"]["best_set"]
    at.selectbox(key=f"bd.decision.{ns}.recommendation").set_value(best[0] if best else "Obs")
    at.radio(key=f"bd.decision.{ns}.agrees").set_value("Yes")
    at.text_area(key=f"bd.decision.{ns}.rationale").input("Stage III, fit.")
    form_submit = [b for b in at.button if b.label == "Record this version"][0]
    form_submit.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    versions = service.meeting_record(made.id).cases[0].decisions
    assert len(versions) == 1 and versions[0].rationale == "Stage III, fit." and versions[0].agrees_with_model
    at.button(key="bd.sign").click().run()
    assert service.meeting_record(made.id).cases[0].decisions[0].signed_off
    at.button(key="bd.prep.pdf.None").click().run()
    assert not at.exception and any(e.kind == "export" for e in log.entries())


def test_only_the_meetings_chair_is_offered_the_sign_off(board_roots, tmp_path, monkeypatch):
    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EQUIPOISE_DATABASE_URL", raising=False)
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(board_roots["original"]))
    st.cache_resource.clear()
    bundle = service.open_bundle(board_roots["original"] / "colon")
    log = service.open_log()
    try:
        with service.log_context(log, user="setup"):
            made = service.new_meeting(title="Colorectal MDT", date="2026-12-03", chair="dr.someone.else")
            pid, record = patients(bundle, 1)[0]
            service.add_case(made.id, bundle, record, label="MDT-1", source="test_patient", source_ref=pid)
            service.present(made.id, "MDT-1", bundle=bundle)
            service.decide(made.id, "MDT-1", {"recommendation": "Obs", "rationale": "Test.", "agrees_with_model": False,
                                              "disagreement_reason": "Test."})
        at = _open("pages/board_decide.py")
        assert not at.exception and not [b for b in at.button if b.key == "bd.sign"]
        assert any("Only this meeting's chair (dr.someone.else) signs off" in rendered(c.value) for c in at.caption)
    finally:
        st.cache_resource.clear()
        log.store.close()


def test_the_board_pages_are_closed_to_others(meeting, monkeypatch):
    monkeypatch.setattr(service, "local_identity", lambda: Identity("nurse", frozenset({"clinician"}), local=True))
    for page in ("pages/board_meetings.py", "pages/board_present.py", "pages/board_decide.py"):
        assert not service.may_open(service.local_identity(), Path(page).stem)  # not in a clinician's navigation
        at = AppTest.from_file(str(Path(APP).parent / page), default_timeout=120)  # opened by its address
        at.session_state["eq.routed"] = True
        at.run()
        assert not at.exception, at.exception
        assert "needs one of the roles: board_chair, board_member" in rendered(at.error[0].value)
        assert not at.button and not at.get("text_input")