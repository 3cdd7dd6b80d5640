"""The audit log's anchors outside its database (issue 26, part 3), on SQLite and PostgreSQL: someone with
full database access forges an append as head+1 with a correct prev_hash and hash, truncates the tail and
rewinds the head (PostgreSQL: as a superuser with ``session_replication_role = replica``), or deletes the
database; ``equipoise log verify`` (with the checkpoint file, ``--expect-at-least``) fails on each, naming
what happened. Also: key rotation, a forged checkpoint line, entries from before MACs, file modes, links."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

import _pgcluster
from _store_fixtures import db_url  # noqa: F401  (fixture)
from core.audit import anchors as A
from core.cli import EXIT_LOG_BROKEN, main


@pytest.fixture
def env(db_url, tmp_path, monkeypatch):  # noqa: F811
    """The CLI's store is the test's database; keys and checkpoints in the test's data dir."""
    monkeypatch.setenv("EQUIPOISE_DATABASE_URL", db_url)
    monkeypatch.setenv(A.EVERY_ENV, "2")
    return tmp_path / "data"


def _log():
    from core import service

    return service.open_log()


def _fill(n: int) -> None:
    log = _log()
    for i in range(n):
        log.append("patient_report", user=f"user{i % 2}", role="clinician", page="Patient",
                   patient_ref=log.patient_ref(f"p{i}"), report={"i": i}, details={"i": i})
    log.store.close()


def _sql(*statements, **params):
    log = _log()
    with log.store.engine.connect() as conn:
        for statement in statements:
            conn.execute(text(statement), params if ":" in statement else {})
        conn.commit()
    log.store.close()


def _verify(capsys, *options) -> tuple[int, str]:
    code = main(["log", "verify", *options])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _last_row() -> dict:
    return list(_log().export())[-1]


def test_an_intact_log_verifies_with_its_anchors(env, capsys):
    _fill(5)
    code, out = _verify(capsys, "--checkpoints", str(env / A.CHECKPOINTS_FILE), "--expect-at-least", "5")
    assert code == 0, out
    assert out.startswith("5 entries, chain intact") and "entries up to 5 are vouched for by their MACs" in out
    assert "checkpoints in" in out
    lines = (env / A.CHECKPOINTS_FILE).read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 3, 5]  # the first append, then every 2
    for name in (A.MAC_KEY_FILE, A.CHECKPOINTS_FILE, "audit-hmac.key"):
        assert stat.S_IMODE(os.stat(env / name).st_mode) == 0o600, name


@pytest.mark.parametrize("mac", [None, "0123456789abcdef:" + "0" * 64])
def test_a_forged_append_as_head_plus_one_fails(env, capsys, mac):
    # the triggers allow it: it extends the chain head with a correct prev_hash and hash, and moves the head
    _fill(4)
    last = _last_row()
    body = {**last["body"], "seq": 5, "user": "mallory", "details": {"forged": True}}
    text_ = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256((last["hash"] + text_).encode()).hexdigest()
    _sql("INSERT INTO audit_log (seq, time, kind, user_name, role, page, patient_ref, bundle_id, bundle_sha256, "
         "report_sha256, report, body, prev_hash, hash, mac) SELECT 5, time, kind, 'mallory', role, page, patient_ref, "
         "bundle_id, bundle_sha256, report_sha256, report, :body, :prev, :hash, :mac FROM audit_log WHERE seq = 4",
         body=text_, prev=last["hash"], hash=digest, mac=mac)
    _sql("UPDATE audit_chain_head SET seq = 5, hash = :hash WHERE id = 1", hash=digest)
    assert _log().verify().problem == "unsigned"
    code, out = _verify(capsys)
    assert code == EXIT_LOG_BROKEN
    assert "Entry 5 was not written by Equipoise with this installation's key" in out and "forged" in out


def _truncate_and_rewind(keep: int) -> None:
    rows = list(_log().export())
    head = rows[keep - 1]
    log = _log()
    if log.store.dialect == "postgresql":  # a superuser switches every trigger off for the session
        _sql("SET session_replication_role = replica", f"DELETE FROM audit_log WHERE seq > {keep}",
             f"UPDATE audit_chain_head SET seq = {keep}, hash = :hash WHERE id = 1", hash=head["hash"])
    else:
        _sql("DROP TRIGGER audit_log_refuse_delete", "DROP TRIGGER audit_chain_head_forward_only",
             f"DELETE FROM audit_log WHERE seq > {keep}",
             f"UPDATE audit_chain_head SET seq = {keep}, hash = :hash WHERE id = 1", hash=head["hash"])
    log.store.close()


def test_tail_truncation_with_the_head_rewound_fails(env, capsys):
    _fill(6)
    _truncate_and_rewind(3)
    chain_only = _log().verify(checkpoints=None)
    assert chain_only.problem == "truncated"  # the data dir's checkpoint file is read by default
    code, out = _verify(capsys, "--checkpoints", str(env / A.CHECKPOINTS_FILE))
    assert code == EXIT_LOG_BROKEN
    assert "The log ends at entry 3, but entry 5 (checkpointed" in out and "entry 4 to 5 was removed" in out
    # without any checkpoint, --expect-at-least still catches it
    (env / A.CHECKPOINTS_FILE).unlink()
    code, out = _verify(capsys, "--expect-at-least", "6")
    assert code == EXIT_LOG_BROKEN and "The log holds 3 entries, but at least 6 were expected" in out


def test_a_deleted_or_replaced_database_fails(env, capsys, monkeypatch, db_url):  # noqa: F811
    _fill(3)
    if db_url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(db_url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    else:  # an empty database in its place
        admin, _ = _pgcluster.server_url()
        url, drop = _pgcluster.fresh_database(admin)
        monkeypatch.setenv("EQUIPOISE_DATABASE_URL", url)
    code, out = _verify(capsys)
    assert code == EXIT_LOG_BROKEN
    assert "The log holds no entries, but entry 3 (checkpointed" in out and "deleted, emptied or replaced" in out
    code, out = _verify(capsys, "--expect-at-least", "1", "--checkpoints", str(env / "elsewhere.jsonl"))
    assert code == EXIT_LOG_BROKEN and "There is no checkpoint file at" in out
    (env / A.CHECKPOINTS_FILE).unlink()
    code, out = _verify(capsys, "--expect-at-least", "1")
    assert code == EXIT_LOG_BROKEN and "The log holds 0 entries, but at least 1 were expected" in out
    if not db_url.startswith("sqlite"):
        drop()


def test_a_forged_or_altered_checkpoint_line_fails(env, capsys):
    _fill(2)
    path = env / A.CHECKPOINTS_FILE
    forged = {"seq": 1, "head_hash": "f" * 64, "time": "2026-01-01T00:00:00Z", "key_id": "0" * 16, "mac": "0" * 64}
    with path.open("a") as f:
        f.write(json.dumps(forged) + "\n")
    code, out = _verify(capsys)
    assert code == EXIT_LOG_BROKEN and "Checkpoint line 2 of" in out and "which is not in" in out
    good = path.read_text().splitlines()[0]
    path.write_text(good + "\n" + json.dumps({**json.loads(good), "seq": 2}) + "\n")  # a real key, a changed seq
    code, out = _verify(capsys)
    assert code == EXIT_LOG_BROKEN and "Checkpoint line 2 of" in out and "altered or forged" in out


def test_a_checkpoint_that_disagrees_with_the_entry_fails(env, capsys):
    _fill(3)
    ring = A.load_keyring(env, create=False)
    A.append_checkpoint(env / A.CHECKPOINTS_FILE, ring, 2, "e" * 64, "2026-01-01T00:00:00Z")
    code, out = _verify(capsys)
    assert code == EXIT_LOG_BROKEN and "record different hashes for entry" not in out
    assert "Entry 2 is not the entry checkpointed at 2026-01-01T00:00:00Z" in out


def test_the_key_rotates_and_old_entries_still_verify(env, capsys):
    _fill(3)
    old = A.load_keyring(env, create=False)
    assert main(["log", "rotate-key"]) == 0
    out = capsys.readouterr().out
    new = A.load_keyring(env, create=False)
    assert new.current_id != old.current_id and [k for k, _ in new.keys] == [new.current_id, old.current_id]
    assert f"New MAC key {new.current_id} is first in" in out and "Checkpoint of entry 3" in out
    assert stat.S_IMODE(os.stat(env / A.MAC_KEY_FILE).st_mode) == 0o600
    _fill(2)
    macs = [r.mac for r in _rows()]
    assert [m.split(":")[0] for m in macs] == [old.current_id] * 3 + [new.current_id] * 2
    assert _verify(capsys)[0] == 0
    # a key removed from the file no longer vouches for what it signed
    (env / A.MAC_KEY_FILE).write_text(new.keys[0][1].hex() + "\n")
    code, out = _verify(capsys)
    assert code == EXIT_LOG_BROKEN and "Checkpoint line 1" in out and f"signed with key '{old.current_id}'" in out


def _rows():
    log = _log()
    with log.store.engine.connect() as conn:
        rows = list(conn.execute(text("SELECT seq, mac FROM audit_log ORDER BY seq")))
    log.store.close()
    return rows


def test_a_missing_key_file_fails_and_is_never_replaced_by_verify(env, capsys):
    _fill(2)
    (env / A.MAC_KEY_FILE).unlink()
    code, out = _verify(capsys)
    assert code == EXIT_LOG_BROKEN and "key file" in out and "is missing" in out
    assert not (env / A.MAC_KEY_FILE).exists()


def test_entries_from_before_macs_are_sealed_by_a_checkpoint(env, capsys):
    _fill(3)
    log = _log()  # simulate a log written before migration 0004: no MAC, no checkpoint
    if log.store.dialect == "postgresql":
        _sql("SET session_replication_role = replica", "UPDATE audit_log SET mac = NULL")
    else:
        _sql("DROP TRIGGER audit_log_refuse_update", "UPDATE audit_log SET mac = NULL")
    (env / A.CHECKPOINTS_FILE).unlink()
    code, out = _verify(capsys)
    assert code == EXIT_LOG_BROKEN and "Entries 1 to 3 carry no MAC and no checkpoint covers them" in out
    assert main(["log", "checkpoint"]) == 0
    assert "Checkpoint of entry 3" in capsys.readouterr().out
    assert _verify(capsys)[0] == 0
    _fill(1)  # a new entry's MAC vouches for the three before it as well
    code, out = _verify(capsys)
    assert code == 0 and "entries up to 4 are vouched for" in out


def test_a_broken_log_is_never_checkpointed(env, capsys):
    _fill(4)
    _truncate_and_rewind(2)
    before = (env / A.CHECKPOINTS_FILE).read_text()
    assert main(["log", "checkpoint"]) == 2
    assert "was not checkpointed because it does not verify: The log ends at entry 2" in capsys.readouterr().err
    assert (env / A.CHECKPOINTS_FILE).read_text() == before


def test_checkpoints_are_never_written_through_a_link(env, tmp_path, monkeypatch):
    target = tmp_path / "not-ours.txt"
    target.write_text("someone else's file\n")
    link = tmp_path / "cp-link.jsonl"
    link.symlink_to(target)
    monkeypatch.setenv(A.CHECKPOINTS_ENV, str(link))
    from core.audit import AuditError

    with pytest.raises(AuditError, match="is not an ordinary file; checkpoints are never written through a link"):
        _fill(1)
    assert target.read_text() == "someone else's file\n"


@pytest.mark.parametrize("value", ["0", "ten", "100001"])
def test_a_bad_checkpoint_interval_is_refused_by_name(env, monkeypatch, value):
    monkeypatch.setenv(A.EVERY_ENV, value)
    with pytest.raises(A.AnchorError, match=r"EQUIPOISE_AUDIT_CHECKPOINT_EVERY must be a whole number of entries "
                                            r"in the range \[1, 100000\]\. Got"):
        _log()
