"""Streamlit-only helpers of the tumor-board pages: the role gate, choosing a meeting and a case (shared by
the three board pages through session state), and the frozen summary laid out for the screen."""

from __future__ import annotations

import hashlib
import json

import streamlit as st

from core import EquipoiseError, service
from core.reporting import figures
from pages import _keys as K
from pages._auth import current_identity
from pages._layout import inert, warning_banners
from pages._auth import open_log

TRIAGE = ("full_discussion", "standard_of_care")


def gate(page: str):
    """Set this run's audit-log context for ``page`` (as the Audit log page does, so it holds on every rerun)
    and return the current identity (the page's ``require()`` has already checked its role)."""
    open_log(page)
    return current_identity()


def attempt(fn, *args, **kwargs):
    """Call a board service function; a refusal is shown as a plain message (never a traceback), None returned."""
    try:
        return fn(*args, **kwargs)
    except EquipoiseError as exc:
        st.error(inert(str(exc)), icon=":material/block:")
        return None


def record_key(record) -> str:
    """A short digest of a patient's record (or a file's bytes), for namespacing the fields that describe it."""
    data = record if isinstance(record, bytes) else json.dumps(record, sort_keys=True, default=str).encode()
    return hashlib.sha256(data).hexdigest()[:12]


def case_fields(ns: str, *, default: str) -> dict:
    """The label, question and clinical context of one case being added, keyed by ``ns`` (cohort, source,
    patient, add count): they start empty for every patient, and the label left empty is ``default``."""
    return {"label": st.text_input("Label (left empty, the case is named after the patient)", placeholder=default,
                                   key=K.board_case(ns, "label")),
            "question": st.text_input("Question to the board", key=K.board_case(ns, "question")),
            "context": st.text_area("Clinical context (diagnosis, stage, performance status, comorbidities, "
                                    "preferences)", key=K.board_case(ns, "context"))}


def added_case(case) -> None:
    """After a case was added: say so above the tabs and start the next case's fields empty (a refusal was shown)."""
    if case is None:
        return
    st.session_state[K.board("result")] = (False, f"Case {case.label!r} added to the agenda.")
    st.session_state[K.BD_ADDED] = st.session_state.get(K.BD_ADDED, 0) + 1
    st.rerun()


def choose_meeting(*, where=st):
    """The meeting chosen on any board page (a selectbox), or None when there is none yet."""
    meetings = service.meetings()
    if not meetings:
        return None
    ids = [m.id for m in meetings]
    names = {m.id: service.visible_text(f"{m.date} · {m.title}") for m in meetings}
    current = st.session_state.get(K.BD_MEETING)
    chosen = where.selectbox("Meeting", ids, index=ids.index(current) if current in ids else 0,
                             format_func=lambda i: names[i], key=K.BD_W_MEETING)
    st.session_state[K.BD_MEETING] = chosen
    return service.meeting_record(chosen)


def case_index(record, *, where=st) -> int | None:
    """The position (0-based) of the case chosen for this meeting, shared with the presenter view."""
    if not record.cases:
        return None
    labels = [service.visible_text(c.case.label) for c in record.cases]
    index = st.session_state.setdefault(K.BD_INDEX, {}).get(record.meeting.id, 0)
    index = min(index, len(labels) - 1)
    chosen = where.selectbox("Case", range(len(labels)), index=index, format_func=lambda i: labels[i],
                             key=K.BD_W_CASE)
    st.session_state[K.BD_INDEX][record.meeting.id] = chosen
    return chosen


def show_estimate(report: dict, *, key: str) -> None:
    """The summary, the intervals and the warnings of a (frozen or current) report; no number when the
    evidence is insufficient."""
    summary = report.get("summary") or {}
    st.markdown(f"### {inert(summary.get('text', ''))}")
    warning_banners(service.shown_warnings(report), fold=("insufficient_evidence",)
                    if summary.get("state") == "insufficient_evidence" else ())
    if summary.get("state") == "insufficient_evidence":
        for reason in summary.get("reasons", []):
            st.markdown(f"- {inert(reason)}")
    elif report.get("dose"):
        st.plotly_chart(figures.dose_figure(report), width="stretch", key=f"{key}.dose")
    elif report.get("arms"):
        st.plotly_chart(figures.arm_forest(report), width="stretch", key=f"{key}.arms")


if __name__ == "__main__":  # run as a page by Streamlit's legacy pages-folder mode: hand over to the router
    from pages._router import take_over

    take_over()
