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
from pages._board import TRIAGE, attempt, choose_meeting, gate
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
if st.session_state.get(K.board("csv_result")):  # what became of the last CSV's rows, outside its tab
    refused, message = st.session_state.pop(K.board("csv_result"))
    (st.warning if refused else st.success)(inert(message))
ready = [i for i, name in enumerate(service.BUNDLED) if service.bundle_is_ready(name)]  # never train on opening
cohort = st.selectbox("Cohort (the model the case is presented with)", service.BUNDLED, index=(ready or [0])[0],
                      key=K.board("cohort"))
bundle = get_bundle(cohort)
question = st.text_input("Question to the board", key=K.board("question"))
context = st.text_area("Clinical context (diagnosis, stage, performance status, comorbidities, preferences)",
                       key=K.board("context"))
route = st.radio("Triage", TRIAGE, horizontal=True, key=K.board("route"),
                 format_func=lambda t: t.replace("_", " "))
test, current, upload = st.tabs(["Held-out test patient", "Patient open on the Patient page", "Rows of a CSV"])
with test:
    ids = list(test_records(cohort))
    pid = st.selectbox("Test patient", ids, key=K.board("test_id"))
    label = st.text_input("Label", value=f"{cohort}-{pid}", key=K.board("test_label"))
    if st.button("Add this patient", key=K.board("add_test")):
        if attempt(service.add_case, m.id, bundle, test_records(cohort)[pid], label=label, source="test_patient",
                   source_ref=pid, question=question, context=context, triage=route, by=identity):
            st.rerun()
with current:
    open_record = st.session_state.get(K.RECORD, {}).get(cohort)
    if open_record is None:
        st.info("No valid patient of this cohort is open on the Patient page.")
    else:
        came = st.session_state.get(K.FROM, {}).get(cohort)
        source = {SOURCES[0]: "test_patient", SOURCES[2]: "csv_row"}.get(came, "form")
        label = st.text_input("Label", key=K.board("open_label"))
        if st.button("Add the open patient", key=K.board("add_open")):
            if attempt(service.add_case, m.id, bundle, open_record, label=label, source=source, by=identity,
                       source_ref=st.session_state.get(K.LABEL, {}).get(cohort, ""), question=question,
                       context=context, triage=route):
                st.rerun()
with upload:
    file = st.file_uploader("CSV, one case per row", type=["csv"], key=K.board("csv"))
    column = st.text_input("Column that labels each case", value="label", key=K.board("label_column"))
    if file is not None and st.button("Add every row", key=K.board("add_csv")):
        result = attempt(service.add_cases_from_csv, m.id, bundle, file.getvalue(), label_column=column, by=identity,
                         name=file.name, question=question, triage=route)
        if result is not None:
            st.session_state[K.board("csv_result")] = (bool(result.refused), result.message())
            st.rerun()

