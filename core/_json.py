"""One way to turn result objects into plain JSON: dicts, lists, Python numbers, None for NaN/inf.

:func:`dumps` writes such a value as one line of JSON text: with ``orjson`` when it is installed (several
times faster, the same JSON value), else with the standard library.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping

import numpy as np

try:  # optional: a faster serialiser giving the same JSON value
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised where orjson is missing
    _orjson = None

_PLAIN = frozenset({str, bool, int, type(None)})  # returned as they are, without a call


def jsonable(obj):
    """Mappings to dicts (str keys), sequences and arrays to lists, numpy scalars to Python numbers,
    NaN and infinities to None. Anything else is returned as it is."""
    kind = type(obj)  # the plain types first, without the abstract-class checks (batch reports call this a lot)
    if kind in _PLAIN:
        return obj
    if kind is float:
        return obj if math.isfinite(obj) else None
    if kind is dict:  # values of the plain types are kept inline (no call per value): same result, faster
        return {k if type(k) is str else str(k): v if type(v) in _PLAIN or (type(v) is float and v - v == 0.0)
                else jsonable(v) for k, v in obj.items()}  # v - v == 0 exactly when v is finite
    if kind is list or kind is tuple:
        return [v if type(v) in _PLAIN or (type(v) is float and v - v == 0.0) else jsonable(v) for v in obj]
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj


def number(value):
    """:func:`jsonable` of a number or None, without the general walk (a Python float as it is, if finite)."""
    if type(value) is float:
        return value if value - value == 0.0 else None
    return jsonable(value)


def dumps(obj) -> str:
    """``jsonable(obj)`` as one line of JSON text, UTF-8 characters kept (NaN and infinities as null).

    With orjson the text differs only in spacing from ``json.dumps(jsonable(obj), allow_nan=False,
    ensure_ascii=False)`` and parses to the same value (orjson writes NaN as null, as :func:`jsonable` makes
    it); anything orjson cannot write (an integer beyond 64 bits, a numpy scalar, a non-str key, another
    type) goes through :func:`jsonable` and the standard library, so the value never depends on orjson."""
    if _orjson is not None:
        try:
            return _orjson.dumps(obj).decode("utf-8")
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            pass
    return json.dumps(jsonable(obj), allow_nan=False, ensure_ascii=False)
