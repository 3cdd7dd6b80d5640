"""Equipoise dashboard: a router only. Each page is one clinician task."""

import streamlit as st

st.set_page_config(page_title="Equipoise", page_icon="⚖️", layout="wide")

st.navigation([
    st.Page("pages/overview.py", title="Cohorts and models", icon="📋", default=True),
]).run()
