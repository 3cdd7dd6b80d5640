"""Numbers as text, one helper per style, so every message and label formats a value the same way."""

from __future__ import annotations

import math
import numbers

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
