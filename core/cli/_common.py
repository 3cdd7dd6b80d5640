"""What several command groups share: exit statuses, bounded-number option types, the --log/--user options, reading
one patient's JSON and printing JSON. Imports nothing heavy: ``core.service`` and the JSON helpers are imported by
the functions that need them, so building the parser (``equipoise --help``) stays cheap."""

from __future__ import annotations

import argparse
import json
import sys

from .._errors import InputFileError

EXIT_BAD_INPUT = 2
EXIT_REFUSED_ROWS = 1


def bounded_int(name: str, lo: int, hi: int, unit: str = ""):
    """An argparse type: an integer in [lo, hi], refused with the option's name and range otherwise."""
    def parse(text: str) -> int:
        try:
            value = int(text) if len(text) <= 30 else None
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{name} must be an integer from {lo:,} to {hi:,}{unit}. "
                                             f"Got {text[:40]!r} instead.")
        return value
    return parse


def log_options(parser, what: str) -> None:
    parser.add_argument("--log", action="store_true", help=what)
    parser.add_argument("--user", help="the user named in the log (default: the operating-system user)")


def start_log(args, page: str) -> None:
    """With ``--log``: from here on every result is committed to the audit log before it is printed."""
    from .. import service

    if getattr(args, "log", False):
        service.log_context(service.open_log(), user=args.user, page=page)
    elif getattr(args, "user", None):
        raise InputFileError("--user names who is recorded in the audit log: use it with --log.")


def read_patient(path: str) -> dict:
    from .. import service

    what = "Patient JSON on standard input" if path == "-" else f"Patient file {path!r}"
    if path == "-":
        data = service.limits.read_stream_bounded(sys.stdin, what, service.limits.MAX_PATIENT_JSON_BYTES)
    else:
        data = service.limits.read_bounded(path, "Patient file", service.limits.MAX_PATIENT_JSON_BYTES)
    data = service.limits.parse_json(data, what)
    if isinstance(data, dict) and isinstance(data.get("patient"), dict) and "fields" in data:
        data = data["patient"]  # the output of `equipoise template`
    if not isinstance(data, dict):
        raise InputFileError(f"{what} must hold one JSON object of field: value pairs. "
                             f"Got a JSON {_json_kind(data)} instead.")
    return data


def _json_kind(value) -> str:
    return {list: "array", str: "string", bool: "true/false", type(None): "null"}.get(type(value), "number")


def print_json(obj, *, indent: int | None = 2) -> None:
    from .._json import jsonable

    print(json.dumps(jsonable(obj), indent=indent, allow_nan=False, ensure_ascii=False))
