"""Validate one patient's inputs against a cohort spec.

Validation runs in named phases built from one-line helpers: unknown fields, then each field's
type and hard limits (refused), then the plausible range (warned). Every failing field is reported,
not just the first, and every message names the field, the value, the allowed range and the unit.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

from .._errors import FieldError, ImplausibleValueWarning, PatientValidationError
from .._format import exact_number
from .spec import CohortSpec, FeatureSpec

_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n"}

MSG_UNKNOWN_FIELD = "Unknown field {field!r} for cohort {cohort!r}. Expected fields: {expected}."
MSG_REQUIRED = "The {field!r} field is required: {allowed}."
MSG_OUT_OF_RANGE = "The {field!r} field must be {allowed}. Got {got} instead."
MSG_IMPLAUSIBLE = (
    "The {field!r} value {value}{unit} is outside the plausible range [{lo}, {hi}]{unit}: "
    "it was used, but please check it."
)
MSG_MISSING = "The {field!r} field ({label}) is missing: the estimate below treats it as unknown."


@dataclass(frozen=True)
class ValidatedPatient:
    """A patient's inputs after validation, in canonical form.

    ``values`` maps every feature to a number (numeric), 0/1 (binary), a category string
    (categorical, genotype) or ``None`` (missing, optional). ``to_record()`` gives exactly the JSON
    that ``equipoise predict --patient`` accepts back.
    """

    values: dict[str, Any]
    warnings: tuple[dict, ...] = ()
    missing: tuple[str, ...] = ()

    def to_record(self) -> dict[str, Any]:
        return dict(self.values)


def is_missing(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, float) and math.isnan(raw):
        return True
    return isinstance(raw, str) and raw.strip() in {"", "NA", "NaN", "nan", "null", "None"}


def coerce(feature: FeatureSpec, raw: Any) -> Any:
    """One value in canonical form, or raise ValueError with the field's full message."""
    allowed = feature.describe_range()
    if feature.is_numeric:
        number = _as_number(raw)
        lo, hi = feature.limits
        if number is None or not (lo <= number <= hi) or (feature.integer and not float(number).is_integer()):
            raise ValueError(MSG_OUT_OF_RANGE.format(field=feature.name, allowed=allowed, got=_show(raw)))
        return int(number) if feature.integer else float(number)
    if feature.type == "binary":
        text = str(raw).strip().lower() if not isinstance(raw, bool) else str(int(raw))
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw in (0, 1):
            return int(raw)
        if text in _TRUE:
            return 1
        if text in _FALSE:
            return 0
        raise ValueError(MSG_OUT_OF_RANGE.format(field=feature.name, allowed="0 (no) or 1 (yes)", got=_show(raw)))
    text = str(raw).strip() if isinstance(raw, str) else raw
    if text in feature.categories:
        return text
    raise ValueError(MSG_OUT_OF_RANGE.format(field=feature.name, allowed=allowed, got=_show(raw)))


def validate_patient(spec: CohortSpec, record: Mapping[str, Any], *, ignore: tuple[str, ...] = ()) -> ValidatedPatient:
    """Validate a mapping of feature name to value; raise PatientValidationError listing every bad field.

    ``ignore`` names non-feature keys that may be present (e.g. a CSV's patient-ID column).
    Implausible values are kept and reported as ``implausible_value`` warnings (and an
    ``ImplausibleValueWarning`` is emitted so library callers can catch it).
    """
    if not isinstance(record, Mapping):
        raise PatientValidationError([FieldError("<patient>", record, "A patient must be a JSON object of field: value.")])
    errors = _unknown_fields(spec, record, ignore)
    values: dict[str, Any] = {}
    missing: list[str] = []
    for feature in spec.features:
        raw = record.get(feature.name)
        if is_missing(raw):
            if feature.required:
                errors.append(FieldError(feature.name, raw, MSG_REQUIRED.format(field=feature.name, allowed=feature.describe_range())))
            values[feature.name] = None
            missing.append(feature.name)
            continue
        try:
            values[feature.name] = coerce(feature, raw)
        except ValueError as exc:
            errors.append(FieldError(feature.name, raw, str(exc)))
    if errors:
        raise PatientValidationError(errors)
    notes = [_implausible(f, values[f.name]) for f in spec.features if f.is_numeric and values[f.name] is not None]
    notes = [n for n in notes if n]
    for note in notes:
        warnings.warn(note["message"], ImplausibleValueWarning, stacklevel=2)
    notes += [
        {"kind": "missing_value", "field": name, "message": MSG_MISSING.format(field=name, label=spec.feature(name).label)}
        for name in missing
    ]
    return ValidatedPatient(values=values, warnings=tuple(notes), missing=tuple(missing))


def _unknown_fields(spec: CohortSpec, record: Mapping[str, Any], ignore) -> list[FieldError]:
    known = set(spec.feature_names) | set(ignore)
    expected = ", ".join(spec.feature_names)
    return [
        FieldError(str(k), record[k], MSG_UNKNOWN_FIELD.format(field=str(k), cohort=spec.name, expected=expected))
        for k in record
        if k not in known
    ]


def _implausible(feature: FeatureSpec, value: float) -> dict | None:
    lo, hi = feature.plausible
    if lo <= value <= hi:
        return None
    unit = f" {feature.unit}" if feature.unit else ""
    msg = MSG_IMPLAUSIBLE.format(field=feature.name, value=exact_number(value), unit=unit, lo=exact_number(lo), hi=exact_number(hi))
    return {"kind": "implausible_value", "field": feature.name, "value": value, "plausible": [lo, hi], "message": msg}


def _as_number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        number = float(raw)
    elif isinstance(raw, str):
        try:
            number = float(raw.strip())
        except ValueError:
            return None
    else:
        try:
            number = float(raw)  # numpy scalars
        except (TypeError, ValueError):
            return None
    return number if math.isfinite(number) else None


def _show(raw: Any) -> str:
    if isinstance(raw, str):
        number = _as_number(raw)
        return raw.strip() if number is not None else f"{raw!r} (text)"  # "700" from a CSV reads as 700
    if isinstance(raw, bool):
        return f"{raw!r} (true/false)"
    if isinstance(raw, float) and raw.is_integer():
        return exact_number(raw)
    return repr(raw) if not isinstance(raw, (int, float)) else f"{raw:g}"
