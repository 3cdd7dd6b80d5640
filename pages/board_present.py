"""Presenter view: one case at a time for the projector (1920×1080, large type, no sidebar). Presenting a case
freezes what is shown; reopening it shows exactly that snapshot, with the current model's estimate beside it
(labelled) only if the model has changed since."""

from pages._router import take_over

take_over()

from pages._auth import require

require("board_present")  # stops here, saying why, unless this person's role may open this page

import streamlit as st

from pages import _keys as K
from pages._board import attempt, choose_meeting, gate, show_estimate
from pages._layout import inert
from core import service

PROJECTOR_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] { display: none; }
.block-container { max-width: 1800px; padding-top: 1.5rem; }
.stMarkdown p, .stMarkdown li { font-size: 1.55rem; line-height: 1.45; }
h1 { font-size: 3rem !important; } h3 { font-size: 2.1rem !important; line-height: 1.3 !important; }
</style>"""

identity = gate("Presenter view")
st.markdown(PROJECTOR_CSS, unsafe_allow_html=True)  # our own static CSS only; no user text goes here

top = st.columns([4, 1, 1])
record = choose_meeting(where=top[0])
if record is None or not record.cases:
    st.info("No case to present: add cases on the Board agenda page.")
    st.stop()
indexes = st.session_state.setdefault(K.BD_INDEX, {})
index = min(indexes.get(record.meeting.id, 0), len(record.cases) - 1)


def step(meeting_id: str, to: int) -> None:  # a callback: the new case is chosen before the page reruns
    st.session_state[K.BD_INDEX][meeting_id] = to


top[1].button("Previous", icon=":material/arrow_back:", key=K.board("prev"), disabled=index == 0, width="stretch",
              on_click=step, args=(record.meeting.id, index - 1))
top[2].button("Next", icon=":material/arrow_forward:", key=K.board("next"), disabled=index == len(record.cases) - 1,
              width="stretch", on_click=step, args=(record.meeting.id, index + 1))
case = record.cases[index].case
shown = attempt(service.present, record.meeting.id, case.label, by=identity)
if shown is None:
    st.stop()
st.title(inert(f"{index + 1}/{len(record.cases)} · {case.label}"))
st.markdown(f"**Question:** {inert(case.question or '(none given)')}  \n"
            f"**Triage:** {case.triage.replace('_', ' ')}")
st.markdown(inert(case.context or "(no clinical context given)"))

snap = shown.snapshot
frozen = f"Frozen {snap.created_at} · bundle {snap.bundle_id} · sha256 {snap.bundle_sha256[:12]}…"
if shown.model_changed:
    st.warning(inert(shown.note), icon=":material/history:")
    compare = st.toggle("Show the current model's estimate beside the frozen one", key=K.BD_COMPARE)
else:
    compare = False
if compare and shown.current is not None:
    left, right = st.columns(2)
    with left:
        st.caption(inert(f"FROZEN: what the board saw. {frozen}"))
        show_estimate(snap.report, key=K.board("frozen"))
    with right:
        st.caption(inert(f"CURRENT MODEL, for comparison only: bundle {shown.current_bundle_id}"))
        show_estimate(shown.current, key=K.board("current"))
else:
    st.caption(inert(frozen))
    show_estimate(snap.report, key=K.board("frozen"))
st.caption(inert(snap.report.get("disclaimer") or "Model output is decision support, not a decision."))
