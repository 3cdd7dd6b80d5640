"""Audit log (admin): who saw what and when; verify the hash chain; export it for independent checking."""

from pages._router import take_over

take_over()

from pages._auth import require

require("audit_log")  # stops here, saying why, unless this person's role may open this page

import datetime as dt

import streamlit as st

from core import service
from pages._layout import inert
from pages._auth import open_log
from pages import _keys as K

log = open_log("Audit log")  # also when a test runs this page without app.py
st.title("Audit log")
st.caption("Every report, what-if, counterfactual, export and decision shown in Equipoise, committed before it "
           "was shown, with who saw it and the roles they held.")

cols = st.columns(3)
users = ["(everyone)"] + log.users()
user = cols[0].selectbox("User", users, key=K.AL_USER, format_func=service.visible_text)
patient = cols[1].text_input("Patient identifier or reference", key=K.AL_PATIENT,
                             help="A patient identifier is turned into its keyed reference here; never stored raw.")
today = dt.datetime.now(dt.timezone.utc).date()
dates = cols[2].date_input("Dates (UTC)", value=(today - dt.timedelta(days=30), today), key=K.AL_DATES)
since, until = (dates + (None, None))[:2] if isinstance(dates, tuple) else (dates, dates)
ref = None
if patient.strip():
    text = patient.strip()
    ref = text.lower() if len(text) == 64 and all(c in "0123456789abcdef" for c in text.lower()) else log.patient_ref(text)

entries = log.entries(user=None if user == users[0] else user, patient_ref=ref, since=since, until=until,
                      limit=1000, newest_first=True)
rows = service.visible_strings(service.tables.audit_entry_rows(entries))  # others' text: no bidi tricks
st.dataframe(rows, hide_index=True, width="stretch")
st.caption(f"{len(entries)} entries shown (newest first, at most 1000). Choose one below to see its details.")

if entries:
    by_seq = {e.seq: e for e in entries}
    seq = st.selectbox("Details of entry", list(by_seq), key=K.AL_SEQ,
                       format_func=lambda n: f"{n} · {service.words.audit_kind_label(by_seq[n].kind)} · "
                                             f"{str(by_seq[n].time)[:19].replace('T', ' ')}")
    report = log.report(seq)
    with st.expander(f"Entry {seq}: {service.words.audit_kind_label(by_seq[seq].kind)}", expanded=True):
        st.dataframe(service.visible_strings(service.tables.entry_detail_rows(by_seq[seq], report)),
                     hide_index=True, width="stretch")
    with st.expander("Technical: the stored report as JSON"):
        st.json(report or {}, expanded=False)

left, right = st.columns(2)
if left.button("Verify the chain", key=K.AL_VERIFY):
    result = log.verify()
    (st.success if result.ok else st.error)(inert(result.message))
if right.button("Prepare an export (JSON Lines)", key=K.AL_EXPORT):
    import io

    # the export itself is recorded (app.py set this run's log context) before its content leaves
    service.record_export("audit_log", details={"format": "jsonl", "reports": False})
    buffer = io.StringIO()
    log.export_jsonl(buffer)
    st.download_button("Download audit-log.jsonl", buffer.getvalue(), file_name="audit-log.jsonl",
                       mime="application/jsonl", key=K.AL_DOWNLOAD)
