"""Tumor-board records in the store, on SQLite and PostgreSQL: decision versions are never overwritten, the
append-only tables refuse UPDATE and DELETE, the frozen snapshot survives a retrained model byte for byte,
every action is in the audit log (whose chain an independent verifier recomputes), and a CSV's bad rows are
refused by name."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import text

from _board_helpers import AGREES, DIFFERS, board_roots, patients  # noqa: F401  (fixtures)
from _store_fixtures import db_url, log  # noqa: F401  (fixtures)
from test_audit_chain import independent_verify

from core import service
from core.auth import Identity
from core.board import BoardError

APPEND_ONLY = ("board_snapshots", "board_decisions", "board_signoffs", "board_followups", "board_comments")


@pytest.fixture
def board(log, board_roots, monkeypatch):
    """An audit-log context on each backend, the original colon bundle and a meeting with three cases."""
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(board_roots["original"]))
    bundle = service.open_bundle(board_roots["original"] / "colon")
    with service.log_context(log, user="dr.chair", page="board test"):
        meeting = service.new_meeting(title="Colorectal MDT", date="2026-12-03", chair="dr.chair",
                                      attendees=["Dr Okafor:oncology", "Dr Lindqvist:surgery"],
                                      quorum=["oncology", "surgery"])
        for i, (pid, record) in enumerate(patients(bundle, 3), start=1):
            service.add_case(meeting.id, bundle, record, label=f"MDT-{i}", source="test_patient", source_ref=pid,
                             question="Adjuvant chemotherapy?", context="Stage III; ECOG 1; prefers oral drugs.")
        yield meeting, bundle, log


def _rows(log, sql: str):
    with log.store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_decision_versions_are_appended_never_overwritten(board):
    meeting, bundle, log = board
    service.present(meeting.id, "MDT-1", bundle=bundle)
    first = service.decide(meeting.id, "MDT-1", AGREES)
    signed = service.sign_off(meeting.id, "MDT-1")
    second = service.decide(meeting.id, "MDT-1", DIFFERS)
    assert (first.version, signed.version, second.version) == (1, 1, 2)
    assert signed.signed_off and not second.signed_off
    assert first.recommendation_is_option and not second.recommendation_is_option
    versions = service.meeting_record(meeting.id).cases[0].decisions
    assert [(d.version, d.recommendation, d.signed_off) for d in versions] == [
        (1, "Lev+5FU", True), (2, "FOLFOX for 6 months", False)]
    assert versions[0].body() == first.body()  # version 1 as it was
    stored = _rows(log, "SELECT version, body FROM board_decisions ORDER BY version")
    assert [v for v, _ in stored] == [1, 2] and json.loads(stored[0][1])["recommendation"] == "Lev+5FU"
    with pytest.raises(BoardError, match="already signed off; a change is a new version"):
        service.sign_off(meeting.id, "MDT-1", version=1)


@pytest.mark.parametrize("table", APPEND_ONLY)
@pytest.mark.parametrize("statement", ["UPDATE {t} SET id = id + 100", "DELETE FROM {t}"])
def test_append_only_tables_refuse_update_and_delete(board, table, statement):
    meeting, bundle, log = board
    service.present(meeting.id, "MDT-1", bundle=bundle)
    service.decide(meeting.id, "MDT-1", AGREES)
    service.sign_off(meeting.id, "MDT-1")
    service.follow_up(meeting.id, "MDT-1", implemented=False, reason="Patient preference: declined chemotherapy.")
    service.comment(meeting.id, "MDT-1", "Radiology: no metastases on CT.")
    before = _rows(log, f"SELECT * FROM {table} ORDER BY id")
    assert len(before) == 1
    with pytest.raises(Exception, match="append-only"):
        with log.store.engine.begin() as conn:
            conn.execute(text(statement.format(t=table)))
    assert _rows(log, f"SELECT * FROM {table} ORDER BY id") == before


def test_the_frozen_snapshot_survives_a_retrained_model_byte_for_byte(board, board_roots, monkeypatch):
    meeting, bundle, log = board
    first = service.present(meeting.id, "MDT-2", bundle=bundle)
    assert first.frozen_now and not first.model_changed and first.current is None
    stored = _rows(log, "SELECT report, report_sha256, bundle_sha256 FROM board_snapshots")
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(board_roots["retrained"]))
    retrained = service.open_bundle(board_roots["retrained"] / "colon")
    assert retrained.sha256 != bundle.sha256
    again = service.present(meeting.id, "MDT-2")  # the current model is now the retrained one
    assert _rows(log, "SELECT report, report_sha256, bundle_sha256 FROM board_snapshots") == stored
    assert not again.frozen_now and again.snapshot.report_json == stored[0][0] == first.snapshot.report_json
    assert again.snapshot.bundle_id == bundle.bundle_id and again.model_changed
    assert again.current_bundle_id == retrained.bundle_id and again.current["model"]["sha256"] == retrained.sha256
    assert "has changed since this case was presented" in again.note
    html = service.board_export(meeting.id, format="html", case="MDT-2").decode()
    assert "The model has changed since this snapshot was frozen" in html and retrained.bundle_id in html
    assert bundle.bundle_id in html and bundle.sha256 in html


def test_every_action_is_in_the_log_and_the_chain_verifies(board):
    meeting, bundle, log = board
    service.present(meeting.id, "MDT-3", bundle=bundle)
    service.decide(meeting.id, "MDT-3", DIFFERS)
    service.sign_off(meeting.id, "MDT-3")
    service.follow_up(meeting.id, "MDT-3", implemented=True)
    service.reorder_cases(meeting.id, ["MDT-3", "MDT-1", "MDT-2"])
    service.comment(meeting.id, "MDT-3", "Dr Lindqvist: would operate first.",
                    by=Identity("dr.member", frozenset({"board_member"})))
    service.board_export(meeting.id, format="pdf")
    board_kinds = [e.kind for e in log.entries() if e.kind.startswith("board_") or e.kind == "export"]
    assert board_kinds == ["board_meeting"] + ["board_case"] * 3 + [
        "board_snapshot", "board_decision", "board_signoff", "board_followup", "board_case", "board_comment", "export"]
    decision = next(e for e in log.entries() if e.kind == "board_decision")
    assert decision.details["version"] == 1 and decision.details["agrees_with_model"] is False
    assert log.report(decision.seq)["disagreement_reason"] == DIFFERS["disagreement_reason"]
    assert decision.user == "dr.chair" and decision.bundle["id"] == bundle.bundle_id
    out = io.StringIO()
    log.export_jsonl(out)
    lines = out.getvalue().splitlines()
    assert independent_verify(lines) == [json.loads(line)["hash"] for line in lines]
    assert log.verify().ok
    cases = service.meeting_record(meeting.id).cases
    assert [c.case.label for c in cases] == ["MDT-3", "MDT-1", "MDT-2"]
    assert [(x.created_by, x.text) for x in cases[0].comments] == [("dr.member", "Dr Lindqvist: would operate first.")]


def test_a_csv_row_is_added_or_refused_with_its_errors_by_name(board):
    meeting, bundle, log = board
    (_, good), (_, other) = patients(bundle, 2)
    header = ["case", *good]
    rows = [["CSV-A", *good.values()], ["CSV-BAD", *{**other, "age_years": 500}.values()],
            ["", *other.values()], ["CSV-A", *other.values()], ["MDT-1", *other.values()]]
    data = "\n".join(",".join("" if v is None else str(v) for v in row) for row in [header, *rows]).encode()
    result = service.add_cases_from_csv(meeting.id, bundle, data, label_column="case", name="agenda.csv")
    assert [c.label for c in result.added] == ["CSV-A"]
    refused = {r.row: r for r in result.refused}
    assert sorted(refused) == [2, 3, 4, 5] and result.n_rows == 5
    assert refused[2].label == "CSV-BAD" and "Age must be a whole number" in refused[2].errors[0] and "500" in refused[2].errors[0]
    assert refused[3].label is None and "empty" in refused[3].errors[0]
    assert "earlier row" in refused[4].errors[0] and "already on this meeting's agenda" in refused[5].errors[0]
    assert "Row 2 (CSV-BAD) refused" in result.message()
    assert [c.case.label for c in service.meeting_record(meeting.id).cases] == ["MDT-1", "MDT-2", "MDT-3", "CSV-A"]


def test_only_a_chair_signs_off_and_members_decide(board):
    meeting, bundle, log = board
    member = Identity("dr.member", frozenset({"board_member"}))
    service.present(meeting.id, "MDT-1", bundle=bundle, by=member)
    service.decide(meeting.id, "MDT-1", AGREES, by=member)
    with pytest.raises(BoardError, match="needs the role board_chair"):
        service.sign_off(meeting.id, "MDT-1", by=member)
    with pytest.raises(BoardError, match="needs the role board_chair or board_member"):
        service.present(meeting.id, "MDT-2", by=Identity("nurse", frozenset({"clinician"})))
    other_chair = Identity("dr.other", frozenset({"board_chair"}))  # a chair, but not this meeting's
    with pytest.raises(BoardError, match="Only this meeting's chair, dr.chair, signs off .* signed in as dr.other"):
        service.sign_off(meeting.id, "MDT-1", by=other_chair)
    chair = Identity("dr.chair", frozenset({"board_chair"}))
    assert service.sign_off(meeting.id, "MDT-1", by=chair).signed_off_by == "dr.chair"


def test_a_decision_needs_a_presented_case_and_a_follow_up_a_signed_off_decision(board):
    meeting, bundle, log = board
    with pytest.raises(BoardError, match="has not been presented yet"):
        service.decide(meeting.id, "MDT-1", AGREES)
    service.present(meeting.id, "MDT-1", bundle=bundle)
    service.decide(meeting.id, "MDT-1", AGREES)
    with pytest.raises(BoardError, match="no signed-off decision"):
        service.follow_up(meeting.id, "MDT-1", implemented=True)
    service.sign_off(meeting.id, "MDT-1")
    with pytest.raises(BoardError, match="'reason' field must not be empty"):
        service.follow_up(meeting.id, "MDT-1", implemented=False, reason=" ")
    with pytest.raises(BoardError, match="No case labelled 'nope'.*MDT-1, MDT-2, MDT-3"):
        service.present(meeting.id, "nope")


def test_migration_0002_downgrades_and_upgrades_again(log):
    from alembic import command
    from sqlalchemy import inspect

    from core.store import upgrade
    from core.store._migrate import alembic_config

    def tables():
        with log.store.engine.connect() as conn:
            return {t for t in inspect(conn).get_table_names() if t.startswith("board_")}

    assert tables() == {"board_meetings", "board_cases", *APPEND_ONLY}
    config = alembic_config()
    with log.store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    assert tables() == set() and log.store.revision() == "0001"
    assert upgrade(log.store) == "0004" and len(tables()) == 7
