"""Who is using this browser session and what they may open (Streamlit-only helper).

With ``[auth]`` in ``.streamlit/secrets.toml`` the app is in OIDC mode: people sign in with ``st.login``;
the identity is ``st.user``'s e-mail (or subject) with the roles the roles file gives it. Without it the
app is in local mode: one person on their own machine, holding every role. A secrets file that exists but
cannot be read stops the app (it never falls back to local mode, which would open every page).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping

import streamlit as st

from core import service
from pages import _keys as K
from pages._keys import COHORT, SOURCE, SOURCES, TEST_ID
from pages._layout import inert

TITLES = {"patient": "Patient", "what_if": "What if", "subgroups": "Subgroups", "model_card": "Model card",
          "audit_log": "Audit log", "board_meetings": "Board agenda", "board_present": "Presenter view",
          "board_decide": "Board decision", "monitoring": "Monitoring", "training": "Training",
          "training_instructor": "Training (instructor)"}


def _auth_section() -> Mapping | None:
    """The ``[auth]`` section of the secrets, or None when there is none (local mode)."""
    try:
        return st.secrets["auth"] if "auth" in st.secrets else None
    except Exception as exc:  # Streamlit raises when no secrets file exists, and when one does not parse
        files = [p for p in st.get_option("secrets.files") or [] if os.path.exists(p)]
        if files:
            st.error(f"The secrets file could not be read, so nobody can sign in: {inert(str(exc))}",
                     icon=":material/block:")
            st.stop()
        return None


def oidc_mode() -> bool:
    """True when an identity provider is configured (``[auth]`` in the secrets)."""
    return _auth_section() is not None


def current_identity():
    """The :class:`core.auth.Identity` of this session: local mode's single user; or the signed-in person
    with their roles; or a signed-out visitor (no role). A malformed roles file stops the page, saying why."""
    if not oidc_mode():
        exposed = service.local_mode_exposure(st.get_option("server.address"))
        if exposed:  # every visitor would hold every role: say why and show nothing
            st.error(exposed, icon=":material/block:")
            st.stop()
        return service.local_identity()
    claims = st.user.to_dict()
    if not claims.get("is_logged_in"):
        return service.signed_out_identity()
    try:
        return service.signed_in_identity(claims)
    except service.RolesFileError as exc:
        st.error(f"{inert(str(exc))} Until it is fixed nobody has a role; ask your admin.", icon=":material/block:")
        st.stop()


def refuse(page: str, identity) -> None:
    """Say why ``identity`` may not open ``page`` (no patient data, nothing from core) and stop."""
    title = TITLES.get(page, page)
    st.title(title)
    if not identity.signed_in:
        st.info(f"Sign in to open the {title} page.", icon=":material/login:")
        sign_in_buttons()
    else:
        needed = ", ".join(service.PAGE_ROLES.get(page, ())) or "a role that does not exist"
        held = ", ".join(sorted(identity.roles)) or "none"
        st.error(f"The {title} page needs one of the roles: {needed}. You are signed in as "
                 f"{inert(identity.label)} with the roles: {held}. Ask your admin if you need it.",
                 icon=":material/block:")
    st.stop()


def require(page: str):
    """The page's own check, first thing on every page: stop with a message unless this session's person
    may open ``page``; then set the audit log's context naming them (also when the page runs without the
    router) and draw the sidebar's account box. Returns the :class:`core.auth.Identity`."""
    identity = current_identity()
    if not service.may_open(identity, page):
        refuse(page, identity)
    open_log(TITLES.get(page, page), identity)
    account(identity)
    return identity


def refusal_page(page: str, identity):
    """A callable page for the router: a page opened by its address without the role it needs."""
    def no_access():
        account(identity)
        refuse(page, identity)
    return no_access


def home_link(identity) -> None:
    """A link to the first page this person may open (the sign-in page when there is none)."""
    key = next((k for k in TITLES if service.may_open(identity, k)), None)
    if key is None:
        st.page_link("pages/sign_in.py", label="Go to the sign-in page", icon=":material/login:")
    else:
        st.page_link(f"pages/{key}.py", label=f"Go to the {TITLES[key]} page", icon=":material/home:")


def sign_in_buttons() -> None:
    """One button per configured identity provider (``[auth]`` itself, or ``[auth.NAME]`` sections)."""
    auth = _auth_section() or {}
    named = [k for k, v in auth.items() if isinstance(v, Mapping)]
    for name in ([None] if "client_id" in auth or not named else []) + named:
        label = "Sign in" if name is None else f"Sign in with {name}"
        if st.button(label, key=K.sign_in(name), type="primary", icon=":material/login:"):
            if name is None:
                st.login()
            else:
                st.login(name)


def account(identity) -> None:
    """The sidebar's account box: local mode's notice, or who is signed in and a sign-out button."""
    with st.sidebar:
        if identity.local:
            st.info("Local mode — single user, not for shared use. Configure an identity provider before "
                    "anyone else can reach this dashboard.", icon=":material/computer:")
        elif identity.signed_in:
            roles = ", ".join(sorted(identity.roles)) or "no role"
            st.caption(f"Signed in as {inert(identity.label)} · {roles}")
            if st.button("Sign out", key=K.SIGN_OUT, icon=":material/logout:"):
                service.record_sign_out(identity)  # committed to the log before the session ends
                st.session_state.pop(K.SIGNED_IN, None)
                st.logout()
                st.stop()


# --- the audit log: opened once per server process, its context set for every script run ---------
def audit_log():
    """The audit log of the store configured now (one shared resource per store URL: its engine)."""
    return _audit_log(service.store_url())


@st.cache_resource(show_spinner=False)
def _audit_log(url: str):
    return service.open_log(url)


def open_log(page: str, identity=None):
    """Set this run's log context (the person using the app, or local mode's OS user with every role) so
    that every result core shows on ``page`` is committed to the audit log before the page can lay it
    out; the first run of a signed-in session records the sign-in. Returns the log."""
    identity = identity or current_identity()
    ss = st.session_state
    if ss.get(K.LOG_SESSION) is None:
        ss[K.LOG_SESSION] = service.log_session()
    session = ss[K.LOG_SESSION]

    def patient_id():
        return ss.get(TEST_ID, {}).get(ss.get(COHORT)) if ss.get(SOURCE) == SOURCES[0] else None

    log = audit_log()
    service.log_context(log, user=identity.user, role=identity.log_role, page=page, patient_id=patient_id,
                        session=session)
    if identity.signed_in and ss.get(K.SIGNED_IN) != identity.user:
        service.record_sign_in(identity)
        ss[K.SIGNED_IN] = identity.user
    return log


def logged_fragment(page: str):
    """``st.fragment`` for a region of ``page`` that its own widgets rerun alone (a what-if slider redraws only the
    predictions, not the sidebar, the counterfactual or the other figures).

    A fragment's rerun skips app.py, where every run's audit-log context is set, and runs in a new thread, where
    the context is unset: so each run of the fragment sets it again first (tests/test_browser_fragment_log.py).
    Whatever the fragment shows is still committed to the log before it is shown."""
    def decorate(func):
        @functools.wraps(func)
        def run(*args, **kwargs):
            open_log(page)
            return func(*args, **kwargs)
        return st.fragment(run)
    return decorate


if __name__ == "__main__":  # run as a page by Streamlit's legacy pages-folder mode: hand over to the router
    from pages._router import take_over

    take_over()
