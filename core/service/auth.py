"""Service functions for sign-in and roles (re-exported by :mod:`core.service`): the signed-in person's
identity from the identity provider's claims and the roles file, and the sign-in / sign-out entries of the
audit log."""

from __future__ import annotations

from collections.abc import Mapping

from .._observers import SIGN_IN, SIGN_OUT, _shown
from ..auth import (PAGE_ROLES, ROLES, Identity, RolesFileError, identity_from_claims, load_roles,  # noqa: F401
                   local_identity, local_mode_exposure, may_open, roles_file, signed_out_identity)


def signed_in_identity(claims: Mapping) -> Identity:
    """The person the identity provider signed in (``claims``: ``st.user`` as a dict), with the roles the
    roles file gives them (none if it does not list them). The file is read on every call, so an edit
    takes effect on the next page view; a malformed file raises :class:`RolesFileError` naming the problem."""
    return identity_from_claims(claims, load_roles())


def check_roles(path=None):
    """The roles file at ``path`` (default: the one the dashboard reads) as a :class:`~core.auth.RoleMap`;
    a malformed file raises :class:`RolesFileError` naming the file, the user, the value and the allowed roles."""
    return load_roles(path)


def record_sign_in(identity: Identity) -> Identity:
    """Record that ``identity`` signed in (local mode: started a session); call once per browser session,
    with the log context naming them already set."""
    return _shown(SIGN_IN, None, identity, details={"mode": identity.mode})


def record_sign_out(identity: Identity) -> Identity:
    """Record that ``identity`` is signing out; call it before ``st.logout()``."""
    return _shown(SIGN_OUT, None, identity, details={"mode": identity.mode})
