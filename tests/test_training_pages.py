"""The training pages headlessly (AppTest): decide first — no advice on screen before the initial answer
is committed — then advice, final answer, debrief with the manipulated case revealed; the instructor page
creates a session and shows the trainee's scores."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def store_env(tmp_path, monkeypatch, bundle_dirs, own_checkpoints):
    # a store of its own, so its own checkpoint file too: checked against another store's, a log reads as rewritten
    monkeypatch.setenv("EQUIPOISE_DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite3'}")
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(bundle_dirs("warfarin").parent))
    return tmp_path


def page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=180)
    at.session_state["eq.routed"] = True  # as if app.py's router ran (its navigation lists the page at merge)
    return at


def texts(at) -> str:
    parts = [e.value for e in (*at.title, *at.subheader, *at.markdown, *at.info, *at.warning, *at.caption)]
    return "\n".join(str(p) for p in parts)


def test_decide_first_then_advice_then_final_then_debrief(store_env):
    from core import service

    session = service.new_training_session("warfarin", cases=2, manipulated_share=0.5, seed=5)
    sheet = service.training_case_sheet(session.id)
    at = page("training.py")
    at.run()
    assert not at.exception and "deliberately wrong" in texts(at)
    at.button(key="tr.consent").click().run()
    for case in (1, 2):
        assert not at.exception
        assert f"Case {case} of 2" in texts(at)
        inputs = at.dataframe[0].value  # the patient in clinical words, as on the Patient page
        assert list(inputs.columns) == ["Input", "Value"] and not any("_" in x or "\\" in x for x in inputs["Input"])
        assert "Advice" not in [s.value for s in at.subheader] and not at.metric  # nothing before deciding
        at.text_input(key=f"tr.initial.{case}").input("33")
        at.text_input(key=f"tr.confidence.{case}").input("70")
        at.button(key="tr.commit_initial").click().run()
        assert "Advice" in [s.value for s in at.subheader]
        assert at.metric[0].value == f"{sheet[case - 1]['advice']:.1f}"
        at.text_input(key=f"tr.final.{case}").input("34")
        at.button(key="tr.commit_final").click().run()
    assert not at.exception and "Debrief" in [s.value for s in at.subheader]
    table = at.dataframe[0].value
    assert list(table["deliberately wrong"]).count("yes") == 1 and list(table["your first answer"]) == ["33.0", "33.0"]
    scores = at.dataframe[1].value
    assert "Accuracy before the advice" in list(scores["score"])
    assert any("too few cases" in r for r in scores["result"])  # n = 2: counts, never a confident rate
    entries = list(service.open_log().export())
    kinds = [e["body"]["kind"] for e in entries]
    assert kinds.count("training_advice") >= 2 and "training_debrief" in kinds and "patient_report" not in kinds
    assert all(e["body"]["patient_ref"] is None for e in entries)  # never a clinical patient's reference
    report = service.training_report(session.id, trainee=service.local_identity().user)
    assert [r.initial for r in report.rows] == [33.0, 33.0] and [r.final for r in report.rows] == [34.0, 34.0]


def test_instructor_creates_a_session_and_sees_scores(store_env):
    from core import service

    at = page("training_instructor.py")
    at.run()
    assert not at.exception and "No session yet." in texts(at)
    at.selectbox(key="ti.cohort").set_value("warfarin")
    at.number_input(key="ti.cases").set_value(3)
    at.slider(key="ti.share").set_value(100)  # percent
    at.button[0].click().run()
    assert not at.exception, at.exception
    [made] = service.training_sessions()
    assert made.settings.n_cases == 3 and made.settings.manipulated_share == 1.0
    service.submit_training_answers(made.id, "ann", [{"case": i, "initial": 30, "confidence": 50, "final": 30}
                                                     for i in (1, 2, 3)])
    at.run()
    assert not at.exception
    assert list(at.dataframe[0].value["trainee"]) == ["ann"]
    at.button(key="ti.export").click().run()
    assert not at.exception and at.get("download_button")


def test_the_patient_page_shows_the_models_dose_not_the_manipulated_one(store_env, bundle_dirs, monkeypatch):
    from core import service
    from core.service.training import _cases
    from _apps import open_page

    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(bundle_dirs("actg175").parent))  # the app's default cohort too
    session = service.new_training_session("warfarin", cases=3, manipulated_share=1.0, seed=2)
    cases = _cases(session.id, None)
    at = open_page("pages/patient.py", "warfarin")
    for c in cases:
        at.sidebar.selectbox(key="w.test_id").set_value(c.patient_id).run()
        assert not at.exception
        shown = " ".join(str(m.value) for m in at.metric)
        assert f"{c.model_advice:.1f} mg/week" in shown  # the clinical view: the model's own dose
        assert f"{c.advice:.1f}" not in shown and "manipulated" not in texts(at).lower()


def test_answers_start_empty_and_keeping_the_first_answer_records_it(store_env):
    from core import service

    session = service.new_training_session("warfarin", cases=2, manipulated_share=0.5, seed=7)
    at = page("training.py")
    at.run()
    at.button(key="tr.consent").click().run()
    assert at.text_input(key="tr.initial.1").value == "" and at.text_input(key="tr.confidence.1").value == ""
    at.button(key="tr.commit_initial").click().run()  # untouched: nothing is recorded
    assert not at.exception and "Your first answer is empty" in " ".join(e.value for e in at.error)
    assert "Advice" not in [s.value for s in at.subheader]
    at.text_input(key="tr.initial.1").input("40,5")  # a decimal comma: 40.5, never 405
    at.button(key="tr.commit_initial").click().run()
    assert "How sure you are is empty" in " ".join(e.value for e in at.error)
    at.text_input(key="tr.confidence.1").input("80")
    at.button(key="tr.commit_initial").click().run()
    assert not at.error and "Advice" in [s.value for s in at.subheader]
    final = at.text_input(key="tr.final.1")
    assert final.value == "40.5" and "it starts at your first answer: 40.5 mg/week" in final.label
    at.button(key="tr.commit_final").click().run()  # kept the first answer without retyping it

    at.text_input(key="tr.initial.2").input("50")
    at.text_input(key="tr.confidence.2").input("60")
    at.button(key="tr.commit_initial").click().run()
    at.text_input(key="tr.final.2").input("abc")
    at.button(key="tr.commit_final").click().run()
    assert "Your final answer (mg/week) must be a number" in " ".join(e.value for e in at.error)
    at.text_input(key="tr.final.2").input("45")
    at.button(key="tr.commit_final").click().run()
    assert not at.exception and "Debrief" in [s.value for s in at.subheader]
    report = service.training_report(session.id, trainee=service.local_identity().user)
    assert [(r.initial, r.confidence, r.final) for r in report.rows] == [(40.5, 80.0, 40.5), (50.0, 60.0, 45.0)]
