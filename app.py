"""Equipoise dashboard: a router only. Each page is one clinician task."""

import streamlit as st

st.set_page_config(page_title="Equipoise", page_icon=":material/balance:", layout="wide")

st.navigation([
    st.Page("pages/patient.py", title="Patient", icon=":material/person:", default=True),
    st.Page("pages/what_if.py", title="What if", icon=":material/tune:"),
    st.Page("pages/subgroups.py", title="Subgroups", icon=":material/groups:"),
    st.Page("pages/model_card.py", title="Model card", icon=":material/description:"),
]).run()
