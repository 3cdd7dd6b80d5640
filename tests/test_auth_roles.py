"""The roles file: who holds which role, by typed identity (``email:`` a verified address, ``sub:`` issuer and
subject); refusals name the file, the user, the value and the allowed roles; an old-style untyped entry is
refused saying how to rewrite it; a subject is never read as an e-mail address; a signed-in person the file
does not list holds no role; which page needs which role."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core import service
from core.auth import (PAGE_ROLES, ROLES, ROLES_FILE_ENV, RolesFileError, email_identity, identity_from_claims,
                       load_roles, local_identity, may_open, parse_roles, roles_file, signed_out_identity,
                       subject_identity)
from core.auth import roles as R

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = "clinician, board_chair, board_member, trainee, instructor, admin"
ISS = "https://login.example.org"
GOOD = f"""
[users]
"email:Ana@Example.org" = ["clinician", "board_chair"]
"email:ben@example.org" = "admin"
"sub:{ISS}|248289761001" = ["trainee"]
"email:nobody@example.org" = []
"sub:{ISS}|auth0|Abc" = ["instructor"]
"""


def _verified(email: str, **more) -> dict:
    return {"email": email, "email_verified": True, **more}


def test_a_roles_file_maps_emails_without_case_and_subjects_exactly():
    m = parse_roles(GOOD, path="r.toml")
    assert m.roles_for(email_identity("ana@example.org")) == {"clinician", "board_chair"}
    assert m.roles_for(email_identity("ANA@EXAMPLE.ORG")) == {"clinician", "board_chair"}
    assert m.roles_for(email_identity("ben@example.org")) == {"admin"}  # one role may be written as a string
    assert m.roles_for(subject_identity(ISS, "248289761001")) == {"trainee"}
    assert m.roles_for(subject_identity(ISS, "248289761001 ")) == frozenset()  # a subject is matched exactly
    assert m.roles_for(subject_identity(ISS, "auth0|Abc")) == {"instructor"}  # a subject may contain "|"
    assert m.roles_for(subject_identity(ISS, "auth0|abc")) == frozenset()  # ... and its case counts
    assert m.roles_for(subject_identity("https://other.example", "248289761001")) == frozenset()  # issuer counts
    assert m.roles_for(email_identity("nobody@example.org")) == frozenset()
    assert m.roles_for(email_identity("stranger@example.org"), subject_identity(ISS, "999")) == frozenset()
    # untyped names match nothing: neither kind is ever looked up without its prefix
    assert m.roles_for("ana@example.org", "248289761001") == frozenset()
    # both looked up and united: the e-mail's roles and the subject's
    assert m.roles_for(email_identity("ben@example.org"), subject_identity(ISS, "248289761001")) == {"admin",
                                                                                                    "trainee"}
    assert m.to_dict()["users"]["email:ana@example.org"] == ["board_chair", "clinician"]


def test_a_subject_that_looks_like_an_email_never_takes_that_emails_roles():
    # the probe of issue 26: a provider user whose subject is the admin's address, with another verified e-mail
    m = parse_roles('[users]\n"email:admin@example.org" = ["admin"]\n', path="r.toml")
    mallory = identity_from_claims({"iss": ISS, "sub": "ADMIN@example.org", "email": "mallory@evil.example",
                                    "email_verified": True, "is_logged_in": True}, m)
    assert mallory.roles == frozenset() and mallory.user == "email:mallory@evil.example"
    assert [p for p in PAGE_ROLES if may_open(mallory, p)] == ["sign_in", "not_found"]
    # the same subject in lower case, with no e-mail at all: still only a subject identity
    bare = identity_from_claims({"iss": ISS, "sub": "admin@example.org"}, m)
    assert bare.roles == frozenset() and bare.user == f"sub:{ISS}|admin@example.org"
    # a subject entry naming that address is its own namespace and keeps the subject's case
    both = parse_roles(f'[users]\n"email:admin@example.org" = ["admin"]\n"sub:{ISS}|ADMIN@example.org" = '
                       '["trainee"]\n')
    assert identity_from_claims({"iss": ISS, "sub": "ADMIN@example.org"}, both).roles == {"trainee"}
    assert identity_from_claims({"iss": ISS, "sub": "admin@example.org"}, both).roles == frozenset()


@pytest.mark.parametrize("entry", ["ana@example.org", "248289761001", "Email:ana@example.org"])
def test_an_old_style_untyped_entry_is_refused_saying_how_to_rewrite_it(entry):
    with pytest.raises(RolesFileError) as caught:
        parse_roles(f'[users]\n"{entry}" = ["admin"]\n', path="r.toml")
    assert str(caught.value) == R.UNTYPED.format(path="r.toml", user=entry)
    assert f'Write "email:{entry}"' in str(caught.value) and f'"sub:<issuer>|{entry}"' in str(caught.value)


@pytest.mark.parametrize("text, message", [
    ('[users\n"email:a@b" = ["admin"]', None),  # malformed TOML: the parser's problem is quoted
    ('[people]\n"a@b" = ["admin"]', R.UNKNOWN_SECTION.format(path="r.toml", key="people", section="users")),
    ('users = 3', R.NO_USERS.format(path="r.toml", section="users", value=3)),
    ('[users]\n"email:a@b.org" = ["doctor"]', R.UNKNOWN_ROLE.format(path="r.toml", user="email:a@b.org",
                                                                    role="doctor", allowed=ALLOWED)),
    ('[users]\n"email:a@b.org" = ["admin", "Admin"]', R.UNKNOWN_ROLE.format(path="r.toml", user="email:a@b.org",
                                                                            role="Admin", allowed=ALLOWED)),
    ('[users]\n"email:a@b.org" = 5', R.BAD_VALUE.format(path="r.toml", user="email:a@b.org", value=5,
                                                        allowed=ALLOWED)),
    ('[users]\n"email:a@b.org" = ["admin", 1]', R.BAD_VALUE.format(path="r.toml", user="email:a@b.org",
                                                                   value=["admin", 1], allowed=ALLOWED)),
    ('[users]\n"email:a@b.org" = {role = "admin"}', R.BAD_VALUE.format(path="r.toml", user="email:a@b.org",
                                                                       value={"role": "admin"}, allowed=ALLOWED)),
    ('[users]\n" " = ["admin"]', R.EMPTY_USER.format(path="r.toml")),
    ('[users]\n"email:a@b.org" = ["admin"]\n"email:A@B.org" = ["trainee"]', R.TWICE.format(path="r.toml",
                                                                                           user="email:A@B.org")),
    ('[users]\n"email:ana" = ["admin"]', R.BAD_EMAIL.format(path="r.toml", user="email:ana")),
    ('[users]\n"email:a b@c.org" = ["admin"]', R.BAD_EMAIL.format(path="r.toml", user="email:a b@c.org")),
    ('[users]\n"sub:248289761001" = ["admin"]', R.BAD_SUBJECT.format(path="r.toml", user="sub:248289761001")),
    ('[users]\n"sub:|248289761001" = ["admin"]', R.BAD_SUBJECT.format(path="r.toml", user="sub:|248289761001")),
    ('[users]\n"sub:https://x.org|" = ["admin"]', R.BAD_SUBJECT.format(path="r.toml", user="sub:https://x.org|")),
])
def test_a_bad_roles_file_is_refused_naming_the_file_the_user_and_the_value(text, message):
    with pytest.raises(RolesFileError) as caught:
        parse_roles(text, path="r.toml")
    if message is None:
        assert str(caught.value).startswith("The roles file r.toml is not valid TOML: ")
    else:
        assert str(caught.value) == message


def test_the_unknown_role_message_reads_as_a_sentence():
    with pytest.raises(RolesFileError, match=r"^The roles file r.toml gives user 'email:a@b.org' the role 'doctor', "
                                             r"which is not one of: clinician, board_chair, board_member, trainee, "
                                             r"instructor, admin\.$"):
        parse_roles('[users]\n"email:a@b.org" = ["doctor"]', path="r.toml")


def test_the_roles_file_lives_in_the_data_dir_unless_named(tmp_path, monkeypatch):
    monkeypatch.delenv(ROLES_FILE_ENV, raising=False)
    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(tmp_path / "data"))
    assert roles_file() == tmp_path / "data" / "roles.toml"
    monkeypatch.setenv(ROLES_FILE_ENV, str(tmp_path / "elsewhere.toml"))
    assert roles_file() == tmp_path / "elsewhere.toml"


def test_a_missing_file_maps_nobody_and_a_file_on_disk_is_read(tmp_path):
    missing = load_roles(tmp_path / "none.toml")
    assert not missing.exists and missing.roles_for(email_identity("ana@example.org")) == frozenset()
    path = tmp_path / "roles.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_roles(path).roles_for(email_identity("ana@example.org")) == {"clinician", "board_chair"}
    path.write_bytes(b"\xff\xfe[users]")
    with pytest.raises(RolesFileError, match=r"^The roles file .*roles\.toml could not be read: "):
        load_roles(path)


def test_a_signed_in_identity_takes_its_roles_from_the_file():
    m = parse_roles(GOOD)
    ana = identity_from_claims(_verified("Ana@example.org", name="Ana Silva", sub="x1", iss=ISS,
                                         is_logged_in=True), m)
    assert ana.user == "email:ana@example.org" and ana.email == "Ana@example.org" and ana.name == "Ana Silva"
    assert ana.subject == "x1" and ana.issuer == ISS
    assert ana.roles == {"clinician", "board_chair"} and not ana.local and ana.signed_in
    assert ana.log_role == "board_chair,clinician" and ana.label == "Ana Silva (Ana@example.org)"
    assert ana.has("clinician") and not ana.has("admin")
    by_subject = identity_from_claims({"iss": ISS, "sub": "248289761001"}, m)
    assert by_subject.user == f"sub:{ISS}|248289761001" and by_subject.roles == {"trainee"}
    assert identity_from_claims({"sub": "248289761001"}, m).roles == frozenset()  # no issuer: no subject identity
    stranger = identity_from_claims(_verified("eve@example.org"), m)
    assert stranger.roles == frozenset() and stranger.log_role == "none"
    assert [p for p in PAGE_ROLES if may_open(stranger, p)] == ["sign_in", "not_found"]


@pytest.mark.parametrize("flag", [False, "false", None, 1, "yes", "missing"])
def test_an_unverified_email_gives_no_email_identity(flag):
    m = parse_roles(GOOD)
    claims = {"email": "ben@example.org", "name": "Ben"} | ({} if flag == "missing" else {"email_verified": flag})
    ben = identity_from_claims(claims, m)
    assert ben.roles == frozenset() and ben.email is None and ben.user == "(unidentified)"
    assert ben.label == "Ben"  # the unverified address is not shown as theirs


@pytest.mark.parametrize("flag", [True, "true", "TRUE"])
def test_a_verified_email_gives_its_roles(flag):
    assert identity_from_claims({"email": "ben@example.org", "email_verified": flag}, parse_roles(GOOD)).roles \
        == {"admin"}


def test_which_page_needs_which_role():
    local, out = local_identity(), signed_out_identity()
    assert local.local and local.roles == set(ROLES) and local.log_role == "local"
    assert all(may_open(local, p) for p in PAGE_ROLES)
    assert [p for p in PAGE_ROLES if may_open(out, p)] == ["sign_in", "not_found"]
    admin = identity_from_claims(_verified("ben@example.org"), parse_roles(GOOD))
    assert may_open(admin, "audit_log") and not may_open(admin, "patient")
    trainee = identity_from_claims({"iss": ISS, "sub": "248289761001"}, parse_roles(GOOD))
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
