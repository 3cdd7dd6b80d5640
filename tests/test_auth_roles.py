"""The roles file: who holds which role; refusals name the file, the user, the value and the allowed roles;
a signed-in person the file does not list holds no role; which page needs which role."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core import service
from core.auth import (PAGE_ROLES, ROLES, ROLES_FILE_ENV, RolesFileError, identity_from_claims, load_roles,
                       local_identity, may_open, parse_roles, roles_file, signed_out_identity)
from core.auth import roles as R

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = "clinician, board_chair, board_member, trainee, instructor, admin"
GOOD = """
[users]
"Ana@Example.org" = ["clinician", "board_chair"]
"ben@example.org" = "admin"
"248289761001" = ["trainee"]
"nobody@example.org" = []
"""


def test_a_roles_file_maps_emails_without_case_and_subjects_exactly():
    m = parse_roles(GOOD, path="r.toml")
    assert m.roles_for(email="ana@example.org") == {"clinician", "board_chair"}
    assert m.roles_for(email="ANA@EXAMPLE.ORG") == {"clinician", "board_chair"}
    assert m.roles_for(email="ben@example.org") == {"admin"}  # one role may be written as a string
    assert m.roles_for(subject="248289761001") == {"trainee"}
    assert m.roles_for(subject="248289761001 ") == {"trainee"}
    assert m.roles_for(email="nobody@example.org") == frozenset()
    assert m.roles_for(email="stranger@example.org", subject="999") == frozenset()
    # both looked up and united: the e-mail's roles and the subject's
    assert m.roles_for(email="ben@example.org", subject="248289761001") == {"admin", "trainee"}
    assert m.to_dict()["users"]["ana@example.org"] == ["board_chair", "clinician"]


@pytest.mark.parametrize("text, message", [
    ('[users\n"a@b" = ["admin"]', None),  # malformed TOML: the parser's problem is quoted
    ('[people]\n"a@b" = ["admin"]', R.UNKNOWN_SECTION.format(path="r.toml", key="people", section="users")),
    ('users = 3', R.NO_USERS.format(path="r.toml", section="users", value=3)),
    ('[users]\n"a@b.org" = ["doctor"]', R.UNKNOWN_ROLE.format(path="r.toml", user="a@b.org", role="doctor",
                                                              allowed=ALLOWED)),
    ('[users]\n"a@b.org" = ["admin", "Admin"]', R.UNKNOWN_ROLE.format(path="r.toml", user="a@b.org", role="Admin",
                                                                      allowed=ALLOWED)),
    ('[users]\n"a@b.org" = 5', R.BAD_VALUE.format(path="r.toml", user="a@b.org", value=5, allowed=ALLOWED)),
    ('[users]\n"a@b.org" = ["admin", 1]', R.BAD_VALUE.format(path="r.toml", user="a@b.org", value=["admin", 1],
                                                             allowed=ALLOWED)),
    ('[users]\n"a@b.org" = {role = "admin"}', R.BAD_VALUE.format(path="r.toml", user="a@b.org",
                                                                 value={"role": "admin"}, allowed=ALLOWED)),
    ('[users]\n" " = ["admin"]', R.EMPTY_USER.format(path="r.toml")),
    ('[users]\n"a@b.org" = ["admin"]\n"A@B.org" = ["trainee"]', R.TWICE.format(path="r.toml", user="A@B.org")),
])
def test_a_bad_roles_file_is_refused_naming_the_file_the_user_and_the_value(text, message):
    with pytest.raises(RolesFileError) as caught:
        parse_roles(text, path="r.toml")
    if message is None:
        assert str(caught.value).startswith("The roles file r.toml is not valid TOML: ")
    else:
        assert str(caught.value) == message


def test_the_unknown_role_message_reads_as_a_sentence():
    with pytest.raises(RolesFileError, match=r"^The roles file r.toml gives user 'a@b.org' the role 'doctor', "
                                             r"which is not one of: clinician, board_chair, board_member, trainee, "
                                             r"instructor, admin\.$"):
        parse_roles('[users]\n"a@b.org" = ["doctor"]', path="r.toml")


def test_the_roles_file_lives_in_the_data_dir_unless_named(tmp_path, monkeypatch):
    monkeypatch.delenv(ROLES_FILE_ENV, raising=False)
    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(tmp_path / "data"))
    assert roles_file() == tmp_path / "data" / "roles.toml"
    monkeypatch.setenv(ROLES_FILE_ENV, str(tmp_path / "elsewhere.toml"))
    assert roles_file() == tmp_path / "elsewhere.toml"


def test_a_missing_file_maps_nobody_and_a_file_on_disk_is_read(tmp_path):
    missing = load_roles(tmp_path / "none.toml")
    assert not missing.exists and missing.roles_for(email="ana@example.org") == frozenset()
    path = tmp_path / "roles.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_roles(path).roles_for(email="ana@example.org") == {"clinician", "board_chair"}
    path.write_bytes(b"\xff\xfe[users]")
    with pytest.raises(RolesFileError, match=r"^The roles file .*roles\.toml could not be read: "):
        load_roles(path)


def test_a_signed_in_identity_takes_its_roles_from_the_file():
    m = parse_roles(GOOD)
    ana = identity_from_claims({"email": "Ana@example.org", "name": "Ana Silva", "sub": "x1",
                                "is_logged_in": True}, m)
    assert ana.user == "ana@example.org" and ana.email == "Ana@example.org" and ana.name == "Ana Silva"
    assert ana.subject == "x1"
    assert ana.roles == {"clinician", "board_chair"} and not ana.local and ana.signed_in
    assert ana.log_role == "board_chair,clinician" and ana.label == "Ana Silva (Ana@example.org)"
    assert ana.has("clinician") and not ana.has("admin")
    by_subject = identity_from_claims({"sub": "248289761001"}, m)
    assert by_subject.user == "248289761001" and by_subject.roles == {"trainee"}
    stranger = identity_from_claims({"email": "eve@example.org"}, m)
    assert stranger.roles == frozenset() and stranger.log_role == "none"
    assert [p for p in PAGE_ROLES if may_open(stranger, p)] == ["sign_in", "not_found"]


def test_an_unverified_email_gives_no_role():
    m = parse_roles(GOOD)
    for flag in (False, "false"):
        assert identity_from_claims({"email": "ben@example.org", "email_verified": flag}, m).roles == frozenset()
    assert identity_from_claims({"email": "ben@example.org", "email_verified": True}, m).roles == {"admin"}


def test_which_page_needs_which_role():
    local, out = local_identity(), signed_out_identity()
    assert local.local and local.roles == set(ROLES) and local.log_role == "local"
    assert all(may_open(local, p) for p in PAGE_ROLES)
    assert [p for p in PAGE_ROLES if may_open(out, p)] == ["sign_in", "not_found"]
    admin = identity_from_claims({"email": "ben@example.org"}, parse_roles(GOOD))
    assert may_open(admin, "audit_log") and not may_open(admin, "patient")
    trainee = identity_from_claims({"sub": "248289761001"}, parse_roles(GOOD))
    assert {p for p in PAGE_ROLES if may_open(trainee, p)} == {"subgroups", "model_card", "training", "sign_in",
                                                               "not_found"}
    assert not may_open(local, "no_such_page") and not may_open(None, "patient")  # deny by default
    assert all(set(roles) <= set(ROLES) for roles in PAGE_ROLES.values())


def test_every_page_file_has_its_roles_declared():
    pages = {p.stem for p in (ROOT / "pages").glob("*.py") if not p.stem.startswith("_")}
    assert pages == set(PAGE_ROLES), "add each page of pages/ to core.auth.roles.PAGE_ROLES"


def test_every_page_that_can_show_data_checks_its_role():
    # each page file except the public ones calls pages/_auth.py: require("<its name>") before anything else
    for path in (ROOT / "pages").glob("*.py"):
        if path.stem.startswith("_") or not PAGE_ROLES.get(path.stem, ("?",)):
            continue
        calls = [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.Call)
                 and getattr(n.func, "id", None) == "require"]
        assert [ast.literal_eval(c.args[0]) for c in calls] == [path.stem], path.name


def test_the_service_re_exports_the_auth_surface():
    assert service.may_open is may_open and service.PAGE_ROLES is PAGE_ROLES
    assert service.signed_out_identity().has(*ROLES) is False
