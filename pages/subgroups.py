"""Subgroups: for whom does the model work? Test-split performance by protected group, with CIs."""

import pandas as pd
import streamlit as st

from core.reporting import figures
from core.fairness.patient_warnings import METRIC_NAMES, patient_groups
from pages._cached import calibration_by
from pages._state import sidebar

selection = sidebar()
bundle, spec = selection.bundle, selection.bundle.spec
st.title("Subgroups")
audit = bundle.extras.get("audit")
if audit is None:
    st.error("This bundle holds no subgroup audit; train it again.")
    st.stop()

mine = patient_groups(spec, selection.record) if selection.record else []
st.caption(f"Held-out test split, n={audit['overall']['n']}; {audit['settings']['n_boot']} bootstrap resamples; "
           f"{audit['settings']['confidence']:.0%} intervals; not corrected for the number of groups compared. "
           + ("This patient's groups are highlighted." if mine else ""))

metrics = list(audit["overall"]["metrics"])
attributes = sorted({g["attribute"] for g in audit["groups"]}, key=lambda a: (" x " in a, a))
left, right = st.columns(2)
metric = left.selectbox("Metric", metrics, format_func=lambda m: METRIC_NAMES.get(m, m), key="sg.metric")
chosen = right.multiselect("Attributes and intersections", attributes, default=[a for a in attributes if " x " not in a],
                           key="sg.attributes")
st.plotly_chart(figures.subgroup_forest(audit, metric, highlight=mine, attributes=chosen), key="sg.forest")

rows = []
for g in audit["groups"]:
    if g["attribute"] not in chosen:
        continue
    m = g["metrics"].get(metric, {})
    shown = ("insufficient data: " + m["reason"]) if m.get("insufficient_data") else (
        f"{m['value']:.3f} [{m['ci_low']:.3f}, {m['ci_high']:.3f}]" if m.get("value") is not None else "not estimable")
    rows.append({"attribute": g["attribute"], "group": g["group"], "test n": g["n"], "train n": g.get("train_n"),
                 "train share": f"{g['train_share']:.1%}" if g.get("train_share") is not None else "",
                 METRIC_NAMES.get(metric, metric): shown, "worse than overall": "yes" if m.get("flagged") else "",
                 "this patient": "◀" if (g["attribute"], g["group"]) in mine else ""})
st.dataframe(pd.DataFrame(rows), hide_index=True)

st.subheader("Calibration by group")
single = [a for a in attributes if " x " not in a]
by = st.selectbox("Group by", single, key="sg.calibration_by")
curves = calibration_by(bundle, by)
unit, quantity = ("mg/week", "weekly dose") if spec.is_dose else ("%", "risk")
st.plotly_chart(figures.calibration_figure(curves, unit=unit, quantity=quantity), key="sg.calibration")
