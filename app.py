"""Equipoise dashboard: a router only. Each page is one clinician task."""

from urllib.parse import urlparse

import streamlit as st

from pages._keys import ROUTED
from pages._state import open_log

st.set_page_config(page_title="Equipoise", page_icon=":material/balance:", layout="wide")
st.session_state[ROUTED] = True  # pages/_router.py: the router is in charge of this session

pages = [
    st.Page("pages/patient.py", title="Patient", icon=":material/person:", default=True),
    st.Page("pages/what_if.py", title="What if", icon=":material/tune:"),
    st.Page("pages/subgroups.py", title="Subgroups", icon=":material/groups:"),
    st.Page("pages/model_card.py", title="Model card", icon=":material/description:"),
    st.Page("pages/audit_log.py", title="Audit log", icon=":material/receipt_long:"),
    st.Page("pages/board_meetings.py", title="Board agenda", icon=":material/event_list:"),
    st.Page("pages/board_present.py", title="Presenter view", icon=":material/co_present:"),
    st.Page("pages/board_decide.py", title="Board decision", icon=":material/gavel:"),
]
base = "/" + st.get_option("server.baseUrlPath").strip("/")
requested = urlparse(st.context.url or "").path.removeprefix(base).strip("/")
if requested and requested not in {p.url_path for p in pages}:  # our own "page not found", not a guess
    pages.append(st.Page("pages/not_found.py", title="Page not found", icon=":material/help:",
                         url_path=requested, visibility="hidden"))
page = st.navigation(pages)
open_log(page.title)  # every result shown from here on is committed to the audit log first
page.run()
