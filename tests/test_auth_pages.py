"""Sign-in and roles in the dashboard, driven headlessly (AppTest with ``at.user`` and ``[auth]`` secrets):
navigation lists only the pages the role may open, a page without the role stops with a message, a
signed-out visitor sees only the sign-in page and no patient data, sign-in and sign-out are logged once."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests._apps import rendered

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
FILES = {"patient": "pages/patient.py", "what_if": "pages/what_if.py", "subgroups": "pages/subgroups.py",
         "model_card": "pages/model_card.py", "audit_log": "pages/audit_log.py"}
AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "a-test-cookie-secret-of-32-chars",
        "client_id": "equipoise", "client_secret": "not-a-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
ROLES = """
[users]
"email:ana@example.org" = ["clinician"]
"email:ben@example.org" = ["admin"]
"email:tess@example.org" = ["trainee"]
"""


@pytest.fixture(scope="module")
def actg175(bundle_dirs):
    """Only the default cohort's bundle is needed (trained once per test session)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("EQUIPOISE_BUNDLE_DIR", str(bundle_dirs("actg175").parent))
    yield
    mp.undo()


@pytest.fixture
def roles(tmp_path, monkeypatch, actg175):
    path = tmp_path / "roles.toml"
    path.write_text(ROLES, encoding="utf-8")
    monkeypatch.setenv("EQUIPOISE_ROLES_FILE", str(path))
    return path


def _app(user: dict | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets = {"auth": dict(AUTH)}
    at.user = user if user is not None else {"is_logged_in": False}
    return at


def _signed_in(email: str, name: str = "Test Person") -> dict:
    return {"is_logged_in": True, "email": email, "email_verified": True, "name": name, "sub": f"sub-{email}",
            "iss": "https://login.example.org"}


def _openable(at: AppTest) -> set[str]:
    """The pages navigation registered in the last run (switch_page refuses any other)."""
    out = set()
    for key, file in FILES.items():
        try:
            at.switch_page(file)
        except ValueError:
            continue
        out.add(key)
    if out:  # probing moved the test to another page: back to the default one (app.py's first)
        at.switch_page(FILES[next(k for k in FILES if k in out)])
    return out


def _entries(kind: str, after: int):
    from core import service

    return [e for e in service.open_log().entries() if e.seq > after and e.kind == kind]


def _last_seq() -> int:
    from core import service

    return len(service.open_log())


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("title", "markdown", "info", "warning", "error", "caption")
                    for e in getattr(at, kind))


def test_a_signed_out_visitor_sees_only_the_sign_in_page(roles):
    at = _app({"is_logged_in": False}).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Sign in"]
    assert at.button(key="auth.sign_in.default").label == "Sign in"
    assert _openable(at) == set()
    assert not at.sidebar.selectbox  # no cohort, no patient picker: no patient data at all
    assert "eq.record" not in at.session_state


def test_a_clinician_sees_the_clinical_pages_and_is_logged_by_name_and_role(roles):
    before = _last_seq()
    at = _app(_signed_in("ana@example.org", "Ana Silva")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Patient"
    assert _openable(at) == {"patient", "what_if", "subgroups", "model_card"}
    assert "Signed in as Ana Silva (ana@example.org) · clinician" in [rendered(c.value) for c in at.sidebar.caption]
    assert at.sidebar.button(key="auth.sign_out")
    signed = _entries("sign_in", before)
    assert [(e.user, e.role) for e in signed] == [("email:ana@example.org", "clinician")]
    reports = _entries("patient_report", before)
    assert reports and {(e.user, e.role) for e in reports} == {("email:ana@example.org", "clinician")}
    at.run()  # a rerun of the same session: no second sign-in entry
    assert len(_entries("sign_in", before)) == 1


def test_an_admin_sees_the_audit_log_but_no_patient_page(roles):
    at = _app(_signed_in("ben@example.org")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _openable(at) == {"subgroups", "model_card", "audit_log"}
    at.switch_page("pages/audit_log.py").run()
    assert not at.exception and at.title[0].value == "Audit log"


def test_a_subject_spelling_the_admins_address_opens_nothing(roles):
    # issue 26's role takeover: the subject is the admin's address in capitals, the verified e-mail another
    mallory = {"is_logged_in": True, "iss": "https://login.example.org", "sub": "BEN@example.org",
               "email": "mallory@evil.example", "email_verified": True, "name": "Mallory"}
    at = _app(mallory).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _openable(at) == set() and [t.value for t in at.title] == ["Sign in"]
    page = AppTest.from_file(str(ROOT / "pages" / "audit_log.py"), default_timeout=60)  # the page's own check
    page.secrets, page.user = {"auth": dict(AUTH)}, mallory
    page.session_state["eq.routed"] = True
    page.run()
    assert not page.exception and not page.dataframe
    assert "needs one of the roles: admin. You are signed in as Mallory (mallory@evil.example) with the roles: " \
           "none." in rendered(page.error[0].value)


def test_a_page_run_without_its_role_stops_with_a_message(roles):
    # the page's own check, even if something runs it without the router's filtered navigation
    at = AppTest.from_file(str(ROOT / "pages" / "audit_log.py"), default_timeout=60)
    at.secrets = {"auth": dict(AUTH)}
    at.user = _signed_in("tess@example.org", "Tess")
    at.session_state["eq.routed"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [rendered(e.value) for e in at.error] == [
        "The Audit log page needs one of the roles: admin. You are signed in as Tess (tess@example.org) with "
        "the roles: trainee. Ask your admin if you need it."]
    assert not at.dataframe and not at.button  # nothing of the log was shown


def test_one_sign_in_button_per_configured_provider(roles):
    provider = {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = {"auth": {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": AUTH["cookie_secret"],
                           "hospital": dict(provider), "university": dict(provider)}}
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [b.label for b in at.button] == ["Sign in with hospital", "Sign in with university"]


def test_a_signed_in_person_without_a_role_is_told_to_ask_the_admin(roles):
    at = _app(_signed_in("eve@example.org", "Eve")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Sign in"] and _openable(at) == set()
    assert "hold no role in Equipoise" in rendered(at.warning[0].value) and "Ask your admin" in at.warning[0].value
    assert not at.sidebar.selectbox


def test_a_malformed_roles_file_stops_the_app_saying_why(roles):
    roles.write_text('[users]\n"email:ana@example.org" = ["doctor"]\n', encoding="utf-8")
    at = _app(_signed_in("ana@example.org")).run()
    assert not at.exception, [e.value for e in at.exception]
    message = rendered(at.error[0].value)
    assert "gives user 'email:ana@example.org' the role 'doctor', which is not one of: clinician" in message
    assert not at.title and not at.sidebar.selectbox


def test_sign_out_is_logged_before_the_session_ends(roles):
    before = _last_seq()
    at = _app(_signed_in("ben@example.org")).run()
    at.sidebar.button(key="auth.sign_out").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [(e.user, e.role) for e in _entries("sign_out", before)] == [("email:ben@example.org", "admin")]
    assert at.user.get("is_logged_in") is False
    at.run()  # AppTest reruns the page itself (no router): its own check now refuses the signed-out visitor
    assert not at.exception, [e.value for e in at.exception]
    assert [i.value for i in at.info] == ["Sign in to open the Subgroups page."]
    assert at.button(key="auth.sign_in.default") and not at.sidebar.selectbox and not at.dataframe


def test_local_mode_has_every_page_and_says_so(actg175):
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _openable(at) == set(FILES)
    assert at.sidebar.info[0].value.startswith("Local mode — single user, not for shared use.")
    assert "auth.sign_out" not in [b.key for b in at.sidebar.button]


def test_a_secrets_file_that_does_not_parse_stops_the_app_instead_of_falling_back_to_local_mode(tmp_path):
    broken = tmp_path / "secrets.toml"
    broken.write_text("[auth\nclient_id = 1\n", encoding="utf-8")
    script = f"""
import streamlit as st
from unittest import mock
from pages import _auth

class Unparsable:
    def __contains__(self, key):
        raise RuntimeError("Error parsing secrets file at {broken}")

with mock.patch.object(st, "secrets", Unparsable()), mock.patch.object(st, "get_option", lambda name: [{str(broken)!r}]):
    who = _auth.current_identity()
st.write("local mode" if who.local else "signed in")
"""
    at = AppTest.from_string(script, default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [rendered(e.value) for e in at.error] == [
        f"The secrets file could not be read, so nobody can sign in: Error parsing secrets file at {broken}"]
    assert not at.markdown  # stopped: never reached local mode
