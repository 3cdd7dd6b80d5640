"""Numbers as text, one helper per style, so every message and label formats a value the same way; and
other people's text made inert for Markdown (the dashboard, CDS Hooks cards)."""

from __future__ import annotations

import math
import numbers
import re

import numpy as np


def short_number(v) -> str:
    """As people write it: ``12`` rather than ``12.0``, else four significant digits; ``'?'`` for None."""
    if v is None:
        return "?"
    return str(int(v)) if float(v).is_integer() else f"{float(v):.4g}"


def exact_number(x) -> str:
    """A limit or setting as written in a spec: ``20``, ``0.05``, ``1e-06`` (``:g``, integers without ``.0``)."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def display_value(v) -> str:
    """A patient's value on a chart: ``347``, ``73.94``, ``12,500``, ``'G/G'``, ``'missing'``."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "missing"
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
        return str(v)
    return f"{v:,.0f}" if abs(v) >= 1000 else str(int(v)) if float(v).is_integer() else f"{v:.4g}"


def python_value(v):
    """A numpy scalar as the Python value it holds, for messages (``2``, not ``np.int64(2)``)."""
    return v.item() if isinstance(v, np.generic) else v


def record_value(v):
    """A value as a validated record holds it: None for missing, ``3`` for ``3.0``, Python numbers."""
    kind = type(v)  # the common plain types first (batch reports call this for every explanation row)
    if kind is str:
        return v
    if kind is float:
        return None if v != v else int(v) if v.is_integer() else v
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (np.floating, float)):
        return int(v) if float(v).is_integer() else float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v


def finite_or_none(x) -> float | None:
    """A plain float for JSON; ``None`` for missing or non-finite."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def is_number(v) -> bool:
    """A real, finite number (not a bool)."""
    return (isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
            and math.isfinite(float(v)))


_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>#|~$!])")   # emphasis, code, links, images, HTML, tables, LaTeX
_LIST = re.compile(r"^(\s*)(\d*)([-+.)])(\s)", re.MULTILINE)   # a line that would start a list
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp)://|\b(www)\.|@")   # GFM turns bare URLs, www. and emails into links


# Unicode bidi controls (they reorder what is shown: "U+202E" makes "txt.exe" look like "exe.txt") and control
# characters other than line breaks and tabs: shown as a visible code, never applied.
_INVISIBLE = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f"
                        "\u202a-\u202e\u2066-\u2069]")


def visible_text(text) -> str:
    """``text`` with every bidi control (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C) and control
    character other than newline, carriage return and tab replaced by a visible ``[U+XXXX]``: other people's
    text can then not reorder or hide what is shown around it (board pages and reports, audit-log names)."""
    return _INVISIBLE.sub(lambda m: f"[U+{ord(m.group()):04X}]", str(text))


def visible_strings(obj):
    """``obj`` (strings, tuples, lists, dicts and frozen dataclasses of them) with :func:`visible_text` applied
    to every string in it; other values as they are."""
    import dataclasses

    if isinstance(obj, str):
        return visible_text(obj)
    if isinstance(obj, (tuple, list)):
        return type(obj)(visible_strings(v) for v in obj)
    if isinstance(obj, dict):
        return {k: visible_strings(v) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: visible_strings(getattr(obj, f.name))
                                           for f in dataclasses.fields(obj) if f.init})
    return obj


def inert_markdown(text) -> str:
    """``text`` escaped so a Markdown renderer shows it literally: no emphasis, links, images, HTML, LaTeX,
    autolinks or list markers, and no bidi or control character (:func:`visible_text`). Line breaks are kept
    as they are (a caller may make them hard breaks)."""
    escaped = _MARKDOWN.sub(r"\\\1", visible_text(text))
    escaped = _AUTOLINK.sub(_unlink, escaped)
    return _LIST.sub(r"\1\2\\\3\4", escaped)


def _unlink(m: re.Match) -> str:
    if m.group(1):
        return m.group(1) + r"\:\/\/"
    return m.group(2) + r"\." if m.group(2) else r"\@"


def interval_decimals(estimate: float, low: float, high: float, *, fewest: int = 0, most: int = 3) -> int:
    """The fewest decimals (at least ``fewest``, at most ``most``) at which an estimate and its interval stay
    distinguishable and consistent when written: a non-zero estimate or bound never reads as zero ("+0"); an
    estimate strictly inside its interval never reads the same as a bound; and the written order keeps
    low <= estimate <= high. ``2 points (95% interval +0 to +2)`` becomes ``1.6 points (+0.4 to +2.4)``."""
    for d in range(fewest, most + 1):
        text = [f"{v:.{d}f}" for v in (estimate, low, high)]
        shown = [float(t) for t in text]
        if any(v != 0 and s == 0 for v, s in zip((estimate, low, high), shown)):
            continue
        if (low < estimate and text[1] == text[0]) or (estimate < high and text[0] == text[2]):
            continue
        if not shown[1] <= shown[0] <= shown[2]:
            continue
        return d
    return most


def signed(value: float, decimals: int) -> str:
    """``+1.6``, ``−0.4`` (a true minus sign), ``0`` for an exact zero: a difference as people read it."""
    if value == 0:
        return "0"
    return f"{value:+.{decimals}f}".replace("-", "−")


def estimate_interval(estimate: float, low: float, high: float, *, fewest: int = 0, most: int = 3,
                      sign: bool = True) -> tuple[str, str, str]:
    """The estimate and both bounds written with one number of decimals (:func:`interval_decimals`)."""
    d = interval_decimals(estimate, low, high, fewest=fewest, most=most)
    write = (lambda v: signed(v, d)) if sign else (lambda v: f"{v:.{d}f}")
    return write(estimate), write(low), write(high)
