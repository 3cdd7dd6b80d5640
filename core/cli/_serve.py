"""``equipoise serve``: the CDS Hooks service (uvicorn), authenticated unless explicitly run insecure on loopback."""

from __future__ import annotations

import os
import sys

from .._errors import InputFileError

CDS_AUTH_ENV = "EQUIPOISE_CDS_AUTH_CONFIG"
INSECURE_BANNER = """\
************************************************************************************************
* WARNING: --insecure-no-auth. The CDS Hooks service accepts EVERY caller without a token.      *
* Anyone who reaches this port gets cards and writes audit-log entries (as "unauthenticated").  *
* For a local trial only; never with patient data. Configure --auth-config for real use.       *
************************************************************************************************"""


def add_commands(sub) -> None:
    v = sub.add_parser("serve", help="the CDS Hooks service (discovery, patient-view cards, feedback)")
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=int, default=8088)
    v.add_argument("--dashboard-url", help="where card links open the dashboard (default http://localhost:8501)")
    v.add_argument("--auth-config", metavar="FILE",
                   help="trusted CDS Clients (issuers, their JWKS, this service's audience URLs) as TOML or JSON "
                        "(default $EQUIPOISE_CDS_AUTH_CONFIG); required unless --insecure-no-auth")
    v.add_argument("--insecure-no-auth", action="store_true",
                   help="INSECURE: accept every caller without a token (local trials on a loopback address only)")
    v.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    """Runs the CDS Hooks service until interrupted (uvicorn)."""
    if not 1 <= args.port <= 65535:
        raise InputFileError(f"--port must be in the range [1, 65535]. Got {args.port} instead.")
    configured = args.auth_config or os.environ.get(CDS_AUTH_ENV)
    if args.insecure_no_auth:
        if configured:
            raise InputFileError(f"--insecure-no-auth and an authentication configuration ({configured!r}, from "
                                 f"{'--auth-config' if args.auth_config else CDS_AUTH_ENV}) contradict each other; "
                                 "give one.")
        if args.host not in ("127.0.0.1", "::1", "localhost"):
            raise InputFileError(f"--insecure-no-auth serves only on a loopback address (127.0.0.1, ::1, localhost): "
                                 f"anyone who can reach {args.host!r} could write to the audit log as any user. "
                                 "Configure trusted issuers with --auth-config instead.")
        print(INSECURE_BANNER, file=sys.stderr, flush=True)
    elif not configured:
        raise InputFileError("`equipoise serve` needs to know which EHRs to trust: pass --auth-config FILE (or set "
                             f"{CDS_AUTH_ENV}); see README, \"CDS Hooks authentication\". For a local trial only, "
                             "--insecure-no-auth accepts every caller.")
    from .. import service

    app = service.cds_app(dashboard_url=args.dashboard_url, auth_config=configured,
                          insecure_no_auth=args.insecure_no_auth)
    import uvicorn

    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
