"""``board export --out`` and ``log export --out`` (issue 26, part 6) follow ``predict --out``'s rule: an existing
path — a file, or a symlink, dangling or not — is refused without ``--force``; with ``--force`` a symlink is
replaced by the new file and its target is left alone; nothing is logged for a refused export."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from core._outfile import MSG_OUT_EXISTS
from core.cli import main

THEIRS = b"someone else's file\n"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EQUIPOISE_DATABASE_URL", raising=False)
    return tmp_path


def _meeting() -> str:
    code, out, err = run("board", "new", "--title", "Colorectal MDT", "--date", "2026-12-03", "--chair", "dr.chair",
                         "--user", "dr.chair")
    assert code == 0, err
    return out.strip().splitlines()[-1]


def _exports() -> int:
    from core import service

    return len(service.open_log().entries(kind="export"))


def _board(meeting, out, *more):
    return run("board", "export", "--meeting", meeting, "--format", "html", "--out", str(out), *more)


def _log(out, *more):
    return run("log", "export", "--out", str(out), *more)


@pytest.mark.parametrize("export", ["board", "log"])
def test_an_existing_file_is_refused_without_force_and_replaced_with_it(env, export):
    meeting = _meeting()
    do = (lambda out, *m: _board(meeting, out, *m)) if export == "board" else _log
    out = env / ("r.html" if export == "board" else "log.jsonl")
    out.write_bytes(THEIRS)
    before = _exports()
    code, _, err = do(out)
    assert code == 2 and err == f"error: {MSG_OUT_EXISTS.format(path=out)}\n"
    assert out.read_bytes() == THEIRS and _exports() == before  # untouched, and nothing logged
    code, _, err = do(out, "--force")
    assert code == 0, err
    assert out.read_bytes() != THEIRS and out.stat().st_size > 0
    if export == "log":
        assert json.loads(out.read_text().splitlines()[0])["seq"] == 1
    assert not list(env.glob(f".{out.name}.*"))  # no temporary file left behind


@pytest.mark.parametrize("export", ["board", "log"])
@pytest.mark.parametrize("dangling", [False, True])
def test_a_symlink_is_never_followed(env, export, dangling):
    meeting = _meeting()
    do = (lambda out, *m: _board(meeting, out, *m)) if export == "board" else _log
    target = env / "target.txt"
    if not dangling:
        target.write_bytes(THEIRS)
    link = env / ("r.html" if export == "board" else "log.jsonl")
    link.symlink_to(target)
    code, _, err = do(link)
    assert code == 2 and "already exists: refusing to overwrite it" in err
    assert link.is_symlink() and (target.read_bytes() == THEIRS if not dangling else not target.exists())
    code, _, err = do(link, "--force")
    assert code == 0, err
    assert not link.is_symlink() and link.stat().st_size > 0  # the link was replaced by our file ...
    assert (target.read_bytes() == THEIRS) if not dangling else not target.exists()  # ... its target left alone


def test_a_new_file_is_written_and_a_folder_is_refused(env):
    meeting = _meeting()
    code, _, err = _board(meeting, env / "new.html")
    assert code == 0 and "<html" in (env / "new.html").read_text().lower(), err
    (env / "folder").mkdir()
    code, _, err = _log(env / "folder", "--force")
    assert code == 2 and "is a folder; name a file" in err
    code, _, err = _log(env / "missing" / "log.jsonl")
    assert code == 2 and "is in a folder that does not exist" in err
    code, _, err = run("log", "export", "--force")
    assert code == 2 and "use it with --out" in err
