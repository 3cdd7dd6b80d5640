"""Training (instructor): create sessions (cohort, cases, share of wrong advice, condition, what is shown),
see every trainee's scores and their distribution, export the per-case rows."""

from pages._router import take_over

take_over()

from pages._auth import require

identity = require("training_instructor")  # stops here, saying why, unless this role may open it

import streamlit as st

from core import EquipoiseError, service
from core.reporting import figures
from pages._layout import inert
from pages._auth import open_log
from pages import _keys as K

log = open_log("Training (instructor)", identity)
service.log_context(log, user=identity.user, role=identity.log_role,
                    page="Training (instructor)",
                    session=st.session_state[K.LOG_SESSION])  # no clinical patient named here
st.title("Training sessions")
if not identity.has("instructor"):
    st.warning("This page is for instructors.")
    st.stop()

with st.form("new_session"):
    st.subheader("New session")
    cols = st.columns(4)
    ready_first = sorted(service.BUNDLED, key=lambda name: not service.bundle_is_ready(name))  # no surprise training
    cohort = cols[0].selectbox("Cohort", ready_first, key=K.TI_COHORT)
    cases = cols[1].number_input("Cases", min_value=1, max_value=200, value=20, key=K.TI_CASES)
    share = cols[2].slider("Share of deliberately wrong advice", 0, 100, 25, 5, key=K.TI_SHARE,
                           format="%d%%") / 100  # a share as a percentage, stored as a fraction
    seed = cols[3].number_input("Seed", min_value=0, max_value=2**32 - 1, value=1, key=K.TI_SEED)
    condition = st.radio("Condition", ["decide_first", "advice_first"], horizontal=True, key=K.TI_CONDITION,
                         format_func=lambda c: service.words.condition_label(c).capitalize())
    cols = st.columns(3)
    explanations = cols[0].checkbox("Show explanations", True, key=K.TI_EXPLANATIONS)
    intervals = cols[1].checkbox("Show intervals (and the IWPC dose)", True, key=K.TI_INTERVALS)
    warnings_on = cols[2].checkbox("Show warnings", True, key=K.TI_WARNINGS)
    if st.form_submit_button("Create the session", type="primary"):
        try:
            with st.spinner("Drawing cases from the held-out test split…"):
                made = service.new_training_session(cohort, cases=int(cases), manipulated_share=float(share),
                                                    seed=int(seed), condition=condition,
                                                    show_explanation=explanations, show_interval=intervals,
                                                    show_warnings=warnings_on, created_by=identity.user)
            st.success(f"Session {made.id} created. Trainees find it on the Training page.")
        except EquipoiseError as exc:
            st.error(inert(str(exc)))

sessions = service.training_sessions()
if not sessions:
    st.info("No session yet.")
    st.stop()
st.subheader("Sessions")
labels = {s.id: f"{s.settings.cohort} · {s.settings.n_cases} cases · {s.settings.manipulated_share:.0%} wrong · "
                f"{service.words.condition_label(s.settings.condition)} · {s.id}" for s in sessions}
session_id = st.selectbox("Session", list(labels), format_func=labels.get, key=K.TI_SESSION)
trainees = service.training_trainees(session_id)
if not trainees:
    st.info("No trainee has answered yet.")
    st.stop()

reports = {t: service.training_report(session_id, trainee=t) for t in trainees}
names = [n for n in service.SCORE_LABELS if n in reports[trainees[0]].scores.to_dict()]
st.dataframe([{"trainee": inert(t), "cases finished": len(r.rows),
               **{service.SCORE_LABELS[n]: service.describe_score(r.scores[n]) for n in names}}
              for t, r in reports.items()], hide_index=True)
whole = service.training_report(session_id)
st.write("**Whole session:** " + " · ".join(f"{service.SCORE_LABELS[n]}: {service.describe_score(whole.scores[n])}"
                                             for n in ("accuracy_initial", "accuracy_final", "over_reliance")))
chart = figures.trainee_scores_figure({service.visible_text(t): r.scores["accuracy_final"].to_dict()
                                       for t, r in reports.items()})
if chart is None:  # below the n rule a chart would draw what the table refuses to state
    st.caption("No chart yet: no trainee has finished enough cases for a rate with an interval.")
else:
    st.plotly_chart(chart, key=K.TI_CHART)

if st.button("Prepare the per-case rows as CSV", key=K.TI_EXPORT):
    st.download_button("Download training-cases.csv", service.training_cases_csv(session_id),
                       file_name=f"training-{session_id}.csv", mime="text/csv", key=K.TI_DOWNLOAD)
