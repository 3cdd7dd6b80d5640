"""Bounds on every input read from a user: file kinds and sizes, JSON depth, CSV rows, number magnitude.

Everything here refuses with an ``InputFileError`` (or ``SpecError``, via ``error=``) whose message names the
file and the limit; nothing reads an unbounded stream, and nothing recurses on user data.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .._errors import InputFileError

MAX_PATIENT_JSON_BYTES = 1_000_000       # one patient is a few hundred bytes
MAX_SPEC_JSON_BYTES = 1_000_000
MAX_JSON_DEPTH = 20                      # a patient is depth 1 (2 for a template's output); a spec about 5
MAX_CSV_BYTES = 20 * 1024 * 1024         # a CSV of patients to report on (uploads and `predict --csv`)
MAX_CSV_ROWS = 100_000
MAX_CSV_COLUMNS = 1_000
MAX_TRAINING_CSV_BYTES = 200 * 1024 * 1024   # your own cohort for `equipoise train --csv`
MAX_TRAINING_CSV_ROWS = 2_000_000
MAX_PREDICTIONS_BYTES = 200 * 1024 * 1024    # `equipoise audit --predictions`
MAX_INT_DIGITS = 30                      # no patient value needs more; longer integers are refused by field


@dataclass(frozen=True)
class OversizedNumber:
    """An integer literal too long to be any patient's value, kept unparsed so the refusal can name its field."""

    digits: int

    def __repr__(self) -> str:
        return f"an integer of {self.digits} digits"


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def regular_file(path, what: str, *, error=InputFileError) -> Path:
    """``path`` as a Path if it is an existing ordinary file; a directory, device, FIFO or socket is refused."""
    p = Path(path)
    try:
        info = os.stat(p)
    except FileNotFoundError:
        raise error(f"{what} {str(path)!r} does not exist.") from None
    except (OSError, ValueError) as exc:  # permission denied, name too long, embedded NUL
        raise error(f"{what} {str(path)!r} could not be opened: {getattr(exc, 'strerror', None) or exc}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{what} {str(path)!r} is a directory, not a file.")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{what} {str(path)!r} is not an ordinary file (it is a device, FIFO or socket): "
                    "Equipoise reads only ordinary files.")
    return p


def read_bounded(path, what: str, limit: int, *, error=InputFileError) -> bytes:
    """The bytes of an ordinary file of at most ``limit`` bytes (checked before and while reading)."""
    p = regular_file(path, what, error=error)
    if p.stat().st_size > limit:
        raise error(f"{what} {str(path)!r} is {_mb(p.stat().st_size)}; the limit is {_mb(limit)}.")
    try:
        with open(p, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise error(f"{what} {str(path)!r} could not be read: {exc.strerror or exc}.") from None
    if len(data) > limit:  # grew while we looked
        raise error(f"{what} {str(path)!r} is larger than the limit of {_mb(limit)}.")
    return data


def read_stream_bounded(stream, what: str, limit: int) -> bytes:
    """At most ``limit`` bytes from a stream such as standard input; more is refused, never read to the end."""
    source = getattr(stream, "buffer", stream)
    data = source.read(limit + 1)
    data = data.encode("utf-8") if isinstance(data, str) else data
    if len(data) > limit:
        raise InputFileError(f"{what} is larger than the limit of {_mb(limit)}.")
    return data


def _int(literal: str):
    digits = len(literal.lstrip("-"))
    return int(literal) if digits <= MAX_INT_DIGITS else OversizedNumber(digits)


def parse_json(data: bytes | str, what: str, *, max_depth: int = MAX_JSON_DEPTH, error=InputFileError):
    """Strict UTF-8 JSON nested at most ``max_depth`` deep; over-long integers become ``OversizedNumber``."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise error(f"{what} is not UTF-8 text (byte {exc.start}).") from None
    if _depth(text) > max_depth:
        raise error(f"{what} is nested more than {max_depth} levels deep; a patient is one object of field: value.")
    try:
        return json.loads(text, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise error(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
    except (ValueError, RecursionError) as exc:
        raise error(f"{what} is not valid JSON: {str(exc)[:200]}.") from None


def _depth(text: str) -> int:
    """How deeply ``[`` and ``{`` nest outside strings (a linear scan: no recursion, no parse)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def parse_csv(data: bytes, what: str, *, max_rows: int | None = None, as_text: bool = True):
    """A CSV's bytes as a DataFrame (all cells text if ``as_text``), refused past ``max_rows`` or
    ``MAX_CSV_COLUMNS``; any parse failure is an ``InputFileError`` naming the file."""
    import pandas as pd

    max_rows = MAX_CSV_ROWS if max_rows is None else max_rows
    # text cells as Arrow strings: a 100 000-row patient CSV takes ~16 MB in a session instead of ~86 MB as objects
    options = dict(dtype="string[pyarrow]", keep_default_na=False) if as_text else {}
    try:
        frame = pd.read_csv(io.BytesIO(data), nrows=max_rows + 1, encoding="utf-8-sig", **options)
    except pd.errors.EmptyDataError:
        raise InputFileError(f"{what} is empty: it needs a header row naming the columns.") from None
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{what} is not UTF-8 text (byte {exc.start}).") from None
    except (pd.errors.ParserError, ValueError, csv.Error, OverflowError, MemoryError) as exc:
        raise InputFileError(f"{what} could not be read as CSV: {str(exc).strip()[:300]}") from None
    if len(frame) > max_rows:
        raise InputFileError(f"{what} has more than {max_rows:,} rows; the limit is {max_rows:,}.")
    if frame.shape[1] > MAX_CSV_COLUMNS:
        raise InputFileError(f"{what} has {frame.shape[1]:,} columns; the limit is {MAX_CSV_COLUMNS:,}.")
    frame.columns = [str(c) for c in frame.columns]
    return frame
