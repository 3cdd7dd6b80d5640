"""``equipoise roles check``: read the roles file as the dashboard will, and list who holds which role, or
name the first problem (file, user, value, allowed roles) with a non-zero exit status."""

from __future__ import annotations

import json
import sys


EXIT_NO_FILE = 2


def add_commands(sub) -> None:
    r = sub.add_parser("roles", help="the roles file of sign-in mode (EQUIPOISE_ROLES_FILE, else DATA_DIR/roles.toml)")
    rsub = r.add_subparsers(dest="roles_command", required=True)
    c = rsub.add_parser("check", help="read the roles file and list each user's roles, or name what is wrong")
    c.add_argument("--file", help="the roles file to check (default: the one the dashboard reads)")
    c.add_argument("--json", action="store_true", help="print JSON instead of lines")
    c.set_defaults(func=cmd_roles_check)


def cmd_roles_check(args) -> int:
    """Exit 0 and list the users; 2 (with the message) for a malformed file or none at all."""
    from .. import service

    roles = service.check_roles(args.file)  # a malformed file raises RolesFileError: the CLI prints it, exit 2
    if args.json:
        print(json.dumps(roles.to_dict(), indent=2, ensure_ascii=False))
    if not roles.exists:
        print(f"error: there is no roles file at {roles.path}: in sign-in mode nobody would hold a role.",
              file=sys.stderr)
        return EXIT_NO_FILE
    if not args.json:
        for user, held in sorted(roles.users.items()):
            print(f"{user}: {', '.join(sorted(held)) or '(no role)'}")
        print(f"{len(roles.users)} users in {roles.path}; roles allowed: {', '.join(service.ROLES)}")
    return 0
