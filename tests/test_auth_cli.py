"""`equipoise roles check`: lists who holds which role, or names the problem with exit status 2."""

from __future__ import annotations

import json

import pytest

from core.auth import roles as R
from core.cli import main

ALLOWED = "clinician, board_chair, board_member, trainee, instructor, admin"


def test_a_good_file_lists_each_user_and_exits_0(tmp_path, capsys):
    path = tmp_path / "roles.toml"
    path.write_text('[users]\n"email:Ana@Example.org" = ["clinician", "admin"]\n"sub:https://idp.example|x1" = []\n',
                    encoding="utf-8")
    assert main(["roles", "check", "--file", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["email:ana@example.org: admin, clinician", "sub:https://idp.example|x1: (no role)",
                   f"2 users in {path}; roles allowed: {ALLOWED}"]
    assert main(["roles", "check", "--file", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["users"] == {"email:ana@example.org": ["admin", "clinician"],
                                                            "sub:https://idp.example|x1": []}


def test_the_default_file_is_the_one_the_dashboard_reads(tmp_path, monkeypatch, capsys):
    path = tmp_path / "elsewhere.toml"
    path.write_text('[users]\n"email:ben@example.org" = "trainee"\n', encoding="utf-8")
    monkeypatch.setenv("EQUIPOISE_ROLES_FILE", str(path))
    assert main(["roles", "check"]) == 0
    assert capsys.readouterr().out.startswith("email:ben@example.org: trainee\n")


@pytest.mark.parametrize("text, message", [
    ('[users]\n"email:a@b.org" = ["doctor"]', R.UNKNOWN_ROLE.format(path="{path}", user="email:a@b.org",
                                                                    role="doctor", allowed=ALLOWED)),
    ('[users]\n"email:a@b.org" = 5', R.BAD_VALUE.format(path="{path}", user="email:a@b.org", value=5,
                                                        allowed=ALLOWED)),
    ('[users]\n"a@b.org" = ["admin"]', R.UNTYPED.format(path="{path}", user="a@b.org")),
])
def test_a_bad_file_is_named_with_exit_2(tmp_path, capsys, text, message):
    path = tmp_path / "roles.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["roles", "check", "--file", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"error: {message.replace('{path}', str(path))}\n"


def test_a_missing_file_says_nobody_would_hold_a_role(tmp_path, capsys):
    assert main(["roles", "check", "--file", str(tmp_path / "none.toml")]) == 2
    assert "nobody would hold a role" in capsys.readouterr().err
