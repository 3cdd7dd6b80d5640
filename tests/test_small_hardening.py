"""The smaller items of issue 26, part 8: bidi and control characters shown as visible codes (board report
HTML/PDF, the Audit log page's user names, every inert text); the SQLite store created 0600; the Subgroups
page highlights a patient's groups only for a role that may open the Patient page; a training writer killed
with SIGKILL leaves a temporary folder that the next write of that bundle removes (and nothing else); no
key file is committed."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core._format import inert_markdown, visible_text
from core.cli import main
from tests._apps import rendered

ROOT = Path(__file__).resolve().parents[1]
RLO = "\u202e"
SPOOF = f"Dr Eve{RLO}gnp.exe"


@pytest.mark.parametrize("text, shown", [
    (SPOOF, "Dr Eve[U+202E]gnp.exe"),
    ("a\u2066b\u2069c\u200fd\u061ce", "a[U+2066]b[U+2069]c[U+200F]d[U+061C]e"),
    ("bell\x07 nul\x00 del\x7f c1\x9b", "bell[U+0007] nul[U+0000] del[U+007F] c1[U+009B]"),
    ("two\nlines\tand a tab\r", "two\nlines\tand a tab\r"),  # line breaks and tabs are text
    ("Ünïcode ≥ 50 mg · 日本語", "Ünïcode ≥ 50 mg · 日本語"),
])
def test_bidi_and_control_characters_become_visible_codes(text, shown):
    assert visible_text(text) == shown
    assert rendered(inert_markdown(text)) == shown  # every inert text on the pages, too


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EQUIPOISE_DATABASE_URL", raising=False)
    return tmp_path / "data"


def test_board_reports_show_bidi_controls_as_codes(data_dir, tmp_path):
    from pypdf import PdfReader

    code, out, err = _run("board", "new", "--title", f"MDT {RLO}fdp.exe", "--date", "2026-12-03", "--chair",
                          SPOOF, "--user", SPOOF)
    assert code == 0, err
    meeting = out.strip().splitlines()[-1]
    for fmt in ("html", "pdf"):
        path = tmp_path / f"report.{fmt}"
        code, _, err = _run("board", "export", "--meeting", meeting, "--format", fmt, "--out", str(path))
        assert code == 0, err
        text = path.read_text(encoding="utf-8") if fmt == "html" else \
            "\n".join(p.extract_text() for p in PdfReader(str(path)).pages)
        assert RLO not in text and "MDT [U+202E]fdp.exe" in text, fmt


def test_the_audit_log_page_shows_user_names_with_visible_codes(data_dir):
    from core import service

    service.open_log().append("decision", user=SPOOF, role="local", page="Board decision")
    at = AppTest.from_file(str(ROOT / "pages" / "audit_log.py"), default_timeout=60)
    at.session_state["eq.routed"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    users = list(at.dataframe[0].value["Who"])
    assert "Dr Eve[U+202E]gnp.exe" in users and not any(RLO in u for u in users)
    assert not any(RLO in str(o) for o in at.selectbox(key="al.user").options)


def test_the_sqlite_store_is_created_private(tmp_path, monkeypatch):
    from core.store import open_store

    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "new.sqlite3"
    store = open_store(f"sqlite:///{path}")
    from core.audit import AuditLog

    AuditLog(store).append("decision", user="u", role="local")
    store.close()
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{path}{suffix}").exists():
            assert stat.S_IMODE(os.stat(f"{path}{suffix}").st_mode) == 0o600, suffix
    # an existing file is not ours to change
    existing = tmp_path / "existing.sqlite3"
    existing.touch(mode=0o640)
    os.chmod(existing, 0o640)
    open_store(f"sqlite:///{existing}").close()
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640


AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "a-test-cookie-secret-of-32-chars",
        "client_id": "equipoise", "client_secret": "not-a-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}


@pytest.mark.parametrize("email, role, highlighted", [("ana@example.org", "clinician", True),
                                                      ("tess@example.org", "trainee", False),
                                                      ("ben@example.org", "admin", False)])
def test_subgroups_highlights_a_patient_only_for_roles_that_may_open_the_patient(
        tmp_path, monkeypatch, bundle_dirs, email, role, highlighted):
    from core import service

    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(bundle_dirs("actg175").parent))
    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(tmp_path / "data"))
    roles = tmp_path / "roles.toml"
    roles.write_text(f'[users]\n"email:{email}" = ["{role}"]\n', encoding="utf-8")
    monkeypatch.setenv("EQUIPOISE_ROLES_FILE", str(roles))
    patient = service.held_out_patients(service.open_bundle(bundle_dirs("actg175")))[0]["patient_id"]
    at = AppTest.from_file(str(ROOT / "pages" / "subgroups.py"), default_timeout=120)
    at.secrets = {"auth": dict(AUTH)}
    at.user = {"is_logged_in": True, "email": email, "email_verified": True, "iss": "https://idp.example",
               "sub": "s1", "name": "Someone"}
    at.session_state["eq.routed"] = True
    at.query_params["cohort"], at.query_params["patient"] = "actg175", str(patient)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(str(c.value) for c in at.caption)
    assert ("This patient's groups are highlighted." in captions) == highlighted
    marks = set(at.dataframe[0].value["This patient"])
    assert ("◀" in marks) == highlighted


WRITER = """
import sys, time
from core.modeling import bundle_store
bundle_store._install = lambda *a, **k: time.sleep(600)  # every file written; stopped before moving it in
bundle_store.write_tree({"model.bin": b"x" * 1000}, sys.argv[1])
"""


def test_a_killed_writers_temporary_folder_is_removed_at_the_next_write_and_nothing_else(tmp_path):
    from core.modeling.bundle_store import PARTIAL, write_tree

    out = tmp_path / "colon"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(out)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 60
    while not [p for p in tmp_path.glob(".colon.tmp-*") if (p / "model.bin").exists()] and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    [orphan] = tmp_path.glob(".colon.tmp-*")
    assert (orphan / PARTIAL).is_file()
    # look-alikes that are not ours: no marker, a file, a link to someone's folder, another bundle's leftover
    theirs = tmp_path / ".colon.tmp-notes"
    theirs.mkdir()
    (theirs / "keep.txt").write_text("mine")
    (tmp_path / ".colon.tmp-file").write_text("mine")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / PARTIAL).write_text("")
    (tmp_path / ".colon.tmp-link").symlink_to(elsewhere)
    other = tmp_path / ".actg175.tmp-abcdefgh"
    other.mkdir()
    (other / PARTIAL).write_text("")
    said = []
    write_tree({"model.bin": b"y"}, out, progress=said.append)
    assert not orphan.exists() and any(orphan.name in s for s in said)
    assert (out / "model.bin").read_bytes() == b"y" and not (out / PARTIAL).exists()
    assert (theirs / "keep.txt").read_text() == "mine" and (tmp_path / ".colon.tmp-file").read_text() == "mine"
    assert (tmp_path / ".colon.tmp-link").is_symlink() and (elsewhere / PARTIAL).exists() and other.exists()


def test_no_key_file_is_committed_and_keys_are_ignored():
    tracked = subprocess.run(["git", "ls-files", "*.key"], cwd=ROOT, capture_output=True, text=True)
    assert tracked.returncode == 0 and tracked.stdout == ""
    assert subprocess.run(["git", "check-ignore", "-q", "data/audit-log-mac.key"], cwd=ROOT).returncode == 0
    assert subprocess.run(["git", "check-ignore", "-q", "anywhere/some.key"], cwd=ROOT).returncode == 0
