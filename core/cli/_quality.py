"""``equipoise validate``: model quality beyond one random split (leave-one-site-out validation).

``equipoise validate --cohort warfarin --by-site`` prints one JSON object ``{sites: [...], summary: {...}}``
on standard output; progress goes to standard error.
"""

from __future__ import annotations

import json
import sys

from .._errors import InputFileError


def add_commands(sub) -> None:
    v = sub.add_parser("validate", help="validation beyond the random test split (--by-site: leave one site out)")
    v.add_argument("--cohort", required=True, help="a bundled multi-site cohort (warfarin)")
    v.add_argument("--by-site", action="store_true", help="train without each site in turn and score that site "
                   "(the full protocol per site: several minutes)")
    v.set_defaults(func=cmd_validate)


def cmd_validate(args) -> int:
    from .. import service
    from .._json import jsonable

    if not args.by_site:
        raise InputFileError("`equipoise validate` needs --by-site (the only validation it runs so far).")
    if args.cohort not in service.BUNDLED:
        raise InputFileError(f"Unknown cohort {args.cohort!r}. Bundled cohorts: {', '.join(service.BUNDLED)}.")
    progress = lambda msg: print(f"[equipoise] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    result = service.validate_by_site(args.cohort, progress=progress).to_dict()
    out = {"cohort": result["cohort"], "sites": result["sites"], "summary": result["summary"],
           "notes": result["notes"]}
    print(json.dumps(jsonable(out), indent=2, allow_nan=False, ensure_ascii=False))
    return 0
