"""Page not found: the address names no page of Equipoise."""

from pages._router import take_over

take_over()

import streamlit as st

st.title("Page not found")
st.write("This address names no page of Equipoise. Nothing was loaded and no patient is shown.")
st.page_link("pages/patient.py", label="Go to the Patient page", icon=":material/home:")
