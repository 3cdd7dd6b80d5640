"""Placeholder until the clinician dashboard lands: the bundled cohorts and what each model is."""

import streamlit as st

from core.cohorts import list_cohorts, load_cohort

st.title("Equipoise")
st.caption("Decision support for choosing between treatments: options with evidence, never orders.")


@st.cache_resource
def summaries():
    return [load_cohort(name).summary() for name in list_cohorts()]


for s in summaries():
    with st.container(border=True):
        st.subheader(s["title"])
        st.write(f"**Design:** {s['design']}")
        st.write(f"**Patients:** {s['n']:,}")
        if "arms" in s:
            st.write("**Arms:** " + ", ".join(f"{a} (n={n})" for a, n in s["arms"].items()))
        st.caption(f"{s['citation']} — {s['licence']}")
