"""The signed-in person as a small value object, and local mode's single user with every role."""

from __future__ import annotations

from dataclasses import dataclass

from ..audit.recorder import LOCAL_ROLE, ROLES, local_user


@dataclass(frozen=True)
class Identity:
    """A person using Equipoise: a display ``user`` name, an ``email`` (``None`` in local mode), the
    ``roles`` they hold, and whether this is local mode's single user."""

    user: str
    roles: frozenset[str]
    email: str | None = None
    local: bool = False

    def has(self, *roles: str) -> bool:
        """True when this person holds at least one of ``roles``."""
        return bool(self.roles.intersection(roles))

    @property
    def log_role(self) -> str:
        """The role written in audit-log entries: ``local`` in local mode, else the roles held, sorted."""
        return LOCAL_ROLE if self.local else ",".join(sorted(self.roles)) or "none"


def local_identity() -> Identity:
    """Local mode's one user (the operating-system user), holding every role."""
    return Identity(user=local_user(), roles=frozenset(ROLES), local=True)
