"""Real-browser sign-in against a real OIDC provider (``oidc-provider-mock``, started by the test): a
signed-out visitor sees only the sign-in page and no patient data; signing in through the provider's form
shows the person's name and only the pages their role may open; a page opened by its address without the
role is refused; sign-out ends the session; sign-in and sign-out are in the audit log.

Skipped, with the reason shown in pytest's summary, without /usr/bin/chromium or the playwright package.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest

from tests._browser import BROWSER_MARKS, SHOTS, free_port, launch, start_server, stop_server, wait_until_up

pytestmark = BROWSER_MARKS
ANA = {"sub": "ana@example.org", "email": "ana@example.org", "email_verified": True, "name": "Ana Silva"}


@pytest.fixture(scope="module")
def provider():
    """oidc-provider-mock on a free local port, with Ana as a predefined user (name and e-mail claims)."""
    pytest.importorskip("oidc_provider_mock", reason="oidc-provider-mock is not installed (pip install -e '.[test]')")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--port", str(port),
                             "--user-claims", json.dumps(ANA)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(proc, lambda: urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=1)
                  .status == 200, what="the OIDC provider's discovery document")
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def app(provider, bundle_dirs, tmp_path_factory):
    """Equipoise in OIDC mode: secrets naming the provider, a roles file making Ana a clinician."""
    tmp = tmp_path_factory.mktemp("signin")
    port = free_port()
    (tmp / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-cookie-secret-for-this-test-only-0123456789"\n'
        'client_id = "equipoise"\nclient_secret = "not-a-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n', encoding="utf-8")
    (tmp / "roles.toml").write_text('[users]\n"email:ana@example.org" = ["clinician"]\n', encoding="utf-8")
    env = {"EQUIPOISE_ROLES_FILE": str(tmp / "roles.toml"), "EQUIPOISE_DATA_DIR": str(tmp / "data"),
           "AUTHLIB_INSECURE_TRANSPORT": "1"}  # plain http to a provider on 127.0.0.1, in this test only
    proc, url = start_server(bundle_dirs("actg175").parent, port=port, extra_env=env,
                             extra_args=("--secrets.files", str(tmp / "secrets.toml")))
    yield url, tmp / "data"
    stop_server(proc)


def _settle(pg) -> None:
    pg.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=60_000)
    pg.wait_for_timeout(500)


def _nav(pg) -> list[str]:
    return [t.strip().split("\n")[-1] for t in pg.locator("[data-testid='stSidebarNav'] a").all_inner_texts()]


def _log_kinds(data_dir, monkeypatch) -> list[tuple[str, str, str]]:
    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(data_dir))
    monkeypatch.delenv("EQUIPOISE_DATABASE_URL", raising=False)
    from core import service

    return [(e.kind, e.user, e.role) for e in service.open_log().entries()]


def test_sign_in_role_limited_navigation_and_sign_out(app, monkeypatch):
    from playwright.sync_api import sync_playwright

    url, data_dir = app
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            # signed out: the sign-in page only, no patient, no cohort picker
            pg.goto(url)
            pg.locator("h1", has_text="Sign in").wait_for(timeout=60_000)
            _settle(pg)
            assert pg.locator("[data-testid='stException']").count() == 0
            assert pg.get_by_text("Held-out patient").count() == 0 and pg.get_by_text("Cohort and model").count() == 0
            pg.screenshot(path=str(SHOTS / "sign_in_signed_out.png"), full_page=True)
            pg.goto(f"{url}/patient")  # a page by its address: refused, nothing of it runs
            pg.get_by_text("Sign in to open the Patient page.").wait_for(timeout=60_000)
            _settle(pg)
            assert pg.get_by_text("Held-out patient").count() == 0
            pg.goto(f"{url}/no_such_page")
            pg.get_by_role("link", name="Go to the sign-in page").wait_for(timeout=60_000)
            _settle(pg)
            assert pg.locator("[data-testid='stException']").count() == 0
            pg.goto(url)
            pg.locator("h1", has_text="Sign in").wait_for(timeout=60_000)
            _settle(pg)

            # sign in through the provider's own form
            pg.get_by_role("button", name="Sign in").click()
            pg.locator("input[name='sub']").wait_for(timeout=30_000)
            pg.locator("input[name='sub']").fill(ANA["sub"])
            pg.get_by_role("button", name="Authorize").click()
            pg.get_by_text("Signed in as Ana Silva (ana@example.org) · clinician").wait_for(timeout=60_000)
            pg.locator("h1", has_text="Patient").wait_for(timeout=60_000)
            _settle(pg)
            assert pg.locator("[data-testid='stException']").count() == 0
            assert _nav(pg) == ["Patient", "What if", "Subgroups", "Model card"]  # no Audit log for a clinician
            pg.screenshot(path=str(SHOTS / "sign_in_clinician.png"), full_page=True)

            # a page opened by its address without the role it needs
            pg.goto(f"{url}/audit_log")
            pg.get_by_text("The Audit log page needs one of the roles: admin.").wait_for(timeout=60_000)
            _settle(pg)
            assert pg.locator("[data-testid='stDataFrame']").count() == 0

            # sign out: Streamlit ends the session at the provider, which sends us back signed out
            pg.get_by_role("button", name="Sign out").click()
            end = pg.get_by_role("button", name="End session")
            end.or_(pg.locator("h1", has_text="Sign in")).first.wait_for(timeout=60_000)
            if end.count():
                end.click()
            pg.locator("h1", has_text="Sign in").wait_for(timeout=60_000)
            _settle(pg)
            assert pg.get_by_text("Signed in as").count() == 0 and pg.get_by_text("Held-out patient").count() == 0
        finally:
            browser.close()
    kinds = _log_kinds(data_dir, monkeypatch)
    assert ("sign_in", "email:ana@example.org", "clinician") in kinds
    assert ("sign_out", "email:ana@example.org", "clinician") in kinds
    assert {(u, r) for k, u, r in kinds if k == "patient_report"} == {("email:ana@example.org", "clinician")}
