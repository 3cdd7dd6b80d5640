"""Board decision: record what the board decided on a presented case, the chair's sign-off (a later change is
a new version), the follow-up, and the meeting's or the case's report as PDF or HTML."""

from pages._router import take_over

take_over()

from pages._auth import require

require("board_decide")  # stops here, saying why, unless this person's role may open this page

import datetime as dt

import streamlit as st

from core import service
from pages import _keys as K
from pages._board import attempt, case_index, choose_meeting, gate
from pages._layout import inert

OTHER = "Another treatment (in words)"
YES_NO = {"Yes": True, "No": False}  # radios start unchosen; left unchosen, an optional answer is "not recorded"

identity = gate("Board decision")
st.title("Board decision")
record = choose_meeting()
index = None if record is None else case_index(record)
if index is None:
    st.info("No case yet: add cases on the Board agenda page.")
    st.stop()
m, c = record.meeting, record.cases[index]
if c.snapshot is None:
    st.info("This case has not been presented yet: open it in the Presenter view first (that freezes what the "
            "board sees).")
    st.stop()
report = c.snapshot.report
st.markdown(f"**Frozen summary** (bundle {inert(c.snapshot.bundle_id)}): {inert(report['summary']['text'])}")
st.caption(inert(f"Question: {c.case.question or '(none)'} · Context: {c.case.context or '(none)'}"))

st.subheader("Versions")
if c.decisions:
    st.dataframe([{"version": d.version, "recommendation": service.visible_text(d.recommendation),
                   "agrees with model": d.agrees_with_model,
                   "recorded": service.visible_text(f"{d.created_at} by {d.created_by}"),
                   "signed off": service.visible_text(f"{d.signed_off_at} by {d.signed_off_by}") if d.signed_off else "no"}
                  for d in reversed(c.decisions)], hide_index=True, width="stretch")
else:
    st.caption("No decision recorded yet.")
latest = c.decision
if latest is not None and not latest.signed_off:
    if service.may_sign_off(m, identity):
        if st.button(f"Sign off version {latest.version} as chair", type="primary", key=K.board("sign")):
            if attempt(service.sign_off, m.id, c.case.label, version=latest.version, by=identity):
                st.rerun()
    else:
        st.caption(inert(f"Only this meeting's chair ({m.chair}) signs off."))

ns = f"{c.case.id}.{len(c.decisions)}"  # each case's and each version's form starts empty: nothing is pre-chosen
with st.form(K.board(f"decision.{ns}")):
    st.subheader("New version" if c.decisions else "Decision")
    options = [a["arm"] for a in report.get("arms") or []]

    def field(name: str) -> str:
        return K.board(f"decision.{ns}.{name}")

    choice = st.selectbox("Recommendation", options + [OTHER], index=None, key=field("recommendation"),
                          placeholder="Choose the board's recommendation")
    other = st.text_input("Other treatment, in words (if chosen above)", key=field("other"))
    alternatives = st.text_input("Ranked alternatives, best first (comma-separated)", key=field("alternatives"))
    rationale = st.text_area("Rationale", key=field("rationale"))
    concordant = st.radio("Guideline-concordant", list(YES_NO), index=None, horizontal=True, key=field("guideline"))
    guideline_note = st.text_input("If not concordant: why", key=field("guideline_note"))
    agrees = st.radio("Agrees with the model's summary", list(YES_NO), index=None, horizontal=True, key=field("agrees"))
    reason = st.text_input("If not: why not", key=field("reason"))
    note = st.text_input("If the board agrees but chose another option: how", key=field("agreement_note"))
    dissent = st.text_input("Dissent", key=field("dissent"))
    trial = st.radio("Eligible for a trial", list(YES_NO), index=None, horizontal=True, key=field("trial"))
    actions = st.data_editor([{"action": "", "owner": "", "due": dt.date.today() + dt.timedelta(days=7)}],
                             num_rows="dynamic", key=field("actions"), width="stretch",
                             column_config={"due": st.column_config.DateColumn("due")})
    present = st.multiselect("Attendees present", [a.name for a in m.attendees], key=field("present"))
    if st.form_submit_button("Record this version", type="primary"):
        decision = {"recommendation": other if choice == OTHER else choice, "rationale": rationale,
                    "alternatives": [a.strip() for a in alternatives.split(",") if a.strip()],
                    "guideline_concordant": YES_NO.get(concordant), "guideline_note": guideline_note,
                    "agrees_with_model": YES_NO.get(agrees), "disagreement_reason": reason, "agreement_note": note,
                    "dissent": dissent, "trial_eligible": YES_NO.get(trial), "attendees_present": present,
                    "actions": [{"action": r["action"], "owner": r["owner"], "due": str(r["due"])}
                                for r in actions if str(r.get("action") or "").strip()]}
        if attempt(service.decide, m.id, c.case.label, decision, by=identity):
            st.rerun()

st.subheader("Comments")
for note in c.comments:
    st.write(inert(f"{note.created_at} · {note.created_by}: {note.text}"))
with st.form(K.board("comment"), clear_on_submit=True):
    text = st.text_area("Comment (members view and comment; the chair signs off)")
    if st.form_submit_button("Add comment") and attempt(service.comment, m.id, c.case.label, text, by=identity):
        st.rerun()

st.subheader("Follow-up")
for f in c.followups:
    st.write(inert(f"{f.created_at}: version {f.decision_version} "
                   f"{'implemented' if f.implemented else 'not implemented'}{' — ' + f.reason if f.reason else ''}"))
if any(d.signed_off for d in c.decisions):
    done = st.radio("Was the signed-off decision implemented?", ["Yes", "No"], horizontal=True, key=K.board("done"))
    why = st.text_input("If not, why (e.g. patient preference)", key=K.board("why"))
    if st.button("Record follow-up", key=K.board("follow")):
        if attempt(service.follow_up, m.id, c.case.label, implemented=done == "Yes", reason=why, by=identity):
            st.rerun()

st.subheader("Report")
prepared = st.session_state.setdefault(K.BD_EXPORT, {})
cols = st.columns(4)
for col, (fmt, scope) in zip(cols, [("pdf", None), ("html", None), ("pdf", c.case.label), ("html", c.case.label)]):
    what = f"{fmt.upper()}: {'whole meeting' if scope is None else 'this case'}"
    if col.button(f"Prepare {what}", key=K.board(f"prep.{fmt}.{scope}")):
        prepared[(m.id, scope, fmt)] = attempt(service.board_export, m.id, format=fmt, case=scope)
    content = prepared.get((m.id, scope, fmt))
    if content:
        col.download_button(f"Download {what}", content, file_name=f"board-{m.date}{'' if scope is None else f'-case{index + 1}'}.{fmt}",
                            mime="application/pdf" if fmt == "pdf" else "text/html", key=K.board(f"dl.{fmt}.{scope}"))
