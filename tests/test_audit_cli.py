"""The CLI and the log: ``predict --log`` commits each report before printing it; ``log verify`` exits 0
with "N entries, chain intact" or non-zero naming the entry; ``log export`` is itself logged; ``db upgrade``."""

from __future__ import annotations

import hashlib
import io
import json
import sys

import pytest
from sqlalchemy import text

from core.cli import main


@pytest.fixture
def store_env(tmp_path, monkeypatch):
    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EQUIPOISE_DATABASE_URL", raising=False)
    return tmp_path


def _log():
    from core import service

    return service.open_log()


class CountingStdout(io.StringIO):
    """Standard output that, at each write, counts the log's entries through a separate connection."""

    def __init__(self):
        super().__init__()
        self.seen: list[int] = []

    def write(self, s):
        if s.strip():
            self.seen.append(len(_log()))
        return super().write(s)


def test_predict_log_commits_each_report_before_printing_it(store_env, bundle_dirs, monkeypatch, capsys):
    patient = store_env / "p.json"
    assert main(["template", "--cohort", "actg175"]) == 0
    patient.write_text(capsys.readouterr().out)
    out = CountingStdout()
    with monkeypatch.context() as mp:
        mp.setattr(sys, "stdout", out)
        code = main(["predict", "--bundle", str(bundle_dirs("actg175")), "--patient", str(patient), "--log",
                     "--user", "alice"])
    assert code == 0
    assert out.seen and min(out.seen) == 1  # the entry was already committed at the first byte printed
    [entry] = _log().entries()
    assert (entry.kind, entry.user, entry.page) == ("patient_report", "alice", "cli predict")
    printed = json.loads(out.getvalue())
    assert entry.report_sha256 == hashlib.sha256(json.dumps(printed, sort_keys=True, separators=(",", ":"),
                                                           ensure_ascii=False).encode()).hexdigest()


def test_verify_export_and_a_deleted_row(store_env, capsys):
    log = _log()
    for i in range(4):
        log.append("decision", user="u", role="local", details={"i": i})
    assert main(["log", "verify"]) == 0
    assert capsys.readouterr().out.startswith("4 entries, chain intact")
    assert main(["log", "export", "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["body"]["kind"] for line in lines] == ["decision"] * 4 + ["export"]
    with log.store.engine.connect() as conn:
        conn.execute(text("DROP TRIGGER audit_log_refuse_delete"))
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
        conn.commit()
    assert main(["log", "verify"]) == 4
    assert "Entry 2 was deleted" in capsys.readouterr().err


def test_db_upgrade_and_user_without_log(store_env, capsys):
    assert main(["db", "upgrade"]) == 0
    assert "at revision 0004 (head)" in capsys.readouterr().out
    assert main(["predict", "--bundle", "x", "--patient", "-", "--user", "bob"]) == 2
    assert "use it with --log" in capsys.readouterr().err
