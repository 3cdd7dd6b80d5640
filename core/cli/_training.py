"""``equipoise training ...``: trainee mode from the command line (the same service functions as the pages),
so a study can run on paper or from another tool.

- ``training new --cohort NAME --cases N --manipulated-share S --seed K`` prints the new session's id alone
  on its last line;
- ``training cases --session ID``: JSON list of what a trainee sees (no truth, no manipulation flag);
- ``training answer --session ID --trainee NAME --answers FILE.json`` (``[{case, initial, confidence, final}]``);
- ``training report --session ID [--trainee NAME]``: JSON scores (each with its n) and per-case rows;
- ``training sessions``: every session's settings, as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys

from .._cohort_names import BUNDLED
from .._errors import InputFileError

MAX_ANSWERS_BYTES = 1_000_000


def add_commands(sub) -> None:
    t = sub.add_parser("training", help="trainee mode: sessions with deliberately wrong advice, answers, scores")
    tsub = t.add_subparsers(dest="training_command", required=True)

    n = tsub.add_parser("new", aliases=["new-session"], help="create a session; prints its id on the last line")
    n.add_argument("--cohort", required=True, help=f"a bundled cohort ({', '.join(BUNDLED)})")
    n.add_argument("--cases", type=_number(int, "--cases", 1, 200), required=True, help="number of cases (1-200)")
    n.add_argument("--manipulated-share", "--share-wrong", dest="share", type=_number(float, "--manipulated-share", 0, 1),
                   required=True, help="share of cases whose advice is deliberately wrong (0-1)")
    n.add_argument("--seed", type=_number(int, "--seed", 0, 2**32 - 1), required=True)
    n.add_argument("--condition", choices=["decide_first", "advice_first"], default="decide_first")
    for what in ("explanations", "intervals", "warnings"):
        n.add_argument(f"--no-{what}", action="store_true", help=f"do not show {what} with the advice")
    _log_options(n)
    n.set_defaults(func=cmd_new)

    c = tsub.add_parser("cases", help="JSON list of the cases as a trainee sees them (advice included)")
    c.add_argument("--session", required=True)
    _log_options(c)
    c.set_defaults(func=cmd_cases)

    a = tsub.add_parser("answer", help="record a trainee's answers from a JSON file")
    a.add_argument("--session", required=True)
    a.add_argument("--trainee", required=True)
    a.add_argument("--answers", required=True, help="JSON list of {case, initial, confidence, final}")
    _log_options(a)
    a.set_defaults(func=cmd_answer)

    r = tsub.add_parser("report", aliases=["scores"], help="JSON scores (with n) and per-case rows")
    r.add_argument("--session", required=True)
    r.add_argument("--trainee", help="one trainee (default: every trainee of the session)")
    _log_options(r)
    r.set_defaults(func=cmd_report)

    s = tsub.add_parser("sessions", help="every training session's settings, as JSON")
    s.set_defaults(func=cmd_sessions)


def _log_options(parser) -> None:
    parser.add_argument("--log", action="store_true", help="also record what is printed in the audit log first")
    parser.add_argument("--user", help="the user named in the audit log (default: the operating-system user)")


def _start_log(args, page: str) -> None:
    from .. import service

    if args.log:
        service.log_context(service.open_log(), user=args.user, role="instructor" if page.endswith("new") else None,
                            page=page)
    elif args.user:
        raise InputFileError("--user names who is recorded in the audit log: use it with --log.")


def cmd_new(args) -> int:
    from .. import service

    if args.cohort not in service.BUNDLED:
        raise InputFileError(f"Unknown cohort {args.cohort!r}. Bundled cohorts: {', '.join(service.BUNDLED)}.")
    _start_log(args, "cli training new")
    print(f"[equipoise] drawing {args.cases} cases from the held-out test split of {args.cohort}", file=sys.stderr)
    session = service.new_training_session(
        args.cohort, cases=args.cases, manipulated_share=args.share, seed=args.seed, condition=args.condition,
        show_explanation=not args.no_explanations, show_interval=not args.no_intervals,
        show_warnings=not args.no_warnings, created_by=args.user or "local")
    print(f"[equipoise] session for {args.cohort}: {args.cases} cases, condition {args.condition}", file=sys.stderr)
    print(session.id)
    return 0


def cmd_cases(args) -> int:
    from .. import service

    _start_log(args, "cli training cases")
    _print_json(service.training_case_sheet(args.session))
    return 0


def cmd_answer(args) -> int:
    from .. import service

    _start_log(args, "cli training answer")
    data = service.limits.read_bounded(args.answers, "Answers file", MAX_ANSWERS_BYTES)
    answers = service.limits.parse_json(data, f"Answers file {args.answers!r}")
    if not isinstance(answers, list):
        raise InputFileError(f"Answers file {args.answers!r} must hold a JSON list of {{case, initial, confidence, "
                             f"final}} objects. Got a JSON {type(answers).__name__} instead.")
    n = service.submit_training_answers(args.session, args.trainee, answers)
    print(f"{n} case(s) recorded for {args.trainee!r} in session {args.session}.", file=sys.stderr)
    return 0


def cmd_report(args) -> int:
    from .. import service

    _start_log(args, "cli training report")
    _print_json(service.training_report(args.session, trainee=args.trainee).to_dict())
    return 0


def cmd_sessions(args) -> int:
    from .. import service

    _print_json([s.to_dict() for s in service.training_sessions()])
    return 0


def _number(kind, name: str, lo, hi):
    """An argparse type: a number in [lo, hi], refused with the option's name and range otherwise."""
    def parse(text: str):
        try:
            value = kind(text) if len(text) <= 30 else None
        except ValueError:
            value = None
        if value is None or value != value or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{name} must be {'an integer' if kind is int else 'a number'} from "
                                             f"{lo:,} to {hi:,}. Got {text[:40]!r} instead.")
        return value
    return parse


def _print_json(obj) -> None:
    from .._json import jsonable

    print(json.dumps(jsonable(obj), indent=2, allow_nan=False, ensure_ascii=False))
