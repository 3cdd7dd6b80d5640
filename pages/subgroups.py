"""Subgroups: for whom does the model work? Test-split performance by protected group, each against the rest."""

from pages._router import take_over

take_over()

from pages._auth import require

identity = require("subgroups")  # stops here, saying why, unless this person's role may open this page

import streamlit as st

from core.reporting import figures
from core import service
from pages._cached import calibration_by
from pages._sidebar import sidebar
from pages import _keys as K

CORRECTION_NAMES = {"holm": "Holm", "fdr_bh": "Benjamini–Hochberg", "none": "no"}
words, tables = service.words, service.tables

selection = sidebar()
bundle, spec = selection.bundle, selection.bundle.spec
st.title("Subgroups")
audit = service.subgroup_audit(bundle)
if audit is None:
    st.error("This bundle holds no subgroup audit; train it again.")
    st.stop()

audit = audit.to_dict()
settings = audit["settings"]
# one patient's groups only for a role that may open that patient (the Patient page), never via ?patient= for others
mine = service.patient_groups(bundle, selection.record) if selection.record and service.may_open(identity, "patient") \
    else []
n_tests, correction = settings.get("n_tests"), CORRECTION_NAMES.get(settings.get("correction"), settings.get("correction"))
tested = ", ".join(words.metric_label(m) for m in settings.get("flag_metrics", []))
st.caption(f"Held-out test split, n={audit['overall']['n']}; {settings['n_boot']} bootstrap resamples; "
           f"{settings['confidence']:.0%} intervals. Each group is compared with the rest of the test patients. "
           + ("This patient's groups are highlighted." if mine else ""))
if n_tests is not None:
    st.markdown(f"A group is marked **worse than the rest** only when the gap holds after allowing for all "
                f"{n_tests} comparisons made ({correction} correction, {settings.get('alpha', 0.05):.0%} level). "
                f"Only measures that mean the same in every group can mark a group: {tested}. The others are "
                "shown for information.")
    flags = [(g, k, m) for g in audit["groups"] for k, m in g["metrics"].items() if m.get("flagged")]
    if not flags:
        st.markdown(f"No group is worse than the rest after allowing for the {n_tests} comparisons.")
    for g, k, m in flags:
        st.markdown(f"- **{words.group_text(spec, g['attribute'], g['group'])}** — {words.metric_label(k)} "
                    f"{words.metric_value(k, m['value'])} vs {words.metric_value(k, m.get('complement'))} for the rest "
                    f"(p = {tables.p_text(m.get('p_value'))}; after allowing for all comparisons "
                    f"p = {tables.p_text(m.get('p_adjusted'))}, {correction} correction)")

metrics = list(audit["overall"]["metrics"])
attributes = sorted({g["attribute"] for g in audit["groups"]}, key=lambda a: (service.is_intersection(a), a))
left, right = st.columns(2)
metric = left.selectbox("Metric", metrics, format_func=words.metric_label, key=K.SG_METRIC)
chosen = right.multiselect("Groups and their combinations", attributes,
                           default=[a for a in attributes if not service.is_intersection(a)],
                           format_func=lambda a: words.attribute_label(spec, a), key=K.SG_ATTRIBUTES)
st.plotly_chart(figures.subgroup_forest(audit, metric, highlight=mine, attributes=chosen), key=K.SG_FOREST)

st.dataframe(tables.subgroup_rows(audit, spec, metric, attributes=chosen, mine=mine), hide_index=True)
with st.expander("How a group is marked worse"):
    st.markdown(
        "Each group is compared with all other test patients, on the same bootstrap resamples. "
        "The *p-value* is how often a gap at least this large in the worse direction would appear if "
        "the group were in truth served as well as the rest (a one-sided test using the bootstrap spread of "
        "the gap). Because many groups and measures are compared, some small p-values appear by chance; "
        f"the {correction} correction raises each p-value to allow for every comparison of the audit (the "
        "*p-value, all comparisons* column), so that "
        "the chance of marking even one group worse by accident stays below the level shown. "
        "For doses, the error in mg/week grows with the dose itself, so it is shown but never marks a group; "
        "the share within 20% of the dose needed, the average error as a share of that dose and interval "
        "coverage can. For risks, discrimination (AUC) and calibration can; the Brier score moves with a "
        "group's outcome rate and is shown only.")

st.subheader("Calibration by group")
single = [a for a in attributes if not service.is_intersection(a)]
by = st.selectbox("Group by", single, format_func=lambda a: words.attribute_label(spec, a), key=K.SG_CALIBRATION_BY)
curves = calibration_by(bundle, by)
unit, quantity = ("mg/week", "weekly dose") if spec.is_dose else ("%", "risk")
st.plotly_chart(figures.calibration_figure(curves, unit=unit, quantity=quantity), key=K.SG_CALIBRATION)
