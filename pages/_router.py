"""Keep app.py's router in charge when Streamlit runs a file of ``pages/`` directly.

Streamlit 1.67 still has a legacy mode for apps with a ``pages/`` folder beside the main script: until
some session has called ``st.navigation``, a request for ``/what_if`` on a fresh server runs
``pages/what_if.py`` (or even a helper such as ``pages/_state.py``) without ``app.py``, so the title,
the navigation and the page list are Streamlit's guesses. Every file in ``pages/`` therefore starts by
calling :func:`take_over`: if ``app.py`` has not run in this session, it runs ``app.py`` (which declares the
pages and calls ``st.navigation``, ending the legacy mode for the whole server) and stops the direct run.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st

ROUTED_KEY = "eq.routed"  # session-state key (re-exported as pages._keys.ROUTED): app.py's router ran

APP = Path(__file__).resolve().parents[1] / "app.py"


def take_over() -> None:
    """Hand over to app.py's router unless it is already in charge of this run."""
    if st.session_state.get(ROUTED_KEY):
        return
    runpy.run_path(str(APP), run_name="__main__")
    st.stop()


if __name__ == "__main__":
    take_over()
