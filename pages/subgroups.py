"""Subgroups: for whom does the model work? Test-split performance by protected group, each against the rest."""

from pages._router import take_over

take_over()

from pages._auth import require

identity = require("subgroups")  # stops here, saying why, unless this person's role may open this page

import pandas as pd
import streamlit as st

from core.reporting import figures
from core import service
from pages._cached import calibration_by
from pages._sidebar import sidebar
from pages import _keys as K

CORRECTION_NAMES = {"holm": "Holm", "fdr_bh": "Benjamini–Hochberg", "none": "no"}


def metric_label(name: str) -> str:
    """Plain name of an audit metric; per-arm c-for-benefit as 'benefit ranking, A vs B'."""
    if name.startswith("c_for_benefit[") and name.endswith("]"):
        return f"benefit ranking (c-for-benefit), {name[len('c_for_benefit['):-1]}"
    return service.METRIC_NAMES.get(name, name)


def number(v, fmt=".3f") -> str:
    return "" if v is None else format(v, fmt)


def p_text(p) -> str:
    return "" if p is None else ("< 0.001" if p < 0.001 else f"{p:.3f}")


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
tested = ", ".join(metric_label(m) for m in settings.get("flag_metrics", []))
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
        st.markdown(f"- **{g['attribute']}: {g['group']}** — {metric_label(k)} {number(m['value'])} vs "
                    f"{number(m.get('complement'))} for the rest (p = {p_text(m.get('p_value'))}; after allowing "
                    f"for all comparisons p = {p_text(m.get('p_adjusted'))}, {correction} correction)")

metrics = list(audit["overall"]["metrics"])
attributes = sorted({g["attribute"] for g in audit["groups"]}, key=lambda a: (service.is_intersection(a), a))
left, right = st.columns(2)
metric = left.selectbox("Metric", metrics, format_func=metric_label, key=K.SG_METRIC)
chosen = right.multiselect("Attributes and intersections", attributes, default=[a for a in attributes if not service.is_intersection(a)],
                           key=K.SG_ATTRIBUTES)
st.plotly_chart(figures.subgroup_forest(audit, metric, highlight=mine, attributes=chosen), key=K.SG_FOREST)

label = metric_label(metric)
rows = []
for g in audit["groups"]:
    if g["attribute"] not in chosen:
        continue
    m = g["metrics"].get(metric, {})
    shown = ("insufficient data: " + m["reason"]) if m.get("insufficient_data") else (
        f"{m['value']:.3f} [{m['ci_low']:.3f}, {m['ci_high']:.3f}]" if m.get("value") is not None
        and m.get("ci_low") is not None else number(m.get("value")) or "not estimable")
    diff = "" if m.get("difference") is None else (
        f"{m['difference']:+.3f}" + (f" [{m['difference_ci_low']:+.3f}, {m['difference_ci_high']:+.3f}]"
                                     if m.get("difference_ci_low") is not None else ""))
    rows.append({"attribute": g["attribute"], "group": g["group"], "test n": g["n"], "train n": g.get("train_n"),
                 "train share": f"{g['train_share']:.1%}" if g.get("train_share") is not None else "",
                 label: shown, "rest of the patients": number(m.get("complement")),
                 "difference (group − rest)": diff,
                 "p (chance alone)": p_text(m.get("p_value")),
                 "p after allowing for all comparisons": p_text(m.get("p_adjusted")),
                 "correction": CORRECTION_NAMES.get(m.get("correction"), m.get("correction") or ""),
                 "worse than the rest": "yes" if m.get("flagged") else "",
                 "this patient": "◀" if (g["attribute"], g["group"]) in mine else ""})
st.dataframe(pd.DataFrame(rows), hide_index=True)
with st.expander("How a group is marked worse"):
    st.markdown(
        "Each group is compared with all other test patients, on the same bootstrap resamples. "
        "*p (chance alone)* is how often a gap at least this large in the worse direction would appear if "
        "the group were in truth served as well as the rest (a one-sided test using the bootstrap spread of "
        "the gap). Because many groups and measures are compared, some small p-values appear by chance; "
        f"the {correction} correction raises each p-value to allow for every comparison of the audit, so that "
        "the chance of marking even one group worse by accident stays below the level shown. "
        "For doses, the error in mg/week grows with the dose itself, so it is shown but never marks a group; "
        "the share within 20% of the dose needed, the average error as a share of that dose and interval "
        "coverage can. For risks, discrimination (AUC) and calibration can; the Brier score moves with a "
        "group's outcome rate and is shown only.")

st.subheader("Calibration by group")
single = [a for a in attributes if not service.is_intersection(a)]
by = st.selectbox("Group by", single, key=K.SG_CALIBRATION_BY)
curves = calibration_by(bundle, by)
unit, quantity = ("mg/week", "weekly dose") if spec.is_dose else ("%", "risk")
st.plotly_chart(figures.calibration_figure(curves, unit=unit, quantity=quantity), key=K.SG_CALIBRATION)
