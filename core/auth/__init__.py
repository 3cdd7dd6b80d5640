"""Who is using Equipoise and what they may open: roles, identities, page permissions.

Local mode (no identity provider, the ``make run`` default) has one local user holding every role.
With an identity provider, ``st.login`` signs people in and a roles file maps them to roles.
"""

from .identity import ROLES, Identity, local_identity

__all__ = ["ROLES", "Identity", "local_identity"]
