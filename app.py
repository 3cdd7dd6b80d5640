"""Equipoise dashboard: a router only. Each page is one clinician task; navigation lists only the pages the
person's role may open (see core.auth.roles.PAGE_ROLES), and a signed-out visitor sees only the sign-in page."""

from urllib.parse import urlparse

import streamlit as st

from core import service
from pages._auth import current_identity, refusal_page
from pages._keys import ROUTED
from pages._auth import open_log

st.set_page_config(page_title="Equipoise", page_icon=":material/balance:", layout="wide")
st.session_state[ROUTED] = True  # pages/_router.py: the router is in charge of this session

identity = current_identity()
PAGES = {
    "patient": st.Page("pages/patient.py", title="Patient", icon=":material/person:"),
    "what_if": st.Page("pages/what_if.py", title="What if", icon=":material/tune:"),
    "subgroups": st.Page("pages/subgroups.py", title="Subgroups", icon=":material/groups:"),
    "model_card": st.Page("pages/model_card.py", title="Model card", icon=":material/description:"),
    "audit_log": st.Page("pages/audit_log.py", title="Audit log", icon=":material/receipt_long:"),
    "board_meetings": st.Page("pages/board_meetings.py", title="Board agenda", icon=":material/event_list:"),
    "board_present": st.Page("pages/board_present.py", title="Presenter view", icon=":material/co_present:"),
    "board_decide": st.Page("pages/board_decide.py", title="Board decision", icon=":material/gavel:"),
    "monitoring": st.Page("pages/monitoring.py", title="Monitoring", icon=":material/monitoring:"),
    "training": st.Page("pages/training.py", title="Training", icon=":material/school:"),
    "training_instructor": st.Page("pages/training_instructor.py", title="Training (instructor)",
                                   icon=":material/assignment:", url_path="training_instructor"),
}
pages = [page for key, page in PAGES.items() if service.may_open(identity, key)]  # the first is the default
if not pages:  # signed out, or signed in without a role: the sign-in page only
    pages = [st.Page("pages/sign_in.py", title="Sign in", icon=":material/login:")]
base = "/" + st.get_option("server.baseUrlPath").strip("/")
requested = urlparse(st.context.url or "").path.removeprefix(base).strip("/")
if requested in PAGES and not service.may_open(identity, requested):  # a page opened by its address, no role
    pages.append(st.Page(refusal_page(requested, identity), title="No access", icon=":material/block:",
                         url_path=requested, visibility="hidden"))
elif requested and requested not in {p.url_path for p in pages}:  # our own "page not found", not a guess
    pages.append(st.Page("pages/not_found.py", title="Page not found", icon=":material/help:",
                         url_path=requested, visibility="hidden"))
page = st.navigation(pages)
open_log(page.title, identity)  # every result shown from here on is committed to the audit log first
page.run()
