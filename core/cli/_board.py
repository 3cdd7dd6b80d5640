"""``equipoise board``: tumor-board meetings from the command line (the same service functions the pages use).

Every command records what it does in the audit log (``--user`` names who; default the OS user)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .._errors import InputFileError

EXIT_REFUSED_ROWS = 1


def add_commands(sub) -> None:
    b = sub.add_parser("board", help="tumor-board meetings: agenda, presenting (frozen snapshots), decisions, reports")
    bsub = b.add_subparsers(dest="board_command", required=True)

    n = _command(bsub, "new", "create a meeting; prints its id alone on the last line", cmd_new, meeting=False)
    n.add_argument("--title", required=True)
    n.add_argument("--date", required=True, help="YYYY-MM-DD")
    n.add_argument("--type", default="MDT", help="e.g. 'colorectal MDT' (default MDT)")
    n.add_argument("--chair", help="the chair's name (default: --user)")
    n.add_argument("--attendee", action="append", default=[], metavar="NAME:SPECIALTY", help="repeat for each")
    n.add_argument("--quorum", action="append", default=[], metavar="SPECIALTY",
                   help="a specialty the meeting needs to be quorate; repeat for each")

    a = _command(bsub, "add", "put patients on the agenda: one JSON patient, a held-out test patient or CSV rows",
                 cmd_add)
    a.add_argument("--cohort", required=True, help="the cohort whose model the case is presented with")
    src = a.add_mutually_exclusive_group(required=True)
    src.add_argument("--patient", help="one patient as JSON (with --label)")
    src.add_argument("--test-patient", help="a held-out test patient's id (with --label)")
    src.add_argument("--csv", help="one case per row (with --label-column); every row is added or refused")
    a.add_argument("--label", help="the case's label (for --patient / --test-patient)")
    a.add_argument("--label-column", help="the CSV column that names each case")
    a.add_argument("--context-column", help="a CSV column of clinical context (free text), if any")
    a.add_argument("--question", default="", help="the question put to the board")
    a.add_argument("--context", default="", help="clinical context: diagnosis, stage, performance status, ...")
    a.add_argument("--triage", choices=["full_discussion", "standard_of_care"], default="full_discussion")

    p = _command(bsub, "present", "present a case: freezes (first time) and prints its snapshot as JSON", cmd_present)
    p.add_argument("--case", required=True, help="the case's label")

    d = _command(bsub, "decide", "record the board's decision (a new version each time)", cmd_decide)
    d.add_argument("--case", required=True)
    d.add_argument("--decision", required=True, help="the decision as JSON (keys in the README); '-' for stdin")

    s = _command(bsub, "sign-off", "the chair signs off the latest decision version (or --version)", cmd_sign_off)
    s.add_argument("--case", required=True)
    s.add_argument("--version", type=int)

    f = _command(bsub, "follow-up", "was the signed-off decision implemented? (if not, why)", cmd_follow_up)
    f.add_argument("--case", required=True)
    done = f.add_mutually_exclusive_group(required=True)
    done.add_argument("--implemented", action="store_true")
    done.add_argument("--not-implemented", action="store_true")
    f.add_argument("--reason", default="", help="required with --not-implemented (e.g. patient preference)")

    c = _command(bsub, "comment", "a board member's comment on a case (kept, never changed)", cmd_comment)
    c.add_argument("--case", required=True)
    c.add_argument("--text", required=True)

    r = _command(bsub, "reorder", "put the agenda in a new order", cmd_reorder)
    r.add_argument("--order", required=True, help="every case's label, comma-separated, in the new order")

    w = _command(bsub, "show", "print the meeting (or, without --meeting, every meeting) as JSON", cmd_show,
                 meeting=None)
    del w

    e = _command(bsub, "export", "write the meeting's report (or one case's) as PDF or HTML", cmd_export)
    e.add_argument("--format", choices=["pdf", "html"], required=True)
    e.add_argument("--out", required=True, help="a new file (an existing one is refused; never written through a link)")
    e.add_argument("--force", action="store_true", help="replace an existing --out file (a link is replaced, not followed)")
    e.add_argument("--case", help="only this case")


def _command(bsub, name: str, help_: str, func, *, meeting: bool | None = True):
    parser = bsub.add_parser(name, help=help_)
    if meeting is not False:
        parser.add_argument("--meeting", required=bool(meeting), help="the meeting's id")
    parser.add_argument("--user", help="who is recorded in the audit log (default: the operating-system user)")
    parser.set_defaults(func=lambda args: _logged(args, name, func))
    return parser


def _logged(args, name: str, func) -> int:
    from .. import service

    service.log_context(service.open_log(), user=args.user, page=f"cli board {name}")
    return func(args)


def _print(obj) -> None:
    from .._json import jsonable

    print(json.dumps(jsonable(obj), indent=2, allow_nan=False, ensure_ascii=False))


def _read_json(path: str, what: str) -> dict:
    from .. import service

    if path == "-":
        data = service.limits.read_stream_bounded(sys.stdin, what, service.limits.MAX_PATIENT_JSON_BYTES)
    else:
        data = service.limits.read_bounded(path, what, service.limits.MAX_PATIENT_JSON_BYTES)
    value = service.limits.parse_json(data, f"{what} {path!r}")
    if isinstance(value, dict) and isinstance(value.get("patient"), dict) and "fields" in value:
        value = value["patient"]  # the output of `equipoise template`
    if not isinstance(value, dict):
        raise InputFileError(f"{what} {path!r} must hold one JSON object.")
    return value


# --- commands ---------------------------------------------------------------------------------------

def cmd_new(args) -> int:
    from .. import service

    meeting = service.new_meeting(title=args.title, date=args.date, type=args.type, chair=args.chair or "",
                                  attendees=args.attendee, quorum=args.quorum)
    print(f"Meeting {meeting.title!r} on {meeting.date} (chair {meeting.chair}). {meeting.quorum_text()}",
          file=sys.stderr)
    print(meeting.id)
    return 0


def cmd_add(args) -> int:
    from .. import service

    bundle = service.ensure_bundle(args.cohort)
    if args.csv:
        if not args.label_column:
            raise InputFileError("`equipoise board add --csv FILE` also needs --label-column COL (names each case).")
        data = service.limits.read_bounded(args.csv, "CSV file", service.limits.MAX_CSV_BYTES)
        result = service.add_cases_from_csv(args.meeting, bundle, data, label_column=args.label_column,
                                            name=Path(args.csv).name, question=args.question,
                                            context_column=args.context_column, triage=args.triage)
        _print(result.to_dict())
        if result.refused:
            print(f"error: {result.message()}", file=sys.stderr)
            return EXIT_REFUSED_ROWS
        print(result.message(), file=sys.stderr)
        return 0
    if not args.label:
        raise InputFileError("`equipoise board add --patient/--test-patient` also needs --label LABEL.")
    if args.patient:
        record, source, ref = _read_json(args.patient, "Patient file"), "form", Path(args.patient).name
    else:
        found = [p for p in service.held_out_patients(bundle) if p["patient_id"] == args.test_patient]
        if not found:
            raise InputFileError(f"No held-out test patient {args.test_patient!r} in the {args.cohort} bundle.")
        record = {k: v for k, v in found[0].items() if k != "patient_id"}
        source, ref = "test_patient", args.test_patient
    case = service.add_case(args.meeting, bundle, record, label=args.label, source=source, source_ref=ref,
                            question=args.question, context=args.context, triage=args.triage)
    _print(case.to_dict())
    return 0


def cmd_present(args) -> int:
    from .. import service

    presentation = service.present(args.meeting, args.case)
    if presentation.note:
        print(f"[equipoise] {presentation.note}", file=sys.stderr)
    _print(presentation.to_dict())
    return 0


def cmd_decide(args) -> int:
    from .. import service

    decision = service.decide(args.meeting, args.case, _read_json(args.decision, "Decision file"))
    _print(decision.to_dict())
    return 0


def cmd_sign_off(args) -> int:
    from .. import service

    _print(service.sign_off(args.meeting, args.case, version=args.version).to_dict())
    return 0


def cmd_follow_up(args) -> int:
    from .. import service

    _print(service.follow_up(args.meeting, args.case, implemented=bool(args.implemented), reason=args.reason).to_dict())
    return 0


def cmd_comment(args) -> int:
    from .. import service

    _print(service.comment(args.meeting, args.case, args.text).to_dict())
    return 0


def cmd_reorder(args) -> int:
    from .. import service

    cases = service.reorder_cases(args.meeting, [x.strip() for x in args.order.split(",") if x.strip()])
    _print([{"position": c.position, "label": c.label} for c in cases])
    return 0


def cmd_show(args) -> int:
    from .. import service

    if args.meeting:
        _print(service.meeting_record(args.meeting).to_dict())
    else:
        _print([{"id": m.id, "title": m.title, "date": m.date, "type": m.type, "chair": m.chair}
                for m in service.meetings()])
    return 0


def cmd_export(args) -> int:
    from .. import service

    out = service.check_out_path(args.out, force=args.force)  # before the export is made and logged
    content = service.board_export(args.meeting, format=args.format, case=args.case)
    service.write_out(out, content, force=args.force)
    print(f"{args.format.upper()} report written to {args.out} ({len(content):,} bytes)", file=sys.stderr)
    return 0
