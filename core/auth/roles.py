"""The roles file (who holds which role), the signed-in person's identity, and which page needs which role.

The roles file is TOML (``$EQUIPOISE_ROLES_FILE``, default ``<EQUIPOISE_DATA_DIR>/roles.toml``) with one
``[users]`` table mapping each *typed* identity to a list of roles from :data:`ROLES`::

    [users]
    "email:ana@example.org" = ["clinician", "board_chair"]
    "sub:https://login.example.org|248289761001" = ["admin"]

Two kinds of identity, in two namespaces that cannot meet:

- ``email:<address>`` — an e-mail address the identity provider marks verified (``email_verified`` true;
  an absent or false flag gives no e-mail identity). Matched without regard to case.
- ``sub:<issuer>|<subject>`` — the provider's issuer (``iss`` claim, exactly) and subject (``sub`` claim,
  exactly: never lower-cased, never read as an e-mail address, whatever characters it contains). The
  issuer is what comes before the first ``|``; a subject may itself contain ``|``.

A subject ``ADMIN@example.org`` is therefore the identity ``sub:<issuer>|ADMIN@example.org`` and never
``email:admin@example.org``: a collision between the two kinds is impossible by construction.

An entry without one of these prefixes (the old style, ``"ana@example.org" = [...]``) is refused, with a
message giving the line to write instead: it is never guessed, because the old file matched such a name both
as an e-mail address and as a subject. A file that is not valid TOML, has another section, or names a role
outside :data:`ROLES` is refused with a :class:`RolesFileError` naming the file, the user, the value and the
allowed roles. A missing file maps nobody. A signed-in person the file does not list holds no role: they may
open only the sign-in page.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .._errors import EquipoiseError
from .identity import ROLES, Identity

ROLES_FILE_ENV = "EQUIPOISE_ROLES_FILE"
ROLES_FILE_NAME = "roles.toml"
SECTION = "users"
EMAIL, SUBJECT = "email:", "sub:"  # the two identity namespaces
UNIDENTIFIED = "(unidentified)"  # the log's name for someone signed in with neither kind of identity

# error messages (tests assert them exactly)
NOT_TOML = "The roles file {path} is not valid TOML: {problem}."
NO_USERS = ("The roles file {path} must have a [{section}] table mapping each user (\"email:<address>\" or "
            "\"sub:<issuer>|<subject>\") to a list of roles. Got {value!r} instead.")
UNKNOWN_SECTION = "The roles file {path} has an unknown section or key {key!r}; the only one allowed is [{section}]."
BAD_VALUE = ("The roles file {path} gives user {user!r} the value {value!r}; expected a list of roles from: "
             "{allowed}.")
UNKNOWN_ROLE = ("The roles file {path} gives user {user!r} the role {role!r}, which is not one of: {allowed}.")
EMPTY_USER = ("The roles file {path} has an empty user name; name each user as \"email:<address>\" or "
              "\"sub:<issuer>|<subject>\".")
TWICE = ("The roles file {path} lists user {user!r} twice (e-mail addresses are matched without regard to "
         "case).")
UNREADABLE = "The roles file {path} could not be read: {problem}."
UNTYPED = ("The roles file {path} names user {user!r} without saying which kind of identity it is. Write "
           "\"email:{user}\" if it is an e-mail address the identity provider verifies, or "
           "\"sub:<issuer>|{user}\" if it is the provider's subject (the issuer is the provider's 'iss', "
           "for example https://login.example.org). Nobody gets a role from this file until it is rewritten.")
BAD_EMAIL = ("The roles file {path} names user {user!r}, which is not an e-mail address: after \"email:\" "
             "write the address, for example \"email:ana@example.org\".")
BAD_SUBJECT = ("The roles file {path} names user {user!r}, which does not give both an issuer and a subject: "
               "write \"sub:<issuer>|<subject>\", for example \"sub:https://login.example.org|248289761001\".")


class RolesFileError(EquipoiseError, ValueError):
    """The roles file is malformed or names a role that does not exist; nobody is given a role from it."""


def roles_file() -> Path:
    """``$EQUIPOISE_ROLES_FILE``, else ``roles.toml`` in the data directory (``$EQUIPOISE_DATA_DIR``)."""
    explicit = os.environ.get(ROLES_FILE_ENV)
    if explicit:
        return Path(explicit)
    from ..store import data_dir

    return data_dir() / ROLES_FILE_NAME


def _is_address(text: str) -> bool:
    local, at, domain = text.rpartition("@")
    return bool(at and local and domain) and not any(c.isspace() for c in text)


def email_identity(address: str) -> str | None:
    """``email:<address in lower case>``, or None when ``address`` is not an e-mail address."""
    address = address.strip()
    return EMAIL + address.lower() if _is_address(address) else None


def subject_identity(issuer: str, subject: str) -> str | None:
    """``sub:<issuer>|<subject>``, both exactly as given (never lower-cased); None when either is empty or
    the issuer contains ``|`` (which would make the split ambiguous)."""
    if not issuer or not subject or "|" in issuer:
        return None
    return f"{SUBJECT}{issuer}|{subject}"


def _entry_key(user: str, path: str) -> str:
    """The typed identity a roles-file entry names; raises :class:`RolesFileError` for an untyped one."""
    if user.startswith(EMAIL):
        key = email_identity(user[len(EMAIL):])
        if key is None:
            raise RolesFileError(BAD_EMAIL.format(path=path, user=user))
        return key
    if user.startswith(SUBJECT):
        issuer, _, subject = user[len(SUBJECT):].partition("|")
        key = subject_identity(issuer, subject)
        if key is None:
            raise RolesFileError(BAD_SUBJECT.format(path=path, user=user))
        return key
    if not user.strip():
        raise RolesFileError(EMPTY_USER.format(path=path))
    raise RolesFileError(UNTYPED.format(path=path, user=user.strip()))


@dataclass(frozen=True)
class RoleMap:
    """Who holds which role, as read from ``path`` (``exists`` is False for a missing file: nobody mapped).
    ``users`` is keyed by typed identity (``email:…`` in lower case, ``sub:<issuer>|<subject>`` exactly)."""

    path: str
    users: Mapping[str, frozenset[str]] = field(default_factory=dict)
    exists: bool = True

    def roles_for(self, *identities: str | None) -> frozenset[str]:
        """The roles of the person holding these typed identities (each looked up exactly; united). A name
        without a type prefix matches nothing."""
        found: set[str] = set()
        for key in identities:
            if isinstance(key, str):
                found |= self.users.get(key, frozenset())
        return frozenset(found)

    def to_dict(self) -> dict:
        return {"path": self.path, "exists": self.exists,
                "users": {u: sorted(r) for u, r in sorted(self.users.items())}}


def parse_roles(text: str, *, path: str = "<roles file>") -> RoleMap:
    """Read a roles file's text; raises :class:`RolesFileError` naming what is wrong."""
    allowed = ", ".join(ROLES)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RolesFileError(NOT_TOML.format(path=path, problem=exc)) from None
    for key in data:
        if key != SECTION:
            raise RolesFileError(UNKNOWN_SECTION.format(path=path, key=key, section=SECTION))
    table = data.get(SECTION, {})
    if not isinstance(table, dict):
        raise RolesFileError(NO_USERS.format(path=path, section=SECTION, value=table))
    users: dict[str, frozenset[str]] = {}
    for user, value in table.items():
        key = _entry_key(user, path)
        roles = [value] if isinstance(value, str) else value
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise RolesFileError(BAD_VALUE.format(path=path, user=user, value=value, allowed=allowed))
        for role in roles:
            if role not in ROLES:
                raise RolesFileError(UNKNOWN_ROLE.format(path=path, user=user, role=role, allowed=allowed))
        if key in users:
            raise RolesFileError(TWICE.format(path=path, user=user))
        users[key] = frozenset(roles)
    return RoleMap(path, MappingProxyType(users))


def load_roles(path: str | Path | None = None) -> RoleMap:
    """The roles file at ``path`` (default :func:`roles_file`); a missing file maps nobody."""
    path = Path(path) if path is not None else roles_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return RoleMap(str(path), MappingProxyType({}), exists=False)
    except (OSError, UnicodeDecodeError) as exc:
        raise RolesFileError(UNREADABLE.format(path=path, problem=exc)) from None
    return parse_roles(text, path=str(path))


def _claim(claims: Mapping, name: str, *, strip: bool = True) -> str | None:
    value = claims.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip() if strip else value


def _verified(claims: Mapping) -> bool:
    """Only an explicit ``email_verified`` true (or "true") counts; absent or anything else does not."""
    flag = claims.get("email_verified")
    return flag is True or (isinstance(flag, str) and flag.strip().lower() == "true")


def identity_from_claims(claims: Mapping, role_map: RoleMap) -> Identity:
    """The signed-in person described by the identity provider's ``claims`` (``st.user``), with the roles
    the file gives their typed identities: ``email:<address>`` only when the provider marks the address
    verified, and ``sub:<iss>|<sub>`` when it sends both claims. ``user`` (the name in the audit log and the
    board's chair) is the e-mail identity, else the subject identity, else ``(unidentified)``."""
    email, subject, issuer = _claim(claims, "email"), _claim(claims, "sub", strip=False), _claim(claims, "iss")
    email_id = email_identity(email) if email and _verified(claims) else None
    subject_id = subject_identity(issuer, subject) if issuer and subject else None
    roles = role_map.roles_for(email_id, subject_id)
    return Identity(user=email_id or subject_id or UNIDENTIFIED, roles=roles,
                    email=email if email_id else None, name=_claim(claims, "name"), subject=subject,
                    issuer=issuer)


# --- which page needs which role ----------------------------------------------------------------------
CLINICAL = ("clinician", "board_chair", "board_member")
EVERYONE = ROLES
PUBLIC = ()  # open to anyone, signed in or not (and never shows patient data)

BOARD = ("board_chair", "board_member")  # the tumor-board pages
PAGE_ROLES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "patient": CLINICAL,
    "what_if": CLINICAL,
    "subgroups": EVERYONE,     # population-level: no one patient's data
    "model_card": EVERYONE,
    "audit_log": ("admin",),
    "board_meetings": BOARD,
    "board_present": BOARD,
    "board_decide": BOARD,
    "monitoring": ("admin",),
    "training": ("trainee",),
    "training_instructor": ("instructor",),
    "sign_in": PUBLIC,
    "not_found": PUBLIC,
})


def may_open(identity: Identity | None, page: str) -> bool:
    """True when ``identity`` may open ``page`` (a key of :data:`PAGE_ROLES`). A page not in the table is
    refused to everyone (deny by default); a public page is open to anyone."""
    if page not in PAGE_ROLES:
        return False
    needed = PAGE_ROLES[page]
    if not needed:
        return True
    return identity is not None and identity.has(*needed)
