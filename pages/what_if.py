"""What if: change the patient's values and see predictions, intervals and explanations move."""

from pages._router import take_over

take_over()

from pages._auth import require

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
specs = service.slider_specs(bundle, record)
explore = st.toggle("Explore the model: move every measured value (model sensitivity, not advice)",
                    key=K.unlock(spec.name))
levers = [s for s in specs if not s.locked]
if explore:
    st.caption("Explore the model: every value can move, within its limits. This shows how the model's estimate "
               "depends on each value; it is not advice, and changing a fixed or measured value in reality may not "
               "change the outcome as shown. A value the record lacks stays unknown until you set it.")
elif levers:
    st.caption("Plan: only the values a clinician can change for this decision are shown, starting at the patient's "
               "values. Switch on “Explore the model” to move the others.")
else:  # no recorded value is a lever: say so plainly instead of a page of locked sliders
    st.info(inert(service.words.no_lever_text(spec)), icon=":material/info:")
    st.page_link("pages/patient.py", label="Compare the arms on the Patient page", icon=":material/person:")

changes, locked_why, allowed = {}, {}, {}
shown = specs if explore else levers
columns = st.columns(3) if shown else []
for i, s in enumerate(shown):
    key = K.slider(spec.name, patient_key, s.feature)
    label = s.label + (f" ({s.unit})" if s.unit else "") + (" — unknown" if s.missing and s.type == "numeric" else "")
    with columns[i % 3]:
        if s.type == "numeric":
            kind = int if s.integer else float
            value = st.slider(label, min_value=kind(s.min), max_value=kind(s.max), value=kind(s.start),
                              step=kind(s.step), key=key, help=s.help,
                              format="%d" if s.integer else f"%.{s.decimals}f")  # 49.4 kg, not 49.44
        else:
            labels = list(s.option_labels or map(str, s.options))  # by position: "unknown" is the option None
            chosen = st.selectbox(label, range(len(s.options)), index=list(s.options).index(s.start),
                                  format_func=lambda i, labels=labels: labels[i], key=key, help=s.help)
            value = s.options[chosen]
    if s.allowed_change:
        allowed.setdefault(s.allowed_change, []).append(s.label)
    if s.missing and value == s.start:
        continue  # unknown stays unknown until the user moves it
    if value != s.value:
        changes[s.feature] = value
for s in specs:
    if s.locked and not explore:
        locked_why.setdefault(s.lock_reason.rstrip("."), []).append(s.label)

for why, labels in locked_why.items():  # one line per reason: what stays fixed in plan mode, and why
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
warning_banners([w for w in service.shown_warnings(modified) if w["kind"] in ("insufficient_evidence",
                                                                              "out_of_distribution", "outside_evidence")],
                fold=("insufficient_evidence",) if insufficient else ())
if insufficient:
    pass
elif spec.is_dose:
    d, iv = res["dose_delta"], modified["dose"]["interval"]
    st.metric("Predicted weekly dose", f"{d['after']:.1f} mg/week",
              delta=service.words.change_text(d["delta"], "mg/week vs baseline") if changes else None,
              delta_color="off", help=f"{modified['dose']['coverage']:.0%} interval {iv[0]:.1f}–{iv[1]:.1f} mg/week"
              if iv else "Insufficient evidence for an interval")
else:
    cols = st.columns(len(res["arm_deltas"]))
    intervals = {a["arm"]: a["interval"] for a in modified["arms"]}
    for col, d in zip(cols, res["arm_deltas"]):
        lo, hi = intervals[d["arm"]] or (None, None)
        col.metric(f"Risk with {d['arm']}", f"{100 * d['after']:.1f}%",
                   delta=service.words.change_text(100 * d["delta"], "points") if changes else None,
                   delta_color="inverse" if spec.outcome.higher_is_worse else "normal")
        if lo is not None:
            col.caption(f"95% interval {100 * lo:.0f}–{100 * hi:.0f}%")
    if res["favoured_changed"]:
        st.info(inert(f"The model's favoured arm changes from {res['favoured_before']} to {res['favoured_after']}."))
if not insufficient:
    left, right = st.columns(2)
    with left:
        st.plotly_chart(figures.dose_figure(modified) if spec.is_dose else figures.arm_forest(modified),
                        key=K.WI_PREDICTION)
    with right:
        st.caption(inert(modified["explanation"]["plain"]["summary"]))
        st.plotly_chart(figures.waterfall(modified["explanation"], units=units_of(spec)), key=K.WI_WHY)

if levers:  # with no lever the note above already says the arm is the only one: no second box saying the same
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

st.subheader("One feature's effect for this patient")
st.caption("Model sensitivity, not advice: the estimate along one value's range, the other values as set above "
           "(the marker is this patient with the changes above).")
names = [f.name for f in spec.features]
feature = st.selectbox("Feature", names, format_func=lambda n: spec.feature(n).label, key=K.WI_ICE_FEATURE)
st.plotly_chart(figures.ice_figure(service.effect_curve(bundle, {**record, **changes}, feature).to_dict()),
                key=K.WI_ICE)
