"""Board agenda: create a meeting, put cases on it (a held-out test patient, the patient open on the Patient
page, or the rows of a CSV), order them and route each to full discussion or standard of care."""

from pages._router import take_over

take_over()

from pages._auth import require

require("board_meetings")  # stops here, saying why, unless this person's role may open this page

import datetime as dt

import streamlit as st

from core import service
from pages import _keys as K
from pages._board import TRIAGE, added_case, attempt, case_fields, choose_meeting, gate, record_key
from pages._layout import inert
from pages._state import SOURCES, get_bundle, test_records

identity = gate("Board agenda")
st.title("Board agenda")

with st.expander("New meeting", expanded=not service.meetings()):
    with st.form(K.board("new")):
        title = st.text_input("Title", placeholder="Colorectal MDT")
        date = st.date_input("Date", value=dt.date.today())
        kind = st.text_input("Type", value="MDT")
        chair = st.text_input("Chair (their sign-in name: only they sign off decisions)", value=identity.user)
        attendees = st.text_area("Attendees, one per line as Name: Specialty", placeholder="Dr Okafor: oncology")
        quorum = st.text_input("Specialties needed for quorum (comma-separated)", placeholder="oncology, surgery")
        if st.form_submit_button("Create meeting", type="primary"):
            made = attempt(service.new_meeting, title=title, date=date, type=kind, chair=chair, by=identity,
                           attendees=[a for a in attendees.splitlines() if a.strip()],
                           quorum=[q.strip() for q in quorum.split(",") if q.strip()])
            if made:
                st.session_state[K.BD_MEETING] = made.id
                st.rerun()

record = choose_meeting()
if record is None:
    st.info("No meeting yet: create one above.")
    st.stop()
m = record.meeting
st.caption(inert(f"{m.type} · chair {m.chair} · " + "; ".join(f"{a.name} ({a.specialty})" for a in m.attendees)))
(st.success if m.quorate else st.warning)(inert(m.quorum_text()))

st.subheader("Agenda")
if not record.cases:
    st.info("No cases yet: add them below.")
for i, c in enumerate(record.cases):
    cols = st.columns([1, 5, 3, 3, 1, 1])
    cols[0].markdown(f"**{i + 1}**")
    cols[1].markdown(f"**{inert(c.case.label)}** · {inert(c.case.question or 'no question given')}")
    triage = cols[2].selectbox("Triage", TRIAGE, index=0 if c.case.triage == "full_discussion" else 1, key=K.board(f"triage.{c.case.id}"),
                               format_func=lambda t: t.replace("_", " "), label_visibility="collapsed")
    if triage != c.case.triage:
        attempt(service.set_triage, m.id, c.case.label, triage, by=identity)
        st.rerun()
    cols[3].caption(c.status)
    labels = [x.case.label for x in record.cases]
    for col, step, icon in ((cols[4], -1, ":material/arrow_upward:"), (cols[5], 1, ":material/arrow_downward:")):
        j = i + step
        if col.button("", icon=icon, key=K.board(f"move.{c.case.id}.{step}"), disabled=not 0 <= j < len(labels)):
            labels[i], labels[j] = labels[j], labels[i]
            attempt(service.reorder_cases, m.id, labels, by=identity)
            st.rerun()

st.subheader("Add a case")
note = st.container()  # always one element, so the tabs below keep their place (and their open tab) on reruns
if st.session_state.get(K.board("result")):  # what became of the last case or CSV rows, outside the tabs
    refused, message = st.session_state.pop(K.board("result"))
    (note.warning if refused else note.success)(inert(message))
ready = [i for i, name in enumerate(service.BUNDLED) if service.bundle_is_ready(name)]  # never train on opening
cohort = st.selectbox("Cohort (the model the case is presented with)", service.BUNDLED, index=(ready or [0])[0],
                      key=K.board("cohort"))
bundle = get_bundle(cohort)
route = st.radio("Triage", TRIAGE, horizontal=True, key=K.board("route"),
                 format_func=lambda t: t.replace("_", " "))
added = st.session_state.get(K.BD_ADDED, 0)  # every field below is keyed by it and by the patient: none carries over
test, current, upload = st.tabs(["Held-out test patient", "Patient open on the Patient page", "Rows of a CSV"])
with test:
    pid = st.selectbox("Test patient", list(test_records(cohort)), index=None, placeholder="Choose a held-out patient",
                       key=K.board_case(f"{added}.{cohort}", "test_id"))
    if pid is not None:
        fields = case_fields(f"{added}.{cohort}.test.{pid}", default=service.default_label(cohort, "test_patient", pid))
        if st.button("Add this patient", key=K.board("add_test")):
            added_case(attempt(service.add_case, m.id, bundle, test_records(cohort)[pid], source="test_patient",
                               source_ref=pid, triage=route, by=identity, **fields))
with current:
    open_record = st.session_state.get(K.RECORD, {}).get(cohort)
    if open_record is None:
        st.info("No valid patient of this cohort is open on the Patient page.")
    else:
        came = st.session_state.get(K.FROM, {}).get(cohort)
        source = {SOURCES[0]: "test_patient", SOURCES[2]: "csv_row"}.get(came, "form")
        ref = st.session_state.get(K.TEST_ID, {}).get(cohort, "") if source == "test_patient" else \
            st.session_state.get(K.LABEL, {}).get(cohort, "")
        fields = case_fields(f"{added}.{cohort}.open.{record_key(open_record)}",
                             default=service.default_label(cohort, source, ref))
        if st.button("Add the open patient", key=K.board("add_open")):
            added_case(attempt(service.add_case, m.id, bundle, open_record, source=source, source_ref=ref,
                               triage=route, by=identity, **fields))
with upload:
    file = st.file_uploader("CSV, one case per row", type=["csv"], key=K.board(f"csv.{added}"))
    if file is not None:
        column = st.text_input("Column that labels each case", value="label", key=K.board("label_column"))
        ns = f"{added}.{cohort}.csv.{record_key(file.getvalue())}"
        question = st.text_input("Question to the board (for every row)", key=K.board_case(ns, "question"))
        if st.button("Add every row", key=K.board("add_csv")):
            result = attempt(service.add_cases_from_csv, m.id, bundle, file.getvalue(), label_column=column,
                             by=identity, name=file.name, question=question, triage=route)
            if result is not None:
                st.session_state[K.board("result")] = (bool(result.refused), result.message())
                st.session_state[K.BD_ADDED] = added + 1
                st.rerun()
