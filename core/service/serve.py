"""The CDS Hooks service as an ASGI app, for ``equipoise serve``: every request goes through
:mod:`core.service.cds` (cards and feedback, logged before they leave)."""

from __future__ import annotations


def cds_app(*, dashboard_url: str | None = None, auth_config: str | None = None, insecure_no_auth: bool = False):
    """The CDS Hooks service as an ASGI app (FastAPI), answering through this module: callers authenticated
    by the configuration in ``auth_config`` (default ``$EQUIPOISE_CDS_AUTH_CONFIG``), or, only with
    ``insecure_no_auth=True``, nobody (a local trial)."""
    from ..cds import load_auth_config
    from ..cds.app import create_app

    if insecure_no_auth:
        return create_app(dashboard_url=dashboard_url, insecure_no_auth=True)
    return create_app(dashboard_url=dashboard_url, auth=load_auth_config(auth_config))
