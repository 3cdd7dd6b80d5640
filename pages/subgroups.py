"""Subgroups: for whom does the model work? Test-split performance by protected group, with CIs."""

from pages._router import take_over

take_over()

import pandas as pd
import streamlit as st

from core.reporting import figures
from core import service
from pages._cached import calibration_by
from pages._state import sidebar
from pages import _keys as K

selection = sidebar()
bundle, spec = selection.bundle, selection.bundle.spec
st.title("Subgroups")
audit = service.subgroup_audit(bundle)
if audit is None:
    st.error("This bundle holds no subgroup audit; train it again.")
    st.stop()

audit = audit.to_dict()
mine = service.patient_groups(bundle, selection.record) if selection.record else []
st.caption(f"Held-out test split, n={audit['overall']['n']}; {audit['settings']['n_boot']} bootstrap resamples; "
           f"{audit['settings']['confidence']:.0%} intervals; not corrected for the number of groups compared. "
           + ("This patient's groups are highlighted." if mine else ""))

metrics = list(audit["overall"]["metrics"])
attributes = sorted({g["attribute"] for g in audit["groups"]}, key=lambda a: (service.is_intersection(a), a))
left, right = st.columns(2)
metric = left.selectbox("Metric", metrics, format_func=lambda m: service.METRIC_NAMES.get(m, m), key=K.SG_METRIC)
chosen = right.multiselect("Attributes and intersections", attributes, default=[a for a in attributes if not service.is_intersection(a)],
                           key=K.SG_ATTRIBUTES)
st.plotly_chart(figures.subgroup_forest(audit, metric, highlight=mine, attributes=chosen), key=K.SG_FOREST)

rows = []
for g in audit["groups"]:
    if g["attribute"] not in chosen:
        continue
    m = g["metrics"].get(metric, {})
    shown = ("insufficient data: " + m["reason"]) if m.get("insufficient_data") else (
        f"{m['value']:.3f} [{m['ci_low']:.3f}, {m['ci_high']:.3f}]" if m.get("value") is not None else "not estimable")
    rows.append({"attribute": g["attribute"], "group": g["group"], "test n": g["n"], "train n": g.get("train_n"),
                 "train share": f"{g['train_share']:.1%}" if g.get("train_share") is not None else "",
                 service.METRIC_NAMES.get(metric, metric): shown, "worse than overall": "yes" if m.get("flagged") else "",
                 "this patient": "◀" if (g["attribute"], g["group"]) in mine else ""})
st.dataframe(pd.DataFrame(rows), hide_index=True)

st.subheader("Calibration by group")
single = [a for a in attributes if not service.is_intersection(a)]
by = st.selectbox("Group by", single, key=K.SG_CALIBRATION_BY)
curves = calibration_by(bundle, by)
unit, quantity = ("mg/week", "weekly dose") if spec.is_dose else ("%", "risk")
st.plotly_chart(figures.calibration_figure(curves, unit=unit, quantity=quantity), key=K.SG_CALIBRATION)
