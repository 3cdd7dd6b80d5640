"""Sign in: the one page open to a visitor who has not signed in, or who holds no role."""

from pages._router import take_over

take_over()

import streamlit as st

from pages._auth import account, current_identity, sign_in_buttons
from pages._layout import inert

identity = current_identity()
account(identity)  # a signed-in person without a role can still sign out
st.title("Sign in")
if identity.local:
    st.info("Local mode: there is no sign-in; you hold every role on this machine.", icon=":material/computer:")
elif not identity.signed_in:
    st.write("Equipoise shows patient data only to people who have signed in and hold a role.")
    sign_in_buttons()
else:
    st.warning(f"You are signed in as {inert(identity.label)} but hold no role in Equipoise, so there is no "
               "page you may open. Ask your admin to add you to the roles file.", icon=":material/lock:")
