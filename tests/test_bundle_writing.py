"""Writing a bundle never destroys anything, keeps the bundle it replaces, and trains a cohort once at a time."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core import service
from core.cli import main
from core.modeling import pipeline
from core.modeling.bundle import load_bundle
from core.modeling.bundle_store import BundleTargetError, bundle_lock

from _bundle_helpers import copy_bundle, fake_build, reseal

ROOT = Path(__file__).resolve().parents[1]


def _user_folder(path: Path) -> dict[str, bytes]:
    path.mkdir(parents=True, exist_ok=True)
    (path / "important.docx").write_bytes(b"PK\x03\x04 a user's only copy")
    (path / "sub").mkdir()
    (path / "sub" / "notes.txt").write_text("keep me")
    return _snapshot(path)


def _snapshot(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_train_out_dot_in_a_folder_with_files_leaves_them_where_they_were(tmp_path):
    work = tmp_path / "project"
    before = _user_folder(work)
    proc = subprocess.run([sys.executable, "-m", "core.cli", "train", "--cohort", "colon", "--out", "."], cwd=work,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2, proc.stderr
    assert "Refusing to write the bundle to" in proc.stderr and "'important.docx'" in proc.stderr
    assert "--force" in proc.stderr and "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert _snapshot(work) == before
    assert sorted(os.listdir(tmp_path)) == ["project"]  # no lock, temporary or versions folder was made either


@pytest.mark.parametrize("make", [
    lambda p: _user_folder(p),
    lambda p: p.write_text("a file, not a folder"),
    lambda p: p.symlink_to(p.parent),
])
def test_any_non_bundle_at_out_is_refused_before_training(tmp_path, monkeypatch, make):
    calls = []
    monkeypatch.setattr(pipeline, "build_bundle", lambda *a, **k: calls.append(a))
    out = tmp_path / "out"
    make(out)
    before = _state(out)
    code, _, err = _run(["train", "--cohort", "colon", "--out", str(out)])
    assert code == 2 and "Refusing to write the bundle" in err and calls == []
    assert _state(out) == before


def _state(out: Path):
    """What a write would change (contents; a file's or link's inode, size, mtime, target), not its access time."""
    if out.is_dir() and not out.is_symlink():
        return _snapshot(out)
    st = out.lstat()
    return st.st_mode, st.st_ino, st.st_size, st.st_mtime_ns, os.readlink(out) if out.is_symlink() else None


def test_force_moves_a_users_folder_aside_and_never_deletes_it(tmp_path, monkeypatch, bundle_dirs):
    calls = []
    monkeypatch.setattr(pipeline, "build_bundle", fake_build(bundle_dirs("colon"), calls))
    out = tmp_path / "out"
    before = _user_folder(out)
    code, stdout, err = _run(["train", "--cohort", "colon", "--out", str(out), "--force"])
    assert code == 0, err
    assert calls == [str(out)]
    (aside,) = (tmp_path / "out.versions").iterdir()
    assert aside.name.startswith("moved-aside-") and _snapshot(aside) == before
    assert str(aside) in err and load_bundle(out).spec.name == "colon"


def test_replacing_a_verified_bundle_keeps_it_under_its_bundle_id(tmp_path, bundle_dirs):
    source, out = bundle_dirs("colon"), tmp_path / "colon"
    first = load_bundle(reseal(source, out))
    second = load_bundle(reseal(source, out, change={"notes/readme.txt": b"second build"}))
    assert second.bundle_id != first.bundle_id
    kept = tmp_path / "colon.versions" / first.bundle_id
    assert load_bundle(kept).bundle_id == first.bundle_id and load_bundle(kept).sha256 == first.sha256
    third = load_bundle(reseal(source, out))  # same content as the first: the same id, kept beside it
    assert third.bundle_id == first.bundle_id
    assert sorted(p.name for p in (tmp_path / "colon.versions").iterdir()) == sorted([first.bundle_id,
                                                                                      second.bundle_id])
    assert load_bundle(tmp_path / "colon.versions" / second.bundle_id).bundle_id == second.bundle_id
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]  # no temporary folder left behind


def test_an_empty_folder_is_used_and_a_refused_bundle_needs_force(tmp_path, bundle_dirs):
    out = tmp_path / "colon"
    out.mkdir()
    reseal(bundle_dirs("colon"), out)
    (out / "evaluation.json").write_text("{}")  # now a refused bundle
    with pytest.raises(BundleTargetError, match=r"holds a bundle that fails its check \(changed after training"):
        reseal(bundle_dirs("colon"), out)
    reseal(bundle_dirs("colon"), out, force=True)
    (refused,) = (tmp_path / "colon.versions").iterdir()
    assert refused.name.startswith("refused-") and (refused / "evaluation.json").read_text() == "{}"


def test_retraining_a_refused_bundle_from_the_dashboard_versions_it_aside(tmp_path, monkeypatch, bundle_dirs):
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(tmp_path))
    out = copy_bundle(bundle_dirs("colon"), tmp_path / "colon")
    (out / "evaluation.json").write_text('{"flattering": 0.99}')
    assert service.bundle_status("colon").state == service.REFUSED
    calls = []
    monkeypatch.setattr(pipeline, "build_bundle", fake_build(bundle_dirs("colon"), calls))
    bundle = service.retrain_bundle("colon")
    assert calls and bundle.bundle_id == load_bundle(bundle_dirs("colon")).bundle_id
    (refused,) = (tmp_path / "colon.versions").iterdir()
    assert json.loads((refused / "evaluation.json").read_text()) == {"flattering": 0.99}


def test_two_sessions_finding_the_bundle_missing_train_it_once(tmp_path, monkeypatch, bundle_dirs):
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(tmp_path))
    started, waiting = threading.Event(), threading.Event()
    calls = []

    def hold():  # the first trainer holds the lock until the second is seen waiting for it
        started.set()
        assert waiting.wait(60), "the second session never waited for the lock"

    monkeypatch.setattr(pipeline, "build_bundle", fake_build(bundle_dirs("colon"), calls, before=hold))
    results, errors = {}, []

    def session(key, progress=None):
        try:
            results[key] = service.ensure_bundle("colon", progress=progress)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    first = threading.Thread(target=session, args=("first",))
    first.start()
    assert started.wait(60)
    second = threading.Thread(target=session, args=("second", lambda m: "waiting" in m and waiting.set()))
    second.start()
    first.join(120)
    second.join(120)
    assert errors == [] and len(calls) == 1
    assert results["first"].bundle_id == results["second"].bundle_id


def test_a_cli_training_waits_for_another_process_and_uses_its_bundle(tmp_path, monkeypatch, bundle_dirs):
    out = tmp_path / "colon"
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import shutil, sys\n"
            "from core.modeling.bundle_store import bundle_lock\n"
            f"with bundle_lock({str(out)!r}):\n"
            "    print('locked', flush=True)\n"
            "    sys.stdin.readline()\n"
            f"    shutil.copytree({str(bundle_dirs('colon'))!r}, {str(out)!r})\n")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == "locked"
        calls, messages = [], []
        monkeypatch.setattr(pipeline, "build_bundle", fake_build(bundle_dirs("colon"), calls))

        def progress(message):
            messages.append(message)
            if "waiting" in message:
                holder.stdin.write("go\n")
                holder.stdin.flush()

        path, evaluation = service.train_bundle(service.load_cohort("colon"), out, progress=progress)
        assert calls == [] and any("instead of training again" in m for m in messages)
        assert load_bundle(path).bundle_id == load_bundle(bundle_dirs("colon")).bundle_id
        assert evaluation.n_test == load_bundle(bundle_dirs("colon")).evaluation.n_test
    finally:
        holder.kill() if holder.poll() is None else None
        holder.wait(30)


def test_the_lock_is_reentrant_in_one_thread(tmp_path):
    with bundle_lock(tmp_path / "x") as outer:
        with bundle_lock(tmp_path / "x") as inner:
            assert outer is False and inner is False


def test_an_unusable_signing_key_fails_before_training(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(pipeline, "build_bundle", lambda *a, **k: calls.append(a))
    monkeypatch.setenv("EQUIPOISE_SIGNING_KEY", str(tmp_path / "no-such-key.pem"))
    code, _, err = _run(["train", "--cohort", "colon", "--out", str(tmp_path / "colon")])
    assert code == 2 and "EQUIPOISE_SIGNING_KEY" in err and "no-such-key.pem" in err and calls == []
