"""Cached, read-only results derived from a bundle (shared by all sessions: no patient data here)."""

import streamlit as st

from core import ModelBundle, service

_BY_HASH = {ModelBundle: lambda b: b.sha256}


@st.cache_resource(show_spinner=False, hash_funcs=_BY_HASH)
def card_for(bundle: ModelBundle) -> dict:
    return service.model_card(bundle).to_dict()


@st.cache_resource(show_spinner=False, hash_funcs=_BY_HASH)
def calibration_by(bundle: ModelBundle, attribute: str) -> list[dict]:
    """Test-split calibration curves per group of ``attribute`` (groups too small for a curve left out)."""
    return [c for c in service.calibration_curve(bundle, by=attribute) if c["n"]]

if __name__ == "__main__":  # run as a page by Streamlit's legacy pages-folder mode: hand over to the router
    from pages._router import take_over

    take_over()
