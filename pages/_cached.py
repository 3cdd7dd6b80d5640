"""Cached, read-only results derived from a bundle (shared by all sessions: no patient data here)."""

import streamlit as st

from core.bundle import ModelBundle
from core.modelcard import model_card


@st.cache_resource(show_spinner=False, hash_funcs={ModelBundle: lambda b: b.sha256})
def card_for(bundle: ModelBundle) -> dict:
    return model_card(bundle).to_dict()
