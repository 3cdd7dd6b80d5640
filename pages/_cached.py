"""Cached, read-only results derived from a bundle (shared by all sessions: no patient data here)."""

import streamlit as st

from core.modeling.bundle import ModelBundle
from core.reporting.model_card import calibration_curve, model_card

_BY_HASH = {ModelBundle: lambda b: b.sha256}


@st.cache_resource(show_spinner=False, hash_funcs=_BY_HASH)
def card_for(bundle: ModelBundle) -> dict:
    return model_card(bundle).to_dict()


@st.cache_resource(show_spinner=False, hash_funcs=_BY_HASH)
def calibration_by(bundle: ModelBundle, attribute: str) -> list[dict]:
    """Test-split calibration curves per group of ``attribute`` (groups too small for a curve left out)."""
    return [c for c in calibration_curve(bundle, by=attribute) if c["n"]]
