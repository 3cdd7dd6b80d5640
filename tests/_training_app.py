"""A router for the training browser test only: the two training pages, as app.py will list them at merge
(app.py's navigation is the integrator's; see the training report). Sets the audit-log context like app.py."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from pages._keys import ROUTED  # noqa: E402

st.session_state[ROUTED] = True
page = st.navigation([
    st.Page(str(ROOT / "pages" / "training.py"), title="Training", icon=":material/school:", default=True),
    st.Page(str(ROOT / "pages" / "training_instructor.py"), title="Training (instructor)",
            icon=":material/assignment:", url_path="training_instructor"),
])
page.run()
