"""`equipoise serve` as an EHR meets it: a real server process on a free port, configured with a trusted EHR's
keys (``--auth-config``) and called over HTTP with httpx and a fresh signed token per call; afterwards
`equipoise log verify` and `log export` (separate processes, same store) show every card and the feedback,
chained, naming the verified client, with the patient only as a keyed hash. Without a token: 401; over 1 MB: 413."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

httpx = pytest.importorskip("httpx")

from _browser import free_port, wait_until_up  # noqa: E402
from _cds_tokens import ISS, SUB, Ehr, EhrAuth  # noqa: E402
from core import service  # noqa: E402
from test_cds_hooks import call, prefetch_for  # noqa: E402

CLI = [sys.executable, "-c", "import sys; from core.cli import main; sys.exit(main(sys.argv[1:]))"]
PATIENT_ID = "mrn-000981-serve"


EHR = Ehr()


@pytest.fixture
def served(bundle_root, tmp_path):
    env = os.environ | {"EQUIPOISE_BUNDLE_DIR": str(bundle_root), "EQUIPOISE_DATA_DIR": str(tmp_path / "data")}
    env.pop("EQUIPOISE_DATABASE_URL", None)
    env.pop("EQUIPOISE_CDS_AUTH_CONFIG", None)
    port = free_port()
    config = EHR.write_config(tmp_path)
    proc = subprocess.Popen(CLI + ["serve", "--port", str(port), "--dashboard-url", "http://dash.example:8501",
                                   "--auth-config", str(config)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(proc, lambda: httpx.get(f"{url}/cds-services", timeout=2, auth=EhrAuth(EHR)).status_code == 200,
                  what="equipoise serve's discovery endpoint", timeout=90, errors=(httpx.HTTPError,))
    yield url, env
    proc.terminate()
    proc.wait(timeout=15)


def test_an_ehr_session_against_the_real_server_is_logged_and_the_chain_verifies(served, bundles):
    url, env = served
    bundle = bundles("warfarin")
    record = next(r for r in service.held_out_patients(bundle) if r.get("cyp2c9") and r.get("weight_kg"))
    body = call(prefetch_for({k: v for k, v in record.items() if k != "patient_id"}))
    body["context"]["patientId"] = PATIENT_ID
    services = httpx.get(f"{url}/cds-services", auth=EhrAuth(EHR)).json()["services"]
    assert {s["id"] for s in services} == set(service.BUNDLED)
    anonymous = httpx.post(f"{url}/cds-services/warfarin", json=body, timeout=60)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")
    huge = httpx.post(f"{url}/cds-services/warfarin", json=body | {"padding": "x" * 2_000_000}, timeout=60,
                      auth=EhrAuth(EHR))
    assert huge.status_code == 413
    with httpx.Client(base_url=url, timeout=60, auth=EhrAuth(EHR)) as ehr:
        cards = [ehr.post("/cds-services/warfarin", json=body).json()["cards"][0] for _ in range(2)]
        assert cards[0]["uuid"] != cards[1]["uuid"]
        r = ehr.post("/cds-services/warfarin/feedback", json={"feedback": [
            {"card": cards[1]["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-12-03T09:40:00Z"}]})
        assert r.json() == {"recorded": 1}

    verify = subprocess.run(CLI + ["log", "verify"], env=env, capture_output=True, text=True)
    assert verify.returncode == 0 and "entries, chain intact" in verify.stdout, verify.stdout + verify.stderr
    exported = subprocess.run(CLI + ["log", "export", "--format", "jsonl"], env=env, capture_output=True, text=True)
    entries = [json.loads(line)["body"] for line in exported.stdout.splitlines()]
    kinds = [e["kind"] for e in entries]
    assert kinds.count(service.CDS_CARD) == 2 and kinds.count(service.CDS_FEEDBACK) == 1
    cards_logged = [e for e in entries if e["kind"] == service.CDS_CARD]
    assert [e["details"]["card"] for e in cards_logged] == [c["uuid"] for c in cards]
    assert {e["user"] for e in cards_logged} == {f"sub:{ISS}|{SUB}"}
    assert {e["details"]["claimed_user"] for e in cards_logged} == {"Practitioner/1"}
    assert len({e["patient_ref"] for e in cards_logged}) == 1
    assert PATIENT_ID not in exported.stdout
