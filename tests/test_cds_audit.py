"""The CDS Hooks service writes to the audit log: every card is committed before it is returned, naming the
verified CDS Client (its token's ``sub:<iss>|<sub>``), the user the request claims only as ``claimed_user``, and
the patient only as a keyed hash; feedback (accepted / overridden with its reason) is logged; requests that are
not CDS Hooks calls are refused with a 400 and log nothing. The test EHR signs a fresh token for every call."""

from __future__ import annotations

import json

import pytest

from core import service

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from core.cds.app import create_app  # noqa: E402
from _cds_tokens import ISS, SUB, Ehr, EhrAuth  # noqa: E402
from core.cds import load_auth_config  # noqa: E402
from test_cds_hooks import call, prefetch_for  # noqa: E402

PATIENT_ID = "ehr-patient-4711-QX"  # an identifier that must never appear in the log in the clear
USER = "Practitioner/dr-okafor"
CLIENT = f"sub:{ISS}|{SUB}"  # the verified EHR, as every entry names it



pytestmark = pytest.mark.usefixtures("own_checkpoints")  # each test's store: its own checkpoint file (conftest)

@pytest.fixture(scope="module")
def ehr():
    return Ehr()


@pytest.fixture
def audited(bundle_root, tmp_path, ehr):
    log = service.open_log(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    app = create_app(dashboard_url="http://dash.example:8501", log=log, auth=load_auth_config(ehr.write_config(tmp_path)))
    client = TestClient(app)
    client.auth = EhrAuth(ehr)  # a fresh token for each call's endpoint
    yield client, log
    log.store.close()


@pytest.fixture(scope="module")
def record(bundles):
    bundle = bundles("warfarin")
    r = next(r for r in service.held_out_patients(bundle) if r.get("cyp2c9") and r.get("weight_kg"))
    return {k: v for k, v in r.items() if k != "patient_id"}


def _request(record, **context):
    body = call(prefetch_for(record))
    body["context"] = {"patientId": PATIENT_ID, "userId": USER, **context}
    return body


def test_a_card_is_in_the_log_with_its_user_hook_instance_and_keyed_patient(audited, record):
    client, log = audited
    body = _request(record)
    (card,) = client.post("/cds-services/warfarin", json=body).json()["cards"]
    (entry,) = log.entries(kind=service.CDS_CARD)
    assert entry.user == CLIENT and entry.role == "cds-hooks" and entry.page == "cds warfarin"
    assert entry.details["claimed_user"] == USER  # what the request says, kept as a claim only
    assert entry.patient_ref == log.patient_ref(PATIENT_ID) != PATIENT_ID
    assert entry.details["hook_instance"] == body["hookInstance"]
    assert entry.details["card"] == card["uuid"]  # the id the EHR's feedback will name
    assert log.report(entry.seq) == card  # exactly what the EHR received
    (shown,) = log.entries(kind=service.PATIENT_REPORT)  # the report behind the card, same patient reference
    assert shown.patient_ref == entry.patient_ref and shown.seq < entry.seq
    assert log.verify().ok


def test_feedback_with_an_override_reason_is_logged_against_the_card(audited, record):
    client, log = audited
    (card,) = client.post("/cds-services/warfarin", json=_request(record)).json()["cards"]
    reason = {"reason": {"code": "patient-preference", "display": "Patient prefers a lower start"},
              "userComment": "will titrate with INR"}
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "overridden", "overrideReason": reason,
                              "outcomeTimestamp": "2026-12-03T09:30:00Z"}], "context": {"userId": USER}}
    assert client.post("/cds-services/warfarin/feedback", json=feedback).json() == {"recorded": 1}
    (entry,) = log.entries(kind=service.CDS_FEEDBACK)
    assert entry.user == CLIENT
    assert entry.details == {"card": card["uuid"], "outcome": "overridden", "claimed_user": USER}
    assert log.report(entry.seq)["overrideReason"] == reason


def test_the_raw_patient_identifier_never_reaches_the_log(audited, record):
    client, log = audited
    client.post("/cds-services/warfarin", json=_request(record))
    exported = json.dumps(list(log.export(reports=True)))
    assert PATIENT_ID not in exported and len(list(log.export())) >= 2


def test_without_a_user_in_the_request_no_user_is_claimed_and_the_client_is_still_named(audited, record):
    client, log = audited
    body = _request(record)
    del body["context"]["userId"]
    client.post("/cds-services/warfarin", json=body)
    assert {e.user for e in log.entries()} == {CLIENT}
    assert log.entries(kind=service.CDS_CARD)[0].details["claimed_user"] is None
    body["fhirAuthorization"] = {"subject": "Practitioner/from-token", "access_token": "x", "token_type": "Bearer"}
    client.post("/cds-services/warfarin", json=body)
    newest = log.entries(kind=service.CDS_CARD, newest_first=True)[0]
    assert newest.user == CLIENT and newest.details["claimed_user"] == "Practitioner/from-token"


@pytest.mark.parametrize("breakage", ["no hookInstance", "no patientId", "wrong hook", "not json", "a list"])
def test_what_is_not_a_cds_hooks_call_is_refused_with_400_and_logs_nothing(audited, record, breakage):
    client, log = audited
    body = _request(record)
    if breakage == "no hookInstance":
        del body["hookInstance"]
    elif breakage == "no patientId":
        del body["context"]["patientId"]
    elif breakage == "wrong hook":
        body["hook"] = "order-sign"
    if breakage == "not json":
        r = client.post("/cds-services/warfarin", content=b"{not json", headers={"content-type": "application/json"})
    else:
        r = client.post("/cds-services/warfarin", json=[body] if breakage == "a list" else body)
    assert r.status_code == 400, r.text
    assert "hookInstance" in r.json()["error"]
    assert log.entries() == []


def test_cross_origin_calls_are_allowed_only_from_the_configured_origins(bundle_root, tmp_path, monkeypatch):
    log = service.open_log(f"sqlite:///{tmp_path / 'cors.sqlite3'}")
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    closed = TestClient(create_app(log=log, insecure_no_auth=True))
    r = closed.options("/cds-services/warfarin", headers={"Origin": "https://sandbox.cds-hooks.org", **preflight})
    assert "access-control-allow-origin" not in r.headers  # none by default
    monkeypatch.setenv("EQUIPOISE_CDS_ALLOW_ORIGINS", "https://sandbox.cds-hooks.org")
    opened = TestClient(create_app(log=log, insecure_no_auth=True))
    r = opened.options("/cds-services/warfarin", headers={"Origin": "https://sandbox.cds-hooks.org", **preflight})
    assert r.headers["access-control-allow-origin"] == "https://sandbox.cds-hooks.org"
    r = opened.options("/cds-services/warfarin", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in r.headers
    log.store.close()
