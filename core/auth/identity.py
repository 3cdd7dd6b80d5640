"""The person using Equipoise as a small value object; local mode's single user with every role; a visitor
who has not signed in yet."""

from __future__ import annotations

from dataclasses import dataclass

from ..audit.recorder import LOCAL_ROLE, ROLES, local_user

LOCAL, OIDC = "local", "oidc"  # the two modes: one local user, or sign-in through an identity provider


@dataclass(frozen=True)
class Identity:
    """A person using Equipoise: ``user`` (the name written in the audit log: the typed identity
    ``email:<verified address in lower case>``, else ``sub:<issuer>|<subject>``; the OS user in local mode),
    the ``roles`` they hold, their verified ``email``, display ``name`` and provider ``subject`` and
    ``issuer`` when signed in, whether this is local mode's single user, and whether they are signed in at
    all (a visitor who is not holds no role)."""

    user: str
    roles: frozenset[str]
    email: str | None = None
    local: bool = False
    name: str | None = None
    subject: str | None = None
    signed_in: bool = True
    issuer: str | None = None

    def has(self, *roles: str) -> bool:
        """True when this person holds at least one of ``roles``."""
        return bool(self.roles.intersection(roles))

    @property
    def log_role(self) -> str:
        """The role written in audit-log entries: ``local`` in local mode, else the roles held, sorted."""
        return LOCAL_ROLE if self.local else ",".join(sorted(self.roles)) or "none"

    @property
    def mode(self) -> str:
        return LOCAL if self.local else OIDC

    @property
    def label(self) -> str:
        """How the person is named on screen: ``Name (email)``, or whichever of them is known."""
        if self.name and self.email and self.name != self.email:
            return f"{self.name} ({self.email})"
        return self.name or self.email or self.user

    def to_dict(self) -> dict:
        return {"user": self.user, "roles": sorted(self.roles), "email": self.email, "name": self.name,
                "subject": self.subject, "issuer": self.issuer, "mode": self.mode, "signed_in": self.signed_in}


def local_identity() -> Identity:
    """Local mode's one user (the operating-system user), holding every role."""
    return Identity(user=local_user(), roles=frozenset(ROLES), local=True)


def signed_out_identity() -> Identity:
    """A visitor who has not signed in: no role, so only the sign-in page opens."""
    return Identity(user="(signed out)", roles=frozenset(), signed_in=False)
