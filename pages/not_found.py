"""Page not found: the address names no page of Equipoise."""

from pages._router import take_over

take_over()

import streamlit as st

from pages._auth import current_identity, home_link

st.title("Page not found")
st.write("This address names no page of Equipoise. Nothing was loaded and no patient is shown.")
home_link(current_identity())  # the Patient page, or the first page this person's role may open
