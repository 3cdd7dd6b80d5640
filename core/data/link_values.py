"""The patient inputs an EHR card's deep link (``?record=``) carries, made safe to put on the dashboard's
form: a value the form cannot show (text where a number belongs, a choice the cohort does not have) is left
empty, and a sentence in clinical words names the field and what arrived. The form then goes through the
ordinary validation, so nothing in a link is ever used unchecked — and a crafted link never stops the page."""

from __future__ import annotations

import math
from collections.abc import Mapping

from .spec import CohortSpec, FeatureSpec

__all__ = ["link_form_values"]

NOT_A_NUMBER = ("The link gives {label} as {value}, which is not a number; it was left empty on the form — enter "
                "it there.")
NOT_A_CHOICE = ("The link gives {label} as {value}, which is not one of its choices ({choices}); it was left "
                "empty on the form — choose it there.")
UNKNOWN = "The link carries inputs this cohort does not use ({names}); they were ignored."
_SHOWN = 40  # characters of a bad value quoted back


def _label(f: FeatureSpec) -> str:
    return f"{f.label} ({f.unit})" if f.unit else f.label


def _quoted(value) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value) if not isinstance(value, int) or abs(value) < 10**30 else math.inf
    elif isinstance(value, str) and len(value) <= 40:
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _choice(options: list, value):
    if isinstance(value, bool):
        return None
    return next((o for o in options if o == value or str(o) == str(value)), None)


def link_form_values(spec: CohortSpec, record: Mapping) -> tuple[dict, tuple[str, ...]]:
    """``(values, problems)``: the link's values the form can show (numbers as numbers), and one sentence per
    value left out. A missing or null value is simply unknown (no sentence)."""
    values, problems = {}, []
    features = {f.name: f for f in spec.features}
    for name, f in features.items():
        value = record.get(name)
        if value is None:
            continue
        if f.is_numeric:
            number = _number(value)
            if number is None:
                problems.append(NOT_A_NUMBER.format(label=_label(f), value=_quoted(value)))
                continue
            values[name] = number
            continue
        options = [0, 1] if f.type == "binary" else list(f.categories)
        match = _choice(options, value)
        if match is None:
            shown = "no, yes" if f.type == "binary" else ", ".join(map(str, options))
            problems.append(NOT_A_CHOICE.format(label=_label(f), value=_quoted(value), choices=shown))
            continue
        values[name] = match
    unknown = sorted(str(k) for k in record if k not in features)
    if unknown:
        names = ", ".join(_quoted(k) for k in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        problems.append(UNKNOWN.format(names=names))
    return values, tuple(problems)
