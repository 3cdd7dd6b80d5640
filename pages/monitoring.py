"""Monitoring (admin): a deployed model's predictions over time — the audit per window, input drift, alerts."""

from pages._router import take_over

take_over()

from pages._auth import require

require("monitoring")  # stops here, saying why, unless this person's role may open this page

import hashlib

import streamlit as st

from core import InputFileError, service
from core.reporting import figures
from pages._layout import inert
from pages._sidebar import sidebar
from pages import _keys as K

METRICS = ["calibration_intercept", "calibration_slope", "auc", "brier", "outcome_rate", "mean_predicted"]

st.title("Monitoring")
selection = sidebar()
bundle, spec = selection.bundle, selection.bundle.spec
st.caption("Upload the predictions the model made in use, with when each was made and the outcome that followed. "
           "Each window (month or week) gets the subgroup audit with 95% bootstrap intervals, input drift against "
           f"the training data (population stability index), and alerts when a metric is worse than in the "
           f"training-time audit of {spec.title}, corrected for every comparison of the window (Holm).")
if spec.is_dose:
    st.info("Monitoring covers risk models (binary outcomes); this cohort predicts a dose.")
    st.stop()

upload = st.file_uploader("Predictions (CSV or Parquet)", type=["csv", "parquet"], key=K.MO_UPLOAD)
if upload is None:
    st.stop()
data = upload.getvalue()
try:
    frame = service.read_predictions(data, name=upload.name)
except InputFileError as exc:
    st.error(inert(str(exc)))
    st.stop()
columns = [str(c) for c in frame.columns]
pick = st.columns(4)
time_column = pick[0].selectbox("When (date or time)", columns, key=K.MO_TIME)
label = pick[1].selectbox("Outcome (0/1)", columns, key=K.MO_LABEL)
score = pick[2].selectbox("Predicted risk (0–1)", columns, key=K.MO_SCORE)
window = pick[3].radio("Window", ["month", "week"], horizontal=True, key=K.MO_WINDOW)
attributes = st.multiselect("Protected attributes", columns, key=K.MO_ATTRS,
                            default=[a.name for a in spec.protected if a.name in columns])
n_boot = st.number_input("Bootstrap resamples per window", 20, 2000, 200, step=20, key=K.MO_N_BOOT)

key = (hashlib.sha256(data).hexdigest(), bundle.bundle_id, time_column, label, score, window, tuple(attributes),
       int(n_boot))
results = st.session_state.setdefault(K.MO_RESULT, {})
if st.button("Run the audits over time", key=K.MO_RUN, type="primary"):
    try:
        with st.spinner("Auditing every window…"):
            results[key] = service.monitor_predictions(frame, time_column=time_column, window=window, label=label,
                                                       score=score, attributes=attributes, bundle=bundle,
                                                       n_boot=int(n_boot)).to_dict()
    except (InputFileError, ValueError) as exc:
        st.error(inert(str(exc)))
        st.stop()
doc = results.get(key)
if doc is None:
    st.stop()

alerts = doc["alerts"]
if alerts:
    st.error(f"{len(alerts)} alert(s) in {len({a['window'] for a in alerts})} window(s).")
    st.dataframe([{"window": a["window"], "kind": a["kind"], "message": a["message"]} for a in alerts],
                 hide_index=True, width="stretch")
else:
    st.success("No window differs from training time beyond what chance explains, and no input has shifted "
               "markedly.")

groups = ["overall"] + sorted({f"{g['attribute']}: {g['group']}" for w in doc["windows"] if w["audit"]
                               for g in w["audit"]["groups"]})
left, right = st.columns(2)
metric = left.selectbox("Metric", METRICS, format_func=service.words.metric_label, key=K.MO_METRIC)
who = right.selectbox("Who", groups, key=K.MO_GROUP, format_func=lambda w: "all patients" if w == "overall" else
                      service.words.group_text(spec, *w.split(": ", 1)))
attribute, group = ("overall", "overall") if who == "overall" else who.split(": ", 1)
training = None
reference = service.subgroup_audit(bundle)
if reference is not None:
    ref = reference.to_dict()
    cells = [ref["overall"]] if attribute == "overall" else [g for g in ref["groups"]
                                                             if g["attribute"] == attribute and g["group"] == group]
    training = (cells[0]["metrics"].get(metric) or {}).get("value") if cells else None
st.plotly_chart(figures.monitoring_figure(doc, metric, attribute=attribute, group=group, training=training),
                key=K.MO_CHART)
if any(w["drift"] for w in doc["windows"]):
    st.plotly_chart(figures.drift_figure(doc, labels={f.name: f.label for f in bundle.spec.features} if bundle else None), key=K.MO_DRIFT)
with st.expander("Every window's numbers (JSON)"):
    st.json(doc)
