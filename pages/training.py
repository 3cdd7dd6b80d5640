"""Training (trainee): decide first, then see the advice (sometimes deliberately wrong), then answer again;
the debrief reveals which advice was wrong, the truth, what could have shown it, and your scores."""

from pages._router import take_over

take_over()

from pages._auth import require

identity = require("training")  # stops here, saying why, unless this person's role may open this page

import streamlit as st

from core import EquipoiseError, service
from pages._layout import inert
from pages._auth import open_log
from pages._state import get_bundle
from pages import _keys as K

log = open_log("Training", identity)
service.log_context(log, user=identity.user, role=identity.log_role, page="Training",
                    session=st.session_state[K.LOG_SESSION])  # no clinical patient named here
st.title("Training: automation bias")
if not identity.has("trainee"):
    st.warning("This page is for trainees. Ask an instructor for a trainee account.")
    st.stop()
me = identity.user

sessions = service.training_sessions()
if not sessions:
    st.info("No training session yet. An instructor creates one on the Training (instructor) page.")
    st.stop()
labels = {s.id: f"{s.settings.cohort} · {s.settings.n_cases} cases · created {s.created[:16]} · {s.id}" for s in sessions}
session_id = st.selectbox("Session", list(labels), format_func=labels.get, key=K.TR_SESSION)

if not service.has_consented(session_id, me):
    st.subheader("Before you start")
    st.info(service.CONSENT_TEXT)
    if st.button("I understand and agree", key=K.TR_CONSENT, type="primary"):
        service.consent_to_training(session_id, me)
        st.rerun()
    st.stop()


def show_patient(view: dict, bundle) -> None:
    st.subheader(f"Case {view['case']} of {view['of']}")
    if view.get("arm"):
        st.write(f"**Treatment received:** {inert(view['arm'])}")
    rows = service.input_rows(bundle, {"patient": view["inputs"], "warnings": []})  # clinical words, as elsewhere
    st.dataframe([{"Input": r["Input"], "Value": r["Value"]} for r in rows], hide_index=True)  # plain-text cells


def show_advice(view: dict) -> None:
    dose = view["kind"] == "dose"
    st.subheader("Advice")
    st.metric("Suggested dose (mg/week)" if dose else "Estimated risk under this treatment",
              f"{view['advice']:.1f}" if dose else f"{100 * view['advice']:.0f}%")
    if view.get("interval"):
        lo, hi = view["interval"]
        st.write(f"Interval: {lo:.0f} to {hi:.0f} mg/week" if dose else f"Interval: {100 * lo:.0f}% to {100 * hi:.0f}%")
    if view.get("baseline"):
        st.write(f"IWPC pharmacogenetic formula: {view['baseline']['mg_per_week']:.1f} mg/week")
    if view.get("out_of_distribution"):
        st.warning("This patient is unlike the training data (out-of-distribution).")
    for w in view.get("warnings", []):
        st.warning(f"{inert(w['severity'])}: {inert(w['message'])}")
    if view.get("explanation"):
        st.write("**Why:** " + "; ".join(inert(p) for p in view["explanation"]))


def commit(stage: str, answer: str, confidence: str | None = None) -> None:
    """Commit a typed answer; one that is empty or cannot be read records nothing and says what to type."""
    try:
        service.commit_typed_answer(session_id, me, view["case"], stage=stage, answer=answer, confidence=confidence)
    except EquipoiseError as exc:
        st.error(inert(str(exc)), icon=":material/block:")
        return
    st.rerun()


try:
    view = service.next_training_case(session_id, me)
    if view is not None and view["stage"] == "advice":  # decided (or advice-first): the advice is due now
        view = service.release_advice(session_id, me, view["case"])
except EquipoiseError as exc:
    st.error(inert(str(exc)))
    st.stop()

if view is not None:
    show_patient(view, get_bundle(next(x for x in sessions if x.id == session_id).settings.cohort))
    if view["stage"] == "initial":
        st.write("Decide first: commit your answer and how sure you are. The advice appears after that.")
        initial = st.text_input(f"Your first answer ({service.training_unit(view['kind'])})",  # starts empty
                                key=f"{K.TR_INITIAL}.{view['case']}", placeholder="type your answer")
        confidence = st.text_input("How sure are you? (0 = guessing, 100 = certain)", placeholder="0 to 100",
                                   key=f"{K.TR_CONFIDENCE}.{view['case']}")
        if st.button("Commit my answer", key=K.TR_COMMIT_INITIAL, type="primary"):
            commit("initial", initial, confidence)
    else:
        show_advice(view)
        start, label = service.final_answer_start(view["kind"], view.get("first_answer"))  # the trainee's own
        final = st.text_input(label, value=start, key=f"{K.TR_FINAL}.{view['case']}", placeholder="type your answer")
        if st.button("Commit my final answer", key=K.TR_COMMIT_FINAL, type="primary"):
            commit("final", final)
    st.stop()

debrief = service.training_debrief(session_id, me)
st.subheader("Debrief")
st.write("Every case is finished. Here is which advice was deliberately wrong, the truth, and your answers.")
st.dataframe(debrief.rows(), hide_index=True)
st.caption(debrief.correctness_rule)
for c in debrief.cases:
    if c.manipulated:
        with st.expander(f"Case {c.case}: what could have revealed the wrong advice"):
            for cue in c.cues or ("Nothing in the display flagged it: only your own judgement could.",):
                st.write(f"- {inert(cue)}")
st.subheader("Your scores")
st.dataframe([{"score": service.SCORE_LABELS[s.name], "result": service.describe_score(s)}
              for s in debrief.scores.scores], hide_index=True)
