"""The roles file (who holds which role), the signed-in person's identity, and which page needs which role.

The roles file is TOML (``$EQUIPOISE_ROLES_FILE``, default ``<EQUIPOISE_DATA_DIR>/roles.toml``) with one
``[users]`` table mapping each user — an e-mail address (matched without regard to case) or the identity
provider's subject (``sub`` claim, matched exactly) — to a list of roles from :data:`ROLES`::

    [users]
    "ana@example.org" = ["clinician", "board_chair"]
    "248289761001" = ["admin"]

A file that is not valid TOML, has another section, or names a role outside :data:`ROLES` is refused with a
:class:`RolesFileError` naming the file, the user, the value and the allowed roles. A missing file maps
nobody. A signed-in person the file does not list holds no role: they may open only the sign-in page.
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

# error messages (tests assert them exactly)
NOT_TOML = "The roles file {path} is not valid TOML: {problem}."
NO_USERS = ("The roles file {path} must have a [{section}] table mapping each user (an e-mail address or the "
            "identity provider's subject) to a list of roles. Got {value!r} instead.")
UNKNOWN_SECTION = "The roles file {path} has an unknown section or key {key!r}; the only one allowed is [{section}]."
BAD_VALUE = ("The roles file {path} gives user {user!r} the value {value!r}; expected a list of roles from: "
             "{allowed}.")
UNKNOWN_ROLE = ("The roles file {path} gives user {user!r} the role {role!r}, which is not one of: {allowed}.")
EMPTY_USER = "The roles file {path} has an empty user name; name each user by e-mail address or subject."
TWICE = ("The roles file {path} lists user {user!r} twice (e-mail addresses are matched without regard to "
         "case).")
UNREADABLE = "The roles file {path} could not be read: {problem}."


class RolesFileError(EquipoiseError, ValueError):
    """The roles file is malformed or names a role that does not exist; nobody is given a role from it."""


def roles_file() -> Path:
    """``$EQUIPOISE_ROLES_FILE``, else ``roles.toml`` in the data directory (``$EQUIPOISE_DATA_DIR``)."""
    explicit = os.environ.get(ROLES_FILE_ENV)
    if explicit:
        return Path(explicit)
    from ..store import data_dir

    return data_dir() / ROLES_FILE_NAME


def _key(user: str) -> str:
    """E-mail addresses are case-insensitive here; a subject is kept exactly as the provider sends it."""
    user = user.strip()
    return user.lower() if "@" in user else user


@dataclass(frozen=True)
class RoleMap:
    """Who holds which role, as read from ``path`` (``exists`` is False for a missing file: nobody mapped)."""

    path: str
    users: Mapping[str, frozenset[str]] = field(default_factory=dict)
    exists: bool = True

    def roles_for(self, *, email: str | None = None, subject: str | None = None) -> frozenset[str]:
        """The roles of the person with this e-mail address or provider subject (both looked up; united)."""
        found: set[str] = set()
        for name in (email, subject):
            if isinstance(name, str) and name.strip():
                found |= self.users.get(_key(name), frozenset())
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
        if not user.strip():
            raise RolesFileError(EMPTY_USER.format(path=path))
        roles = [value] if isinstance(value, str) else value
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise RolesFileError(BAD_VALUE.format(path=path, user=user, value=value, allowed=allowed))
        for role in roles:
            if role not in ROLES:
                raise RolesFileError(UNKNOWN_ROLE.format(path=path, user=user, role=role, allowed=allowed))
        key = _key(user)
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


def _claim(claims: Mapping, name: str) -> str | None:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def identity_from_claims(claims: Mapping, role_map: RoleMap) -> Identity:
    """The signed-in person described by the identity provider's ``claims`` (``st.user``), with the roles
    the file gives their e-mail address or subject. An e-mail the provider marks unverified
    (``email_verified`` false) is not used to look up roles."""
    email, subject = _claim(claims, "email"), _claim(claims, "sub")
    trusted_email = email if claims.get("email_verified", True) not in (False, "false") else None
    roles = role_map.roles_for(email=trusted_email, subject=subject)
    user = (email and email.lower()) or subject or "unknown"  # one name per person in the log, whatever the case
    return Identity(user=user, roles=roles, email=email, name=_claim(claims, "name"), subject=subject)


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
