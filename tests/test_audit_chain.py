"""The audit log's hash chain, on SQLite and PostgreSQL: an independent verifier (hashlib + json only)
recomputes every hash from the export; the triggers refuse UPDATE and DELETE; an attacker who drops the
triggers and changes, deletes, inserts or reorders rows is named by ``log verify``."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from sqlalchemy import text

from _store_fixtures import db_url, log  # noqa: F401  (fixtures)

GENESIS = "0" * 64


def independent_verify(lines: list[str]) -> list[str]:
    """The README's rule, re-implemented without Equipoise: returns the recomputed hashes in order."""
    prev, hashes = GENESIS, []
    for number, line in enumerate(lines, start=1):
        entry = json.loads(line)
        body = json.dumps(entry["body"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256((prev + body).encode("utf-8")).hexdigest()
        assert entry["seq"] == number == entry["body"]["seq"]
        assert entry["prev_hash"] == prev, f"entry {number} does not follow entry {number - 1}"
        hashes.append(digest)
        prev = digest
    return hashes


def _fill(log, n=6):
    for i in range(n):
        log.append("patient_report", user=f"user{i % 2}", role="local", page="Patient",
                   patient_ref=log.patient_ref(f"p{i}"), bundle_id="b-1", bundle_sha256="a" * 64,
                   report={"i": i, "risk": 0.1 * i, "text": "Ünïcode ≥50", "warnings": []},
                   warnings=[{"kind": "ood", "severity": "high", "message": "Fuera de distribución ≥"}])


def _sql(log, *statements, **params):
    with log.store.engine.connect() as conn:
        for statement in statements:
            conn.execute(text(statement), params if ":" in statement else {})
        conn.commit()


def _drop_triggers(log):
    if log.store.dialect == "postgresql":
        _sql(log, "ALTER TABLE audit_log DISABLE TRIGGER USER", "ALTER TABLE audit_chain_head DISABLE TRIGGER USER")
    else:
        _sql(log, *[f"DROP TRIGGER {t}" for t in ("audit_log_refuse_update", "audit_log_refuse_delete",
                                                   "audit_log_extends_head", "audit_chain_head_forward_only")])


def test_independent_script_recomputes_the_same_hashes_from_the_export(log):
    _fill(log)
    out = io.StringIO()
    assert log.export_jsonl(out) == 6
    lines = out.getvalue().splitlines()
    assert independent_verify(lines) == [json.loads(line)["hash"] for line in lines]
    assert log.verify().ok and log.verify().message.startswith("6 entries, chain intact")


def test_the_stored_report_matches_its_sha256_and_no_raw_identifier_is_stored(log):
    _fill(log, 2)
    entry = json.loads(next(iter([json.dumps(e) for e in log.export(reports=True)])))
    report_text = json.dumps(entry["report"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(report_text.encode()).hexdigest() == entry["body"]["report_sha256"]
    assert entry["report"]["risk"] == 0.0 and entry["body"]["patient_ref"] == log.patient_ref("p0") != "p0"
    with log.store.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM audit_log")) for v in row)
    assert "p0" not in dump.replace(log.patient_ref("p0"), "")


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET user_name = 'eve' WHERE seq = 2",
                                       "DELETE FROM audit_log WHERE seq = 2",
                                       "DELETE FROM audit_chain_head",
                                       "UPDATE audit_chain_head SET seq = 1"])
def test_triggers_refuse_update_and_delete(log, statement):
    _fill(log, 3)
    with pytest.raises(Exception, match="append-only|refused|only moves"):
        _sql(log, statement)
    assert log.verify().ok


def test_an_insert_that_does_not_extend_the_head_is_refused(log):
    _fill(log, 2)
    with pytest.raises(Exception, match="extend the chain head"):
        _sql(log, f"INSERT INTO audit_log (seq, time, kind, user_name, role, body, prev_hash, hash) VALUES "
                  f"(3, 't', 'k', 'u', 'r', '{{}}', '{GENESIS}', '{'f' * 64}')")


def _export(log):
    return [json.loads(json.dumps(e)) for e in log.export()]


def test_a_changed_row_is_named(log):
    _fill(log)
    _drop_triggers(log)
    _sql(log, "UPDATE audit_log SET user_name = 'eve' WHERE seq = 4")
    result = log.verify()
    assert (result.problem, result.seq) == ("changed", 4), result.message
    assert "user_name" in result.message


def test_a_changed_body_with_its_hash_recomputed_is_named(log):
    _fill(log)
    _drop_triggers(log)
    row = _export(log)[2]
    body = {**row["body"], "user": "eve"}
    text_ = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256((row["prev_hash"] + text_).encode()).hexdigest()
    _sql(log, "UPDATE audit_log SET user_name = 'eve', body = :body, hash = :hash WHERE seq = 3", body=text_, hash=digest)
    result = log.verify()
    assert (result.problem, result.seq) == ("changed", 3), result.message


@pytest.mark.parametrize("seq, expected", [(1, 1), (3, 3), (6, 6)])
def test_a_deleted_row_is_named(log, seq, expected):
    _fill(log)
    _drop_triggers(log)
    _sql(log, f"DELETE FROM audit_log WHERE seq = {seq}")
    result = log.verify()
    assert (result.problem, result.seq) == ("deleted", expected), result.message


def test_a_deleted_row_with_the_rest_renumbered_is_named(log):
    _fill(log)
    _drop_triggers(log)
    _sql(log, "DELETE FROM audit_log WHERE seq = 3", *[f"UPDATE audit_log SET seq = {s - 1} WHERE seq = {s}" for s in (4, 5, 6)])
    result = log.verify()
    assert (result.problem, result.seq) == ("deleted", 3), result.message


def test_an_inserted_row_is_named_even_with_a_valid_hash(log):
    _fill(log)
    _drop_triggers(log)
    rows = _export(log)
    forged = {**rows[2]["body"], "user": "mallory", "seq": 4}
    text_ = json.dumps(forged, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256((rows[2]["hash"] + text_).encode()).hexdigest()
    _sql(log, *[f"UPDATE audit_log SET seq = {s + 1} WHERE seq = {s}" for s in (6, 5, 4)],
         "INSERT INTO audit_log (seq, time, kind, user_name, role, page, patient_ref, bundle_id, bundle_sha256, "
         "report_sha256, report, body, prev_hash, hash) SELECT 4, time, kind, 'mallory', role, page, patient_ref, bundle_id, "
         "bundle_sha256, report_sha256, report, :body, :prev, :hash FROM audit_log WHERE seq = 3",
         body=text_, prev=rows[2]["hash"], hash=digest)
    result = log.verify()
    assert (result.problem, result.seq) == ("inserted", 4), result.message


def test_an_entry_appended_behind_the_heads_back_is_named(log):
    _fill(log, 3)
    _drop_triggers(log)
    last = _export(log)[-1]
    forged = {**last["body"], "seq": 4}
    text_ = json.dumps(forged, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256((last["hash"] + text_).encode()).hexdigest()
    _sql(log, "INSERT INTO audit_log (seq, time, kind, user_name, role, page, patient_ref, bundle_id, bundle_sha256, "
              "report_sha256, report, body, prev_hash, hash) SELECT 4, time, kind, user_name, role, page, patient_ref, "
              "bundle_id, bundle_sha256, report_sha256, report, :body, :prev, :hash FROM audit_log WHERE seq = 3",
         body=text_, prev=last["hash"], hash=digest)
    result = log.verify()
    assert (result.problem, result.seq) == ("inserted", 4), result.message


def test_reordered_rows_are_named(log):
    _fill(log)
    _drop_triggers(log)
    _sql(log, "UPDATE audit_log SET seq = 100 WHERE seq = 3", "UPDATE audit_log SET seq = 3 WHERE seq = 4",
         "UPDATE audit_log SET seq = 4 WHERE seq = 100")
    result = log.verify()
    assert (result.problem, result.seq) == ("reordered", 3), result.message


def test_a_changed_stored_report_is_named(log):
    import zlib

    _fill(log)
    _drop_triggers(log)
    with log.store.engine.connect() as conn:
        conn.execute(text("UPDATE audit_log SET report = :r WHERE seq = 5"),
                     {"r": zlib.compress(b'{"i":4,"risk":0.9}')})
        conn.commit()
    result = log.verify()
    assert (result.problem, result.seq) == ("changed", 5) and "report" in result.message


def test_a_body_never_holds_a_float_and_an_entry_needs_a_user(log):
    entry = log.append("decision", user="u", role="local", details={"threshold": 0.25})
    assert entry.body["details"] == {"threshold": "0.25"}
    from core.audit import AuditError

    with pytest.raises(AuditError, match="needs a kind, a user and a role"):
        log.append("decision", user="", role="local")
