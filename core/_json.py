"""One way to turn result objects into plain JSON: dicts, lists, Python numbers, None for NaN/inf."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np


def jsonable(obj):
    """Mappings to dicts (str keys), sequences and arrays to lists, numpy scalars to Python numbers,
    NaN and infinities to None. Anything else is returned as it is."""
    kind = type(obj)  # the plain types first, without the abstract-class checks (batch reports call this a lot)
    if kind is str or kind is bool or kind is int or obj is None:
        return obj
    if kind is float:
        return obj if math.isfinite(obj) else None
    if kind is dict:
        return {k if type(k) is str else str(k): jsonable(v) for k, v in obj.items()}
    if kind is list or kind is tuple:
        return [jsonable(v) for v in obj]
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
