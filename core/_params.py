"""Declared parameter constraints, checked in one place, and the one message they raise.

In the spirit of scikit-learn's ``_parameter_constraints``: a module declares, per parameter, what
is allowed (in words, for the message) and a predicate; :func:`check_parameters` checks them all and
raises ``ValueError`` with :data:`MSG_PARAMETER`, naming the function or class, what was expected
and what arrived.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Mapping, NamedTuple

import numpy as np

MSG_PARAMETER = "The {name!r} parameter of {owner} must be {expected}. Got {got!r} instead."


class Constraint(NamedTuple):
    """What a parameter may be: ``expected`` in words, ``ok(value)`` as a predicate."""

    expected: str
    ok: Callable[[Any], bool]


def is_int(v: Any) -> bool:
    """An integer that is not a bool (``True`` is not a count)."""
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def is_real(v: Any) -> bool:
    """A finite real number that is not a bool."""
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) and math.isfinite(float(v))


def is_bool(v: Any) -> bool:
    return isinstance(v, (bool, np.bool_))


def check_parameters(owner: str, constraints: Mapping[str, Constraint], **values: Any) -> None:
    """Raise ``ValueError`` for the first of ``values`` that breaks its declared constraint."""
    for name, value in values.items():
        expected, ok = constraints[name]
        if not ok(value):
            raise ValueError(MSG_PARAMETER.format(name=name, owner=owner, expected=expected, got=value))


def check_attributes(obj: Any, constraints: Mapping[str, Constraint]) -> None:
    """:func:`check_parameters` for an estimator's stored ``__init__`` parameters (checked in ``fit``)."""
    check_parameters(type(obj).__name__, constraints, **{name: getattr(obj, name) for name in constraints})
