"""Crash safety: a writer process killed with SIGKILL at a random moment, 50 times per backend, leaves a
chain that verifies and loses no entry whose report was printed (the writer prints an entry only once it
is committed; the parent compares what was printed with what is stored)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _store_fixtures import db_url  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 50
WRITER = """
import sys
from core.audit import AuditLog
from core.store import open_store
log = AuditLog(open_store(sys.argv[1], upgrade=False))
print("ready", flush=True)
i = 0
while True:
    i += 1
    e = log.append("patient_report", user=sys.argv[2], role="local", page="crash test",
                   report={"writer": sys.argv[2], "i": i, "padding": "x" * 2000},
                   warnings=[{"kind": "k", "severity": "low", "message": "m"}])
    print(e.seq, e.hash, flush=True)  # printed only once the entry is committed
"""


def _run_writer(url: str, name: str, env: dict, rng: random.Random) -> list[tuple[str, str]]:
    errors = tempfile.TemporaryFile("w+")  # not a pipe: an unread full pipe would block the writer
    proc = subprocess.Popen([sys.executable, "-c", WRITER, url, name], stdout=subprocess.PIPE, stderr=errors,
                            text=True, cwd=ROOT, env=env)
    first = proc.stdout.readline()
    errors.seek(0)
    assert first.strip() == "ready", errors.read()
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout))
    reader.start()
    time.sleep(rng.uniform(0.0, 0.15))
    os.kill(proc.pid, signal.SIGKILL)  # at a random moment: mid-transaction, mid-commit, mid-print
    proc.wait()
    reader.join()
    return [tuple(line.split()) for line in lines if line.endswith("\n") and len(line.split()) == 2]


def test_sigkilled_writers_leave_a_verifying_chain_and_lose_no_printed_entry(db_url, capsys):
    from core import service

    log = service.open_log(db_url)  # migrations applied once, before the writers
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = random.Random(20261202)
    printed: list[tuple[str, str]] = []
    for round_ in range(ROUNDS):
        printed += _run_writer(db_url, f"w{round_}", env, rng)
    result = log.verify()
    stored = {(str(e["seq"]), e["hash"]) for e in log.export()}
    lost = [p for p in printed if p not in stored]
    with capsys.disabled():
        print(f"\n[crash test, {log.store.dialect}] {ROUNDS} writers SIGKILLed: {len(printed)} entries printed, "
              f"{result.entries} committed, {result.entries - len(printed)} committed but not printed before the "
              f"kill, {len(lost)} printed entries lost; {result.message}")
    assert result.ok, result.message
    assert not lost
    assert len(printed) > ROUNDS // 2  # the writers really wrote before they were killed
    log.store.close()
