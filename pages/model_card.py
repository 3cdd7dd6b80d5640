"""Model card: what the model is for, what it was trained on, how well it did, and its limits."""

from pages._router import take_over

take_over()

from pages._auth import require

require("model_card")  # stops here, saying why, unless this person's role may open this page

import pandas as pd
import streamlit as st

from core import service
from core.reporting import figures
from pages._sidebar import sidebar
from pages._cached import card_for
from pages import _keys as K
from pages._layout import inert

selection = sidebar()
card = card_for(selection.bundle)
st.title("Model card")
st.caption(f"{card['title']} · model {card['bundle_id']} · sha256 {card['sha256'][:16]}… · "
           f"{inert(service.words.signature_text(card['version']['signed_by']))}")

st.subheader("Intended use")
for line in card["intended_use"]:
    st.write(f"- {line}")
st.write("**Users:** " + " · ".join(u.rstrip(".") for u in card["intended_users"]))
with st.expander("Out of scope"):
    for line in card["out_of_scope"]:
        st.write(f"- {line}")

st.subheader("Data and design")
prov, design = card["provenance"], card["study_design"]
st.write(f"**Design:** {design['design']}")
st.write(f"**Source:** {prov['source']}  \n**Citation:** {prov['citation']}  \n**Licence:** {prov['licence']}  \n"
         f"**Data sha256:** `{prov['data_sha256']}`")
if prov.get("exclusions"):
    st.write("**Exclusions:** " + "; ".join(f"{e['reason']} (n={e['n']})" for e in prov["exclusions"]))
if prov.get("notes"):
    with st.expander("Notes on the data (outcome definition, inputs, levers)"):
        for note in prov["notes"]:
            st.write(f"- {inert(note)}")
st.write(f"**Patients:** {design['n_total']:,} ({design['n_train']:,} training, {design['n_test']:,} held-out test).")
st.dataframe(service.tables.population_rows(card["training_population"], selection.bundle.spec), hide_index=True)

st.subheader("Performance on the held-out test split")
perf = card["performance"]
st.dataframe(service.tables.performance_rows(perf), hide_index=True, width="stretch")
st.caption(" · ".join(f"{service.tables.model_name(r['name'])}: {r['description']}" for r in perf["rows"]))
st.write(perf["verdict"])
for note in perf["notes"]:
    st.caption(note)
effect = card.get("treatment_effect")
if effect:
    st.subheader("Treatment effect: the model beside the trial")
    st.write(effect["statement"])
    if effect["average_effect"]:
        st.dataframe(pd.DataFrame([{
            "Arms": f"{e['arm']} − {e['reference']}",
            "Model (percentage points)": f"{100 * e['model']:+.1f} ({100 * e['model_interval'][0]:+.1f} to "
                                         f"{100 * e['model_interval'][1]:+.1f})",
            "Trial (percentage points)": f"{100 * e['trial']:+.1f} ({100 * e['trial_interval'][0]:+.1f} to "
                                         f"{100 * e['trial_interval'][1]:+.1f})",
            "Patients (arm / reference)": f"{e['n_arm']} / {e['n_reference']}"} for e in effect["average_effect"]]),
            hide_index=True)
        st.caption(effect["note"] + " Trial method: " + effect["average_effect"][0]["trial_method"] + ".")
unit, quantity = ("mg/week", "weekly dose") if selection.bundle.spec.is_dose else ("%", "risk")
left, right = st.columns(2)
left.plotly_chart(figures.calibration_figure([c for c in card["calibration"] if c["n"]], unit=unit, quantity=quantity),
                  key=K.MC_CALIBRATION)
if card["decision_curve"]:
    right.plotly_chart(figures.decision_curve_figure(card["decision_curve"]), key=K.MC_DECISION)
coverage = card["interval_coverage"]
if "by_group" in coverage:
    right.plotly_chart(figures.coverage_figure(coverage), key=K.MC_COVERAGE)
    if "by_predicted_band" in coverage:
        st.markdown(f"**Interval coverage on the held-out test split** (nominal {coverage['nominal']:.0%})")
        st.dataframe(pd.DataFrame([
            {"Patients": f"{label}: {g['group']}", "Number": g["n"],
             "Covered": "—" if g.get("coverage") is None else f"{100 * g['coverage']:.1f}%"}
            for label, rows in (("race", coverage["by_group"]),
                                ("predicted dose", coverage["by_predicted_band"]["by_group"]),
                                ("stable dose found", coverage["by_observed_band"]["by_group"]))
            for g in rows]), hide_index=True)
        st.caption(coverage["guarantee"] + " Coverage by the stable dose found cannot be guaranteed by any method: "
                   "it conditions on the outcome, and patients who turn out to need a high dose are covered less "
                   "often than the nominal level.")
else:
    right.write(f"Ensemble intervals: observed event rate inside the average 95% interval in "
                f"{coverage['bins_with_observed_rate_inside']} of {len(coverage['bins'])} bins of predicted risk.")
    right.caption(coverage["note"])

if card.get("site_validation"):
    st.subheader("How it does at a site it never saw")
    sites = card["site_validation"]
    st.plotly_chart(figures.site_figure(sites), key=K.MC_SITES)
    st.dataframe(service.tables.site_rows(sites), hide_index=True)
    for note in sites["notes"]:
        st.caption(note)

if card.get("race_gap"):
    st.subheader("Race gap: mitigations compared")
    gap = card["race_gap"]
    st.plotly_chart(figures.race_gap_figure(gap), key=K.MC_RACE_GAP)
    st.dataframe(service.tables.race_gap_rows(gap), hide_index=True)
    st.caption(f"Operating point: {gap['rule']}")

st.subheader("Known limitations")
for item in card["limitations"]:
    st.write(f"- {item['message']}")

st.subheader("Version")
st.dataframe(service.tables.version_rows(card["version"]), hide_index=True)
with st.expander("Technical: the version record as stored (JSON)"):
    st.json(card["version"], expanded=False)
