"""CDS Hooks 2.0 authentication: only a bearer JWT signed by a trusted EHR's key, for this endpoint, fresh and
used once, gets a card; the audit log names the verified client (``sub:<iss>|<sub>``) and keeps the userId the
request claims only as a claim; bodies over 1 MB get 413 and over-long identifiers 422, logging nothing."""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import threading
import time

import pytest

from core import service
from core.cds import AuthConfigError, auth_config_from_dict, load_auth_config

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from _cds_tokens import BASE, ISS, SUB, Ehr, EhrAuth, unsigned  # noqa: E402
from core.cds.app import UNAUTHENTICATED, create_app  # noqa: E402
from test_cds_hooks import call, prefetch_for  # noqa: E402

IDENTITY = f"sub:{ISS}|{SUB}"
URL = "/cds-services/warfarin"



pytestmark = pytest.mark.usefixtures("own_checkpoints")  # each test's store: its own checkpoint file (conftest)

@pytest.fixture(scope="module")
def ehr():
    return Ehr()


@pytest.fixture(scope="module")
def record(bundles):
    r = next(r for r in service.held_out_patients(bundles("warfarin")) if r.get("cyp2c9") and r.get("weight_kg"))
    return {k: v for k, v in r.items() if k != "patient_id"}


@pytest.fixture
def served(bundle_root, tmp_path, ehr):
    """(client, log) for an app trusting ``ehr``; the client sends no token unless a test adds one."""
    log = service.open_log(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    app = create_app(dashboard_url="http://dash.example:8501", log=log, auth=load_auth_config(ehr.write_config(tmp_path)))
    yield TestClient(app), log
    log.store.close()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_token_gets_a_card_and_the_log_names_the_verified_client(served, ehr, record):
    client, log = served
    body = call(prefetch_for(record))
    body["context"]["userId"] = "<script>alert(1)</script>\u202eevil"
    r = client.post(URL, json=body, headers=bearer(ehr.token()))
    assert r.status_code == 200, r.text
    (card,) = r.json()["cards"]
    (entry,) = log.entries(kind=service.CDS_CARD)
    assert entry.user == IDENTITY and entry.role == "cds-hooks"
    assert entry.details["claimed_user"] == "<script>alert(1)</script>\\u202eevil"  # a claim, the bidi control visible
    assert "\u202e" not in json.dumps([e.user for e in log.entries()] + [entry.details], ensure_ascii=False)
    assert entry.details["card"] == card["uuid"] and log.verify().ok


def test_an_rs384_token_is_accepted_too_and_feedback_names_the_same_client(served, ehr, record):
    client, log = served
    (card,) = client.post(URL, json=call(prefetch_for(record)), headers=bearer(ehr.token(alg="RS384"))).json()["cards"]
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-12-03T09:40:00Z"}]}
    r = client.post(f"{URL}/feedback", json=feedback, headers=bearer(ehr.token()))  # aud: the service's endpoint
    assert r.json() == {"recorded": 1}
    r = client.post(f"{URL}/feedback", json=feedback, headers=bearer(ehr.token(f"{BASE}/warfarin/feedback")))
    assert r.json() == {"recorded": 1}
    assert {e.user for e in log.entries()} == {IDENTITY}


def _attacks(ehr: Ehr) -> dict[str, dict]:
    """Each refused request: its headers (a token made now)."""
    now = time.time()
    good = {"iss": ISS, "sub": SUB, "aud": f"{BASE}/warfarin", "iat": int(now), "exp": int(now) + 120, "jti": "j-none"}
    forged_hs = unsigned(good, {"alg": "HS256", "kid": "ehr-ec"})
    return {
        "no token": {},
        "not bearer": {"Authorization": f"Basic {ehr.token()}"},
        "garbage": bearer("not.a.jwt"),
        "wrong key (same kid)": bearer(ehr.token(key=ehr.mallory)),
        "unknown kid": bearer(ehr.token(header={"kid": "rotated-away"})),
        "expired": bearer(ehr.token(now=now - 3600)),
        "wrong aud (another service)": bearer(ehr.token(f"{BASE}/colon")),
        "wrong aud (another host)": bearer(ehr.token("https://evil.example/cds-services/warfarin")),
        "future iat": bearer(ehr.token(iat=int(now) + 600, exp=int(now) + 700)),
        "lifetime too long": bearer(ehr.token(exp=int(now) + 86400)),
        "alg none": bearer(unsigned(good, {"alg": "none", "kid": "ehr-ec"})),
        "alg HS256": bearer(forged_hs + "c2lnbmF0dXJl"),
        "untrusted iss": bearer(ehr.token(iss="https://evil.example")),
        "no jti": bearer(ehr.token(jti=None)),
        "no exp": bearer(ehr.token(exp=None)),
        "jku not allow-listed": bearer(ehr.token(header={"jku": "https://evil.example/jwks.json"})),
        "tampered payload": bearer(_tampered(ehr.token())),
    }


def _tampered(token: str) -> str:
    import base64

    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{sig}"


ATTACKS = list(_attacks(Ehr()))


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_request_without_a_valid_token_gets_401_and_logs_nothing(served, ehr, record, attack):
    client, log = served
    r = client.post(URL, json=call(prefetch_for(record)), headers=_attacks(ehr)[attack])
    assert r.status_code == 401, (attack, r.text)
    assert r.headers["www-authenticate"].startswith('Bearer realm="equipoise-cds-hooks"')
    assert r.json()["error"] and "Traceback" not in r.text
    assert log.entries() == []


@pytest.mark.parametrize("attack, message", [
    ("no token", "No bearer token"), ("expired", "expired"), ("wrong aud (another service)", "audience"),
    ("future iat", "in the future"), ("alg none", "'none' is not accepted"), ("untrusted iss", "not a trusted"),
    ("wrong key (same kid)", "signature does not verify"), ("jku not allow-listed", "allow-list"),
])
def test_each_refusal_says_why(served, ehr, record, attack, message):
    client, _ = served
    r = client.post(URL, json=call(prefetch_for(record)), headers=_attacks(ehr)[attack])
    assert message in r.json()["error"]


def test_a_replayed_token_is_refused(served, ehr, record):
    client, log = served
    token = ehr.token()
    assert client.post(URL, json=call(prefetch_for(record)), headers=bearer(token)).status_code == 200
    r = client.post(URL, json=call(prefetch_for(record)), headers=bearer(token))
    assert r.status_code == 401 and "used before" in r.json()["error"]
    assert len(log.entries(kind=service.CDS_CARD)) == 1


def test_discovery_needs_a_token_for_the_base_url_unless_configured_open(served, ehr, bundle_root, tmp_path):
    client, _ = served
    assert client.get("/cds-services").status_code == 401
    assert client.get("/cds-services", headers=bearer(ehr.token(f"{BASE}/warfarin"))).status_code == 401
    assert client.get("/cds-services", headers=bearer(ehr.token(BASE))).status_code == 200
    log = service.open_log(f"sqlite:///{tmp_path / 'open.sqlite3'}")
    (tmp_path / "open").mkdir()
    config = load_auth_config(ehr.write_config(tmp_path / "open", open_discovery=True))
    opened = TestClient(create_app(log=log, auth=config))
    assert opened.get("/cds-services").status_code == 200
    assert opened.post(URL, json={}).status_code == 401  # the services themselves still need a token
    log.store.close()


def test_a_body_over_1_mb_gets_413_before_it_is_parsed_even_streamed_without_a_length(served, ehr, record):
    client, log = served
    body = call(prefetch_for(record))
    body["padding"] = "x" * 2_000_000
    raw = json.dumps(body).encode()
    r = client.post(URL, content=raw, headers={**bearer(ehr.token()), "content-type": "application/json"})
    assert r.status_code == 413 and "1,000,000 bytes" in r.json()["error"]

    def chunks():  # chunked transfer: no Content-Length to trust or distrust
        for i in range(0, len(raw), 65536):
            yield raw[i:i + 65536]

    r = client.post(URL, content=chunks(), headers={**bearer(ehr.token()), "content-type": "application/json"})
    assert r.status_code == 413
    assert log.entries() == []
    ok = client.post(URL, content=json.dumps(call(prefetch_for(record))).encode(),
                     headers={**bearer(ehr.token()), "content-type": "application/json"})
    assert ok.status_code == 200  # a body under the limit is replayed to the app whole


@pytest.mark.parametrize("where, field", [
    ("hookInstance", "hookInstance"), ("userId", "context.userId"), ("patientId", "context.patientId"),
    ("fhir subject", "fhirAuthorization.subject"), ("feedback card", "feedback[0].card"),
    ("feedback timestamp", "feedback[0].outcomeTimestamp"), ("override reason", "feedback[0].overrideReason"),
])
def test_an_oversized_identifier_gets_422_naming_it_and_logs_nothing(served, ehr, record, where, field):
    client, log = served
    long = "A" * 100_000
    body = call(prefetch_for(record))
    url = URL
    if where == "hookInstance":
        body["hookInstance"] = long
    elif where in ("userId", "patientId"):
        body["context"][where] = long
    elif where == "fhir subject":
        body["fhirAuthorization"] = {"subject": long}
    else:
        url = f"{URL}/feedback"
        item = {"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2026-12-03T09:40:00Z"}
        item |= {"feedback card": {"card": long}, "feedback timestamp": {"outcomeTimestamp": long},
                 "override reason": {"overrideReason": {"userComment": long}}}[where]
        body = {"feedback": [item]}
    r = client.post(url, json=body, headers=bearer(ehr.token()))
    assert r.status_code == 422, r.text
    assert r.json()["error"].startswith(f"The '{field}' field must be at most")
    assert log.entries() == []


def test_identifiers_at_the_limit_are_accepted_and_too_many_feedback_items_are_refused(served, ehr, record):
    client, log = served
    body = call(prefetch_for(record))
    body["hookInstance"], body["context"]["userId"] = "h" * 200, "u" * 200
    assert client.post(URL, json=body, headers=bearer(ehr.token())).status_code == 200
    many = {"feedback": [{"card": f"c{i}", "outcome": "accepted"} for i in range(101)]}
    r = client.post(f"{URL}/feedback", json=many, headers=bearer(ehr.token()))
    assert r.status_code == 422 and "at most 100 items" in r.json()["error"]


def test_a_subject_allow_list_refuses_other_subjects(bundle_root, tmp_path, ehr, record):
    log = service.open_log(f"sqlite:///{tmp_path / 'subjects.sqlite3'}")
    config = load_auth_config(ehr.write_config(tmp_path, issuer={"subjects": ["another-client"]}))
    client = TestClient(create_app(log=log, auth=config))
    r = client.post(URL, json=call(prefetch_for(record)), headers=bearer(ehr.token()))
    assert r.status_code == 401 and "subject" in r.json()["error"]
    log.store.close()


class _JwksHandler(http.server.BaseHTTPRequestHandler):
    jwks: bytes = b""
    hits: list = []

    def do_GET(self):  # noqa: N802
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.jwks)

    def log_message(self, *args):
        pass


def test_keys_from_an_allow_listed_jku_on_loopback(bundle_root, tmp_path, ehr, record):
    _JwksHandler.jwks, _JwksHandler.hits = json.dumps(ehr.jwks()).encode(), []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _JwksHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    jku = f"http://127.0.0.1:{server.server_port}/jwks.json"
    try:
        config = auth_config_from_dict({"audience": [BASE], "issuer": [{"iss": ISS, "jku": [jku]}]})
        log = service.open_log(f"sqlite:///{tmp_path / 'jku.sqlite3'}")
        client = TestClient(create_app(log=log, auth=config))
        body = call(prefetch_for(record))
        assert client.post(URL, json=body, headers=bearer(ehr.token(header={"jku": jku}))).status_code == 200
        assert client.post(URL, json=body, headers=bearer(ehr.token(header={"jku": jku}))).status_code == 200
        assert _JwksHandler.hits == ["/jwks.json"]  # fetched once, then cached
        r = client.post(URL, json=body, headers=bearer(ehr.token()))  # no jku and no key file: nothing to check with
        assert r.status_code == 401 and "jku" in r.json()["error"]
        r = client.post(URL, json=body, headers=bearer(ehr.token(key=ehr.mallory, header={"jku": jku})))
        assert r.status_code == 401
        log.store.close()
    finally:
        server.shutdown()
        server.server_close()


def _config(tmp_path, ehr, **changes):
    ehr.write_config(tmp_path)
    data = {"audience": [BASE], "issuer": [{"iss": ISS, "jwks_file": "ehr-jwks.json"}]}
    for key, value in changes.items():
        if key.startswith("issuer_"):
            data["issuer"][0][key[len("issuer_"):]] = value
        else:
            data[key] = value
    return data


@pytest.mark.parametrize("changes, message", [
    ({"algorithms": ["none"]}, r"The 'algorithms' setting in the configuration must be .*\(never 'none'"),
    ({"algorithms": ["HS256"]}, r"shared-secret HS\*\)\. Got \['HS256'\] instead"),
    ({"audience": []}, "at least one URL"),
    ({"audience": ["cds.example.org"]}, "must be an http"),
    ({"issuer": []}, "No trusted issuer"),
    ({"max_token_lifetime_s": 86400}, r"in the range \[1, 3600\]. Got 86400"),
    ({"clock_skw_s": 5}, r"Unknown setting\(s\) \['clock_skw_s'\]"),
    ({"issuer_jwks_file": "missing.json"}, "is not a readable file"),
    ({"issuer_jwks_file": ""}, "neither 'jwks_file' nor 'jku'"),
    ({"issuer_jku": ["http://ehr.example.org/jwks.json"]}, r"https URL \(http only on 127.0.0.1"),
])
def test_an_unsafe_or_mistyped_configuration_is_refused_naming_the_setting(tmp_path, ehr, changes, message):
    with pytest.raises(AuthConfigError, match=message):
        auth_config_from_dict(_config(tmp_path, ehr, **changes), base_dir=tmp_path)


def test_a_jwks_file_holding_a_private_key_is_refused(tmp_path, ehr):
    (tmp_path / "ehr-jwks.json").write_text(json.dumps({"keys": [ehr.keys["ES384"].as_dict(private=True)]}))
    data = {"audience": [BASE], "issuer": [{"iss": ISS, "jwks_file": "ehr-jwks.json"}]}
    with pytest.raises(AuthConfigError, match=r"holds private key material \(d\)"):
        auth_config_from_dict(data, base_dir=tmp_path)


def test_a_json_configuration_reads_like_the_toml_one(tmp_path, ehr):
    toml = load_auth_config(ehr.write_config(tmp_path))
    (tmp_path / "cds-auth.json").write_text(json.dumps(_config(tmp_path, ehr, clock_skew_s=30)))
    assert load_auth_config(tmp_path / "cds-auth.json") == toml


def test_the_app_refuses_to_be_made_without_authentication_or_the_explicit_insecure_flag():
    with pytest.raises(ValueError, match="needs an authentication configuration"):
        create_app()


def test_in_insecure_mode_every_entry_says_unauthenticated(bundle_root, tmp_path, record):
    log = service.open_log(f"sqlite:///{tmp_path / 'insecure.sqlite3'}")
    client = TestClient(create_app(log=log, insecure_no_auth=True))
    assert client.post(URL, json=call(prefetch_for(record))).status_code == 200
    (entry,) = log.entries(kind=service.CDS_CARD)
    assert entry.user == UNAUTHENTICATED and entry.details["claimed_user"] == "Practitioner/1"
    log.store.close()


def _serve(argv, env_config=None, monkeypatch=None):
    from core.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["serve", *argv])
    return code, err.getvalue()


@pytest.mark.parametrize("argv, message", [
    ([], "needs to know which EHRs to trust: pass --auth-config FILE"),
    (["--insecure-no-auth", "--host", "0.0.0.0"], "serves only on a loopback address"),
    (["--auth-config", "/nonexistent/cds-auth.toml"], "is not a readable file"),
])
def test_serve_refuses_to_start_without_a_usable_configuration(monkeypatch, argv, message):
    monkeypatch.delenv("EQUIPOISE_CDS_AUTH_CONFIG", raising=False)
    code, err = _serve(argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_serve_refuses_insecure_mode_beside_a_configuration(monkeypatch, tmp_path):
    monkeypatch.setenv("EQUIPOISE_CDS_AUTH_CONFIG", str(tmp_path / "cds-auth.toml"))
    code, err = _serve(["--insecure-no-auth"])
    assert code == 2 and "contradict each other" in err


def test_insecure_mode_starts_only_when_asked_and_says_so_loudly(monkeypatch):
    import uvicorn

    started = []
    monkeypatch.delenv("EQUIPOISE_CDS_AUTH_CONFIG", raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(kw))
    monkeypatch.setattr(service, "cds_app", lambda **kw: started.append(kw))
    code, err = _serve(["--insecure-no-auth"])
    assert code == 0 and "WARNING: --insecure-no-auth" in err and "EVERY caller" in err
    assert started[0]["insecure_no_auth"] is True and started[1]["host"] == "127.0.0.1"


def test_a_cors_preflight_needs_no_token_but_the_call_does(bundle_root, tmp_path, ehr, monkeypatch):
    monkeypatch.setenv("EQUIPOISE_CDS_ALLOW_ORIGINS", "https://sandbox.cds-hooks.org")
    log = service.open_log(f"sqlite:///{tmp_path / 'cors.sqlite3'}")
    client = TestClient(create_app(log=log, auth=load_auth_config(ehr.write_config(tmp_path))))
    origin = {"Origin": "https://sandbox.cds-hooks.org"}
    r = client.options(URL, headers={**origin, "Access-Control-Request-Method": "POST",
                                     "Access-Control-Request-Headers": "authorization,content-type"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://sandbox.cds-hooks.org"
    r = client.post(URL, json={}, headers=origin)
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == "https://sandbox.cds-hooks.org"
    log.store.close()


def test_the_client_helper_sends_a_fresh_token_per_request(served, ehr, record):
    client, log = served
    client.auth = EhrAuth(ehr)
    for _ in range(3):
        assert client.post(URL, json=call(prefetch_for(record))).status_code == 200
    assert client.get("/cds-services").status_code == 200
    assert len(log.entries(kind=service.CDS_CARD)) == 3


def test_the_replay_memory_forgets_a_jti_only_after_its_token_expired():
    from core.cds import ReplayCache

    cache = ReplayCache()
    assert cache.first_use(ISS, "j1", until=1_000.0, now=900.0)
    assert not cache.first_use(ISS, "j1", until=1_000.0, now=999.0)
    assert cache.first_use("https://other.example", "j1", until=1_000.0, now=999.0)  # per issuer
    assert cache.first_use(ISS, "j1", until=2_000.0, now=1_500.0)  # expired long ago: refused as expired anyway


def test_a_token_expires_with_the_clock_and_the_skew(bundle_root, tmp_path, ehr):
    log = service.open_log(f"sqlite:///{tmp_path / 'clock.sqlite3'}")
    now = [time.time()]
    client = TestClient(create_app(log=log, auth=load_auth_config(ehr.write_config(tmp_path)), clock=lambda: now[0]))
    token = ehr.token(BASE, now=now[0])  # exp = now + 120; the configured skew is 30 s
    now[0] += 140
    assert client.get("/cds-services", headers=bearer(token)).status_code == 200  # within the skew
    now[0] += 20
    r = client.get("/cds-services", headers=bearer(ehr.token(BASE, now=now[0] - 160)))
    assert r.status_code == 401 and "expired" in r.json()["error"]
    log.store.close()
