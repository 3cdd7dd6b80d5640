"""Patient: what does the evidence support for this patient, why, and how sure is it?"""

from pages._router import take_over

take_over()

from pages._auth import logged_fragment, require

require("patient")  # stops here, saying why, unless this person's role may open this page

import streamlit as st

from core import service
from core.reporting import figures
from pages._layout import inert, inputs_table, units_of, warning_banners
from pages._sidebar import show_refusal, sidebar
from pages._state import report_for
from pages import _keys as K

selection = sidebar()
bundle, spec = selection.bundle, selection.bundle.spec
st.title("Patient")
st.caption(inert(f"{selection.label} · {spec.title}"))

if selection.record is None:
    if not show_refusal(spec.name):
        st.info("Choose a patient in the sidebar.")
    st.stop()

report = report_for(bundle, selection.record)
data = report.to_dict()
summary = data["summary"]
insufficient = summary["state"] == "insufficient_evidence"

# --- the headline: what the evidence supports, first --------------------------------------------
with st.container(border=True):
    if summary["state"] == "guideline_caution":
        st.warning(inert(summary["text"]), icon="⚠️")
    else:
        st.markdown(f"#### {inert(summary['text'])}")
    if spec.is_dose and not insufficient:
        dose = data["dose"]
        lo, hi = dose["interval"]
        cols = st.columns(3)
        guideline = summary["state"] == "guideline_caution"
        cols[0].metric("Model estimate (not a substitute)" if guideline else "Model estimate",
                       f"{dose['mg_per_week']:.1f} mg/week",
                       help=f"{dose['coverage']:.0%} prediction interval {lo:.1f}–{hi:.1f} mg/week")
        formula = dose["iwpc_formula_mg_per_week"]
        cols[1].metric("IWPC formula", f"{formula:.1f} mg/week" if formula is not None else "—",
                       help=dose.get("iwpc_formula_note"))
        cols[2].metric("Fixed starting dose", f"{dose['fixed_dose_mg_per_week']:.0f} mg/week")
    st.caption("Options with evidence, not an order: " + inert(data["disclaimer"]))
warning_banners(service.shown_warnings(data), fold=("insufficient_evidence",) if insufficient else ())
for col, fmt in zip(st.columns(2), ("html", "pdf")):  # made (and recorded in the audit log) only when clicked
    col.download_button(f"Download this report ({fmt.upper()})", service.patient_export_later(bundle, report, format=fmt),
                        file_name=f"equipoise-report.{fmt}", mime={"html": "text/html", "pdf": "application/pdf"}[fmt],
                        on_click="ignore", key=f"{K.P_EXPORT}.{fmt}")

if insufficient:
    st.markdown("**Why no number is shown**")
    for reason in summary["reasons"]:
        st.markdown(f"- {inert(reason)}")
elif spec.is_dose:
    st.plotly_chart(figures.dose_figure(data), width="stretch", key=K.P_DOSE)
else:
    comp = data["comparison"]
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(figures.arm_forest(data), width="stretch", key=K.P_ARMS)
    with right:
        st.markdown("**Every pair of arms** (difference in risk, percentage points)")
        st.dataframe([{"Arms": f"{p['a']} − {p['b']}", "Difference": f"{100 * p['difference']:+.1f}",
                       "95% interval": "—" if p["interval"] is None else
                       f"{100 * p['interval'][0]:+.1f} to {100 * p['interval'][1]:+.1f}",
                       "First lower in": "—" if p["share_a_lower"] is None else
                       f"{p['share_a_lower']:.0%}"} for p in data["pairwise"]], hide_index=True, width="stretch")
        st.caption("A difference is called clear only when its 95% interval excludes zero. \"First lower in\": the "
                   "share of the model's bootstrap refits in which the first arm has the lower risk.")
    probs = {a["arm"]: a["probability"] for a in data["arms"]}
    st.plotly_chart(figures.icon_array(probs[comp["favoured"]], probs[comp["versus"]], label_a=comp["favoured"],
                                       label_b=comp["versus"], outcome=data["outcome"]["label"]),
                    width="stretch", key=K.P_ICONS)

with st.expander("Inputs used for this estimate", expanded=insufficient):
    st.dataframe(inputs_table(bundle, data), hide_index=True, width="stretch")


@logged_fragment("Patient")
def why_section(data: dict) -> None:
    """The explanations. Only the open tab and an opened "Details" are drawn; opening one reruns only this."""
    st.subheader("Why")
    units = units_of(spec)

    def why(expl: dict, key: str) -> None:
        st.markdown(inert(expl["plain"]["summary"]))
        st.plotly_chart(figures.waterfall(expl, units=units), width="stretch", key=key)
        st.caption(inert(expl["plain"]["method"]))
        if expl["scale"] == "log-odds":
            details = st.expander("Details: the same explanation on the model's log-odds scale",
                                  key=f"{key}.details", on_change="rerun")  # drawn only when opened
            if details.open:
                with details:
                    st.plotly_chart(figures.waterfall(expl, units=units, scale="model"), width="stretch",
                                    key=f"{key}.model")

    if spec.is_dose:
        why(data["explanation"], K.P_WHY_DOSE)
        return
    comp = data["comparison"]
    tab_diff, tab_arm = st.tabs([inert(f"Why {comp['favoured']} differs from {comp['versus']}"),
                                 inert(f"Risk under {comp['favoured']}")], key=K.P_WHY_TABS, on_change="rerun")
    if tab_diff.open:
        with tab_diff:
            why(data["difference_explanation"], K.P_WHY_DIFFERENCE)
    if tab_arm.open:
        with tab_arm:
            why(data["explanation"], K.P_WHY_ARM)


if not insufficient:
    why_section(data)

    if data["missing_inputs"]:
        st.subheader("Missing inputs")
        for missing in data["missing_inputs"]:
            rows = []
            for s in missing["scenarios"]:
                pred = s["prediction"]
                shown = f"{pred:.1f} mg/week" if spec.is_dose else ", ".join(f"{a}: {100 * p:.0f}%" for a, p in pred.items())
                value = {0: "no", 1: "yes"}.get(s["value"], s["value"]) if spec.feature(missing["feature"]).type == "binary" \
                    else s["value"]
                rows.append({"if the value were": str(value), "prediction": shown})
            st.write(f"**{inert(missing['label'])}** is unknown. Predictions over its plausible values:")
            st.dataframe(rows, hide_index=True)
