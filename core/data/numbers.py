"""The one strict reader of numbers typed by hand (the patient form, a trainee's answers, text in a CSV or a
JSON record), and the one writer of a number back into a text box.

A number is digits with an optional sign and at most one decimal separator: a point (``12.5``) or a comma
(``12,5``, read as the same 12.5). A comma is never read as a thousands separator: ``1,250`` could be 1250 or
1.25, so it is refused with a message saying so, as are exponents (``1e3``), underscores (``1_000``), spaces
inside the number, units and any other text. Nothing is dropped or changed silently: what cannot be read is
refused with a message that names the field in clinical words.
"""

from __future__ import annotations

import math
import re

from .._errors import EquipoiseError

MINUS_SIGNS = "\u2212\u2013"  # − (minus) and – (en dash), as typed or pasted from documents
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")
MSG_NOT_A_NUMBER = ("{what} must be a number, such as 12.5 (a decimal comma, 12,5, is read the same way). "
                    "Got {text!r} instead.")
MSG_AMBIGUOUS = ("{what}: {text!r} could be read as {thousands} or as {decimal}. Type it without a thousands "
                 "separator ({thousands}) or with a decimal point ({decimal}).")
MSG_NOT_WHOLE = "{what} must be a whole number. Got {text!r} instead."
MAX_TEXT = 100  # characters: no number a person types is longer


class NumberTextError(EquipoiseError, ValueError):
    """Typed text that is not a number (or not unambiguously one); the message names the field."""


def parse_number(text: str, *, what: str, integer: bool = False) -> float | int | None:
    """The number ``text`` holds (None when it is empty: unknown), read strictly as described above.

    ``what`` names the field in clinical words with its unit (``"CD8 count (cells/µL)"``); ``integer``
    refuses a fraction (``3.5``) and returns an int (``"3.0"`` -> 3).
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_number reads text; got {type(text).__name__}")
    clean = text.strip()
    for sign in MINUS_SIGNS:
        clean = clean.replace(sign, "-")
    if not clean:
        return None
    shown = clean if len(clean) <= 40 else clean[:40] + "…"
    if len(clean) > MAX_TEXT or not _NUMBER.fullmatch(clean):
        raise NumberTextError(MSG_NOT_A_NUMBER.format(what=what, text=shown))
    if "," in clean:
        whole, fraction = clean.lstrip("+-").split(",")
        if len(fraction) == 3 and whole not in ("", "0"):  # 1,250: a thousands separator or a decimal comma?
            sign = "-" if clean.startswith("-") else ""
            raise NumberTextError(MSG_AMBIGUOUS.format(what=what, text=shown, thousands=f"{sign}{whole}{fraction}",
                                                       decimal=f"{sign}{whole}.{fraction}"))
        clean = clean.replace(",", ".")
    value = float(clean)
    if not math.isfinite(value):  # only reachable with absurdly many digits
        raise NumberTextError(MSG_NOT_A_NUMBER.format(what=what, text=shown))
    if integer:
        if not value.is_integer():
            raise NumberTextError(MSG_NOT_WHOLE.format(what=what, text=shown))
        return int(value)
    return value


def number_text(value, *, integer: bool = False) -> str:
    """A value as a text box shows it: typed text as typed, ``-3`` for an integer (never ``-3.00``), ``12.5``
    for a decimal (Python's shortest exact form), ``""`` for unknown."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    number = float(value)
    if math.isnan(number):
        return ""
    if integer or number.is_integer():
        return str(int(number)) if number.is_integer() else repr(number)
    return repr(number)


def field_words(feature) -> str:
    """A feature's name in a message: its clinical label and unit (``"CD8 count (cells/µL)"``)."""
    return f"{feature.label} ({feature.unit})" if feature.unit else feature.label
