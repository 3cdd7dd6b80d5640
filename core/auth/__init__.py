"""Who is using Equipoise and what they may open: roles, identities, page permissions.

Local mode (no identity provider, the ``make run`` default) has one local user holding every role.
With an identity provider, ``st.login`` signs people in and a roles file (:mod:`core.auth.roles`) maps
their typed identities (``email:<verified address>``, ``sub:<issuer>|<subject>``) to roles;
:data:`PAGE_ROLES` says which role each page needs and :func:`may_open` checks it.
"""

from .exposure import LOCAL_ON_NETWORK_ENV, is_loopback, local_mode_exposure
from .identity import LOCAL, OIDC, ROLES, Identity, local_identity, signed_out_identity
from .roles import (PAGE_ROLES, ROLES_FILE_ENV, RoleMap, RolesFileError, email_identity, identity_from_claims,
                    load_roles, may_open, parse_roles, roles_file, subject_identity)

__all__ = ["LOCAL", "LOCAL_ON_NETWORK_ENV", "OIDC", "PAGE_ROLES", "ROLES", "ROLES_FILE_ENV", "Identity", "RoleMap",
           "RolesFileError", "email_identity", "identity_from_claims", "is_loopback", "load_roles", "local_identity",
           "local_mode_exposure", "may_open", "parse_roles", "roles_file", "signed_out_identity", "subject_identity"]
