"""The dashboard logs what it shows: a patient report is committed (local user, page, keyed patient
reference, report sha256) before the page lays it out; reruns do not duplicate it; the Audit log page
filters, verifies and exports."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="module")
def bundle_root(bundle_dirs, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("EQUIPOISE_BUNDLE_DIR", str(bundle_dirs("actg175").parent))
    # a data directory of its own (store, key, checkpoints): another test file on the same worker that opened a
    # store of its own must not make this store's verification read another log's checkpoints
    mp.setenv("EQUIPOISE_DATA_DIR", str(tmp_path_factory.mktemp("audit_dashboard_data")))
    mp.delenv("EQUIPOISE_DATABASE_URL", raising=False)
    mp.delenv("EQUIPOISE_AUDIT_CHECKPOINTS", raising=False)
    yield
    mp.undo()


def _log():
    from core import service

    return service.open_log()  # the same store the app opened (this module's EQUIPOISE_DATA_DIR)


def test_a_shown_report_is_in_the_log_before_the_page_renders_it(bundle_root):
    before = len(_log())
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    log = _log()
    new = [e for e in log.entries() if e.seq > before and e.kind == "patient_report"]
    assert len(new) == 1
    entry = new[0]
    patient = at.session_state["eq.test_id"]["actg175"]
    assert entry.page == "Patient" and entry.role == "local" and entry.user
    assert entry.patient_ref == log.patient_ref(patient) and patient not in json.dumps(entry.body)
    report = log.report(entry.seq)
    text = json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(text.encode()).hexdigest() == entry.report_sha256
    assert {w["kind"] for w in entry.warnings} == {w["kind"] for w in report["warnings"]}
    at.run()  # a rerun shows the very same report: no second entry
    assert len([e for e in _log().entries() if e.seq > before and e.kind == "patient_report"]) == 1


def test_the_audit_log_page_verifies_and_filters(bundle_root):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/audit_log.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Audit log"
    at.button(key="al.verify").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.success and "chain intact" in at.success[0].value, [e.value for e in at.error]
    patient = at.session_state["eq.test_id"]["actg175"]
    at.text_input(key="al.patient").set_value(patient).run()
    assert not at.exception
    assert "1 entries shown" in " ".join(c.value for c in at.caption) or "entries shown" in " ".join(c.value for c in at.caption)
    before = len(_log())
    at.button(key="al.export").click().run()
    assert not at.exception
    kinds = [e.kind for e in _log().entries() if e.seq > before]
    assert kinds == ["export"], kinds


def test_two_users_opening_the_model_card_make_two_log_entries(bundle_root):
    # The card is computed once per bundle (below the logging), but every view is recorded: the second
    # session's view used to be a cache hit above the service, and went unlogged.
    before = len(_log())
    for _ in range(2):
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        at.switch_page("pages/model_card.py")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.title[0].value == "Model card"
    cards = [e for e in _log().entries() if e.seq > before and e.kind == "model_card"]
    assert len(cards) == 2
