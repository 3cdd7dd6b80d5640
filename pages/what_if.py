"""What if: change the patient's values and see predictions, intervals and explanations move."""

from pages._router import take_over

take_over()

from pages._auth import logged_fragment, require

require("what_if")  # stops here, saying why, unless this person's role may open this page

import hashlib
import json

import streamlit as st

from core import PatientValidationError, service
from core.reporting import figures
from pages._layout import inert, units_of, warning_banners
from pages._sidebar import sidebar
from pages._state import quietly
from pages import _keys as K

selection = sidebar()
bundle, spec = selection.bundle, selection.bundle.spec
st.title("What if")
if selection.record is None:
    st.info("Choose a patient in the sidebar.")
    st.stop()

record = selection.record
patient_key = hashlib.sha1(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:10]


@logged_fragment("What if")
def explore(bundle, record: dict, patient_key: str) -> None:
    """The sliders and what they change: a slider reruns only this region (the rest of the page stays)."""
    spec = bundle.spec
    unlocked = st.toggle("Unlock immutable features (genotype, race, sex, history) to see how the model depends on "
                         "them", key=K.unlock(spec.name))
    st.caption("Sliders start at the patient's values and stay within each field's limits; a value the patient's "
               "record lacks stays unknown until you set it. Locked features cannot change for this decision.")

    changes, locked_why, allowed = {}, {}, {}
    columns = st.columns(3)
    for i, s in enumerate(service.slider_specs(bundle, record)):
        key = K.slider(spec.name, patient_key, s.feature)
        locked = s.locked and not unlocked
        label = (s.label + (f" ({s.unit})" if s.unit else "")
                 + (" — unknown" if s.missing and s.type == "numeric" else "") + (" 🔒" if locked else ""))
        with columns[i % 3]:
            if s.type == "numeric":
                kind = int if s.integer else float
                value = st.slider(label, min_value=kind(s.min), max_value=kind(s.max), value=kind(s.start),
                                  step=kind(s.step), disabled=locked, key=key, help=s.help)
            else:
                labels = list(s.option_labels or map(str, s.options))  # by position: "unknown" is the option None
                chosen = st.selectbox(label, range(len(s.options)), index=list(s.options).index(s.start),
                                      format_func=lambda i, labels=labels: labels[i], disabled=locked, key=key,
                                      help=s.help)
                value = s.options[chosen]
        if locked:
            locked_why.setdefault(s.lock_reason.rstrip("."), []).append(s.label)
        elif s.allowed_change:
            allowed.setdefault(s.allowed_change, []).append(s.label)
        if s.missing and value == s.start:
            continue  # unknown stays unknown until the user moves it
        if value != s.value:
            changes[s.feature] = value

    for why, labels in locked_why.items():  # one line per reason, not one per widget
        st.caption("🔒 " + inert(f"{why}: {', '.join(labels)}."))
    for how, labels in allowed.items():
        st.caption(inert(f"{', '.join(labels)}: {how} (the search for the smallest change proposes only that)."))

    try:
        result = quietly(service.what_if, bundle, record, changes)
    except PatientValidationError as exc:
        for e in exc.errors:
            st.error(inert(e.message))
        st.stop()

    res = result.to_dict()
    modified = res["modified"]
    st.subheader("Predictions")
    insufficient = modified["summary"]["state"] == "insufficient_evidence"
    if insufficient:  # the changed patient: no number is more certain than the evidence
        st.markdown(f"**{inert(modified['summary']['text'])}**")
    else:
        st.write(inert(res["summary"]))
    st.caption(inert(res["caveat"]))
    shown_kinds = ("insufficient_evidence", "out_of_distribution", "outside_evidence")
    warning_banners([w for w in service.shown_warnings(modified) if w["kind"] in shown_kinds],
                    fold=("insufficient_evidence",) if insufficient else ())
    if insufficient:
        pass
    elif spec.is_dose:
        d, iv = res["dose_delta"], modified["dose"]["interval"]
        st.metric("Predicted weekly dose", f"{d['after']:.1f} mg/week",
                  delta=f"{d['delta']:+.1f} mg/week vs baseline" if changes else None,
                  delta_color="off", help=f"{modified['dose']['coverage']:.0%} interval {iv[0]:.1f}–{iv[1]:.1f} "
                  "mg/week" if iv else "Insufficient evidence for an interval")
    else:
        cols = st.columns(len(res["arm_deltas"]))
        intervals = {a["arm"]: a["interval"] for a in modified["arms"]}
        for col, d in zip(cols, res["arm_deltas"]):
            lo, hi = intervals[d["arm"]] or (None, None)
            col.metric(f"Risk with {d['arm']}", f"{100 * d['after']:.1f}%",
                       delta=f"{100 * d['delta']:+.1f} points" if changes else None,
                       delta_color="inverse" if spec.outcome.higher_is_worse else "normal")
            if lo is not None:
                col.caption(f"95% interval {100 * lo:.0f}–{100 * hi:.0f}%")
        if res["favoured_changed"]:
            st.info(inert(f"The model's favoured arm changes from {res['favoured_before']} to "
                          f"{res['favoured_after']}."))
    if not insufficient:
        left, right = st.columns(2)
        with left:
            st.plotly_chart(figures.dose_figure(modified) if spec.is_dose else figures.arm_forest(modified),
                            key=K.WI_PREDICTION)
        with right:
            st.caption(inert(modified["explanation"]["plain"]["summary"]))
            st.plotly_chart(figures.waterfall(modified["explanation"], units=units_of(spec)), key=K.WI_WHY)


explore(bundle, record, patient_key)

st.subheader("Smallest change that would alter the suggestion")
target = None
if spec.is_dose:
    target = st.number_input("Move the predicted dose by (mg/week)", value=-5.0, step=1.0, key=K.WI_TARGET)
memo = st.session_state.setdefault(K.COUNTERFACTUALS, {})  # per session: patient data never goes in a shared cache
memo_key = (spec.name, patient_key, target)
if memo_key not in memo:
    memo[memo_key] = service.counterfactual(bundle, record, dose_change_mg_per_week=target).to_dict()
cf = memo[memo_key]
with st.container(border=True):  # neutral: a counterfactual is a statement about the model, never a success
    st.markdown(inert(cf["message"]))
    if cf["allowed"]:
        st.caption(inert("Searched only the changes a clinician could make: " + "; ".join(cf["allowed"])
                         + ". Unknown values are never changed."))
    st.caption(inert(cf["caveat"]))


@logged_fragment("What if")
def effect_of_one_feature(bundle, record: dict) -> None:
    """Choosing another feature reruns only this region."""
    spec = bundle.spec
    st.subheader("One feature's effect for this patient")
    names = [f.name for f in spec.features]
    feature = st.selectbox("Feature", names, format_func=lambda n: spec.feature(n).label, key=K.WI_ICE_FEATURE)
    st.plotly_chart(figures.ice_figure(service.effect_curve(bundle, record, feature).to_dict()), key=K.WI_ICE)


effect_of_one_feature(bundle, record)
