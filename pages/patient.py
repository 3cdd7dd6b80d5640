"""Patient: what does the model suggest for this patient, why, and how sure is it?"""

import streamlit as st

from core.reporting import figures
from pages._layout import units_of, warning_banners
from pages._state import report_for, show_refusal, sidebar
from pages import _keys as K

selection = sidebar()
bundle, spec = selection.bundle, selection.bundle.spec
st.title("Patient")
st.caption(f"{selection.label} · {spec.title}")

if selection.record is None:
    if not show_refusal(spec.name):
        st.info("Choose a patient in the sidebar.")
    st.stop()

report = report_for(bundle, selection.record)
data = report.to_dict()
warning_banners(data["warnings"])

if spec.is_dose:
    dose = data["dose"]
    left, right = st.columns([1, 2])
    with left:
        if dose["interval"] is None:
            st.metric("Predicted stable weekly dose", f"{dose['mg_per_week']:.1f} mg/week")
            st.error("Insufficient evidence for an interval for this patient's group: no confident range is shown.")
        else:
            lo, hi = dose["interval"]
            st.metric("Predicted stable weekly dose", f"{dose['mg_per_week']:.1f} mg/week",
                      help=f"{dose['coverage']:.0%} prediction interval {lo:.1f}–{hi:.1f} mg/week")
            st.write(f"{dose['coverage']:.0%} prediction interval: **{lo:.1f}–{hi:.1f} mg/week**")
        formula = dose["iwpc_formula_mg_per_week"]
        st.write(f"IWPC formula: **{formula:.1f} mg/week**" if formula is not None else dose.get("iwpc_formula_note", ""))
        st.write(f"Fixed starting dose: **{dose['fixed_dose_mg_per_week']:.0f} mg/week**")
    with right:
        st.plotly_chart(figures.dose_figure(data), width="stretch", key=K.P_DOSE)
    st.info("An option with evidence, not an order: the model estimates the stable dose of patients like this one "
            "in the IWPC cohort; dosing still follows INR monitoring.")
else:
    comp = data["comparison"]
    st.info(comp["statement"])
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(figures.arm_forest(data), width="stretch", key=K.P_ARMS)
    with right:
        lo, hi = comp.get("interval", [None, None])
        st.metric(f"{comp['favoured']} vs {comp['versus']}", f"{100 * comp['difference']:+.1f} points",
                  help="Absolute difference in predicted risk, favoured minus compared arm")
        if lo is not None:
            st.write(f"95% interval: **{100 * lo:+.1f} to {100 * hi:+.1f} percentage points**")
            st.write(f"{comp['favoured']} stays favoured in **{comp['favoured_share']:.0%}** of the bootstrap models.")
        st.plotly_chart(figures.difference_figure(data), width="stretch", key=K.P_DIFFERENCE)
    probs = {a["arm"]: a["probability"] for a in data["arms"]}
    st.plotly_chart(figures.icon_array(probs[comp["favoured"]], probs[comp["versus"]], label_a=comp["favoured"],
                                       label_b=comp["versus"], outcome=data["outcome"]["label"]),
                    width="stretch", key=K.P_ICONS)

st.subheader("Why")
units = units_of(spec)
if spec.is_dose:
    st.plotly_chart(figures.waterfall(data["explanation"], units=units), width="stretch", key=K.P_WHY_DOSE)
else:
    tab_arm, tab_diff = st.tabs([f"Risk under {data['comparison']['favoured']}",
                                 f"Why {data['comparison']['favoured']} differs from {data['comparison']['versus']}"])
    with tab_arm:
        st.plotly_chart(figures.waterfall(data["explanation"], units=units), width="stretch", key=K.P_WHY_ARM)
    with tab_diff:
        st.plotly_chart(figures.waterfall(data["difference_explanation"], units=units), width="stretch", key=K.P_WHY_DIFFERENCE)
st.caption("Exact per-patient SHAP values: the base value plus the contributions equals the model's output on the "
           "stated scale.")

if data["missing_inputs"]:
    st.subheader("Missing inputs")
    for missing in data["missing_inputs"]:
        rows = []
        for s in missing["scenarios"]:
            pred = s["prediction"]
            shown = f"{pred:.1f} mg/week" if spec.is_dose else ", ".join(f"{a}: {100 * p:.0f}%" for a, p in pred.items())
            rows.append({"if the value were": str(s["value"]), "prediction": shown})
        st.write(f"**{missing['label']}** is unknown. Predictions over its plausible values:")
        st.table(rows)

st.caption(data["disclaimer"])
