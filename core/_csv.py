"""Every CSV Equipoise writes goes through here, so that a spreadsheet never runs a cell as a formula
(OWASP "CSV injection").

The rule (:func:`safe_cell`): a **text** cell whose first character is ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading ``'``, which spreadsheets show as text and never evaluate. Numbers are data
and are written as they are: a cell holding an ``int``/``float`` (``-3.5``, a dose change) is untouched, and
so is text that is exactly a plain decimal number (``"-3.5"``, ``"+2"``, ``"1e-3"``), which a spreadsheet
reads as that number and nothing else. Anything more after the number (``"-3.5+cmd|' /C calc'!A0"``) is
neutralized.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

__all__ = ["FORMULA_STARTS", "csv_text", "safe_cell"]


def safe_cell(value):
    """``value`` as it may go into a CSV cell: text that a spreadsheet would evaluate is prefixed with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text(rows: Iterable[Mapping], fields: Sequence[str]) -> str:
    """The CSV (header, then one line per row; only ``fields``, in that order) with every cell made safe."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[safe_cell(f) for f in fields], lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({safe_cell(k): safe_cell(row.get(k)) for k in fields})
    return buffer.getvalue()
