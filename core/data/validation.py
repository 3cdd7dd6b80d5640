"""Validate one patient's inputs against a cohort spec.

Validation runs in named phases built from one-line helpers: unknown fields, then each field's
type and hard limits (refused), then the plausible range (warned). A number given as text is read by the one
strict reader, :func:`core.data.numbers.parse_number` (a decimal comma is a decimal, never a thousands
separator; anything else that is not a number is refused naming the field in clinical words). Every failing field is reported,
not just the first, and every message names the field, the value, the allowed range and the unit.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

from .._errors import FieldError, ImplausibleValueWarning, PatientValidationError
from .._format import exact_number
from .limits import MAX_INT_DIGITS, OversizedNumber
from .numbers import NumberTextError, field_words, parse_number
from .spec import CohortSpec, FeatureSpec
from .._kinds import WarningKind

_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n"}

MSG_UNKNOWN_FIELD = "Unknown field {field!r} for cohort {cohort!r}. Expected fields: {expected}."
# Shown to people: the field in clinical words (its label), never its column name; the allowed values as
# FeatureSpec.describe_range words them ("a number from 20 to 300 kg", "yes or no").
MSG_REQUIRED = "{field} is required: {allowed}."
MSG_OUT_OF_RANGE = "{field} must be {allowed}. Got {got} instead."
MSG_IMPLAUSIBLE = (
    "{field} {value}{unit} is outside the plausible range {lo} to {hi}{unit}: "
    "it was used, but please check it."
)
MSG_IMPLAUSIBLE_LOGGED = (  # what goes to Python's warnings (and so maybe to a server log): never the value
    "The {field!r} value is outside the plausible range [{lo}, {hi}]{unit}: it was used and is flagged in the "
    "report's warnings."
)
MSG_MISSING = "{label} is missing: the estimate below treats it as unknown."


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
    if feature.is_numeric:
        if isinstance(raw, str):  # typed text: read strictly (never "12,5" as 125, never "1e3" or "1_000")
            try:
                number = parse_number(raw, what=field_words(feature), integer=feature.integer)
            except NumberTextError as exc:
                raise ValueError(str(exc)) from None
        else:
            number = _as_number(raw)
        lo, hi = feature.limits
        if number is None or not (lo <= number <= hi) or (feature.integer and not float(number).is_integer()):
            raise ValueError(MSG_OUT_OF_RANGE.format(field=feature.label, allowed=feature.describe_range(),
                                                     got=_show(raw)))
        return int(number) if feature.integer else float(number)
    if feature.type == "binary":
        text = str(raw).strip().lower() if not isinstance(raw, bool) else str(int(raw))
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw in (0, 1):
            return int(raw)
        if text in _TRUE:
            return 1
        if text in _FALSE:
            return 0
        raise ValueError(MSG_OUT_OF_RANGE.format(field=feature.label, allowed=feature.describe_range(), got=_show(raw)))
    text = str(raw).strip() if isinstance(raw, str) else raw
    if isinstance(text, (str, int, float)) and not isinstance(text, bool) and text in feature.categories:
        return text
    raise ValueError(MSG_OUT_OF_RANGE.format(field=feature.label, allowed=feature.describe_range(), got=_show(raw)))


def validate_patient(spec: CohortSpec, record: Mapping[str, Any], *, ignore: tuple[str, ...] = ()) -> ValidatedPatient:
    """Validate a mapping of feature name to value; raise PatientValidationError listing every bad field.

    ``ignore`` names non-feature keys that may be present (e.g. a CSV's patient-ID column).
    Implausible values are kept and reported as ``implausible_value`` warnings (and an
    ``ImplausibleValueWarning`` is emitted so library callers can catch it; its text names the field and
    range but never the value, so nothing a patient entered reaches a log).
    """
    if not isinstance(record, Mapping):
        raise PatientValidationError([FieldError("<patient>", _echo(record), "A patient must be a JSON object of field: value.")])
    errors = _unknown_fields(spec, record, ignore)
    values: dict[str, Any] = {}
    missing: list[str] = []
    for feature in spec.features:
        raw = record.get(feature.name)
        if is_missing(raw):
            if feature.required:
                errors.append(FieldError(feature.name, raw, MSG_REQUIRED.format(field=feature.label, allowed=feature.describe_range())))
            values[feature.name] = None
            missing.append(feature.name)
            continue
        try:
            values[feature.name] = coerce(feature, raw)
        except ValueError as exc:
            errors.append(FieldError(feature.name, _echo(raw), str(exc)))
    if errors:
        raise PatientValidationError(errors)
    notes = [_implausible(f, values[f.name]) for f in spec.features if f.is_numeric and values[f.name] is not None]
    notes = [n for n in notes if n]
    for note in notes:
        warnings.warn(note["logged"], ImplausibleValueWarning, stacklevel=2)
    notes = [{k: v for k, v in n.items() if k != "logged"} for n in notes]
    notes += [
        {"kind": WarningKind.MISSING_VALUE.value, "field": name, "message": MSG_MISSING.format(label=spec.feature(name).label)}
        for name in missing
    ]
    return ValidatedPatient(values=values, warnings=tuple(notes), missing=tuple(missing))


def non_input_columns(spec: CohortSpec, *also: str) -> tuple[str, ...]:
    """The one rule for a patient file's columns (the dashboard's upload, ``equipoise predict --csv``, batch
    reports): model inputs are used; the patient identifier, the treatment, the outcome columns, the spec's
    excluded columns and the identifier column named by the caller (``also``) are known and skipped; any other
    column is an unknown field, and the row is refused naming it (never dropped without a word)."""
    o = spec.outcome
    extra = [c for c in (o.column, o.time_column, o.event_column) if c] + list(spec.excluded_columns)
    return tuple(dict.fromkeys([spec.patient_id, spec.treatment.column, *extra, *(a for a in also if a)]))


def _unknown_fields(spec: CohortSpec, record: Mapping[str, Any], ignore) -> list[FieldError]:
    known = set(spec.feature_names) | set(ignore)
    expected = ", ".join(spec.feature_names)
    return [
        FieldError(_clip(str(k), 80), _echo(record[k]),
                   MSG_UNKNOWN_FIELD.format(field=_clip(str(k), 80), cohort=spec.name, expected=expected))
        for k in record
        if k not in known
    ]


def _implausible(feature: FeatureSpec, value: float) -> dict | None:
    lo, hi = feature.plausible
    if lo <= value <= hi:
        return None
    unit = f" {feature.unit}" if feature.unit else ""
    msg = MSG_IMPLAUSIBLE.format(field=feature.label, value=exact_number(value), unit=unit, lo=exact_number(lo), hi=exact_number(hi))
    logged = MSG_IMPLAUSIBLE_LOGGED.format(field=feature.name, unit=unit, lo=exact_number(lo), hi=exact_number(hi))
    return {"kind": WarningKind.IMPLAUSIBLE_VALUE.value, "field": feature.name, "value": value, "plausible": [lo, hi], "message": msg,
            "logged": logged}


def _as_number(raw: Any) -> float | None:
    if isinstance(raw, (bool, OversizedNumber)):
        return None
    if isinstance(raw, int) and _digits(raw) > MAX_INT_DIGITS:
        return None  # no patient value is that long; float() of it may overflow
    if isinstance(raw, str):
        try:
            return parse_number(raw, what="")
        except NumberTextError:
            return None
    try:
        number = float(raw)  # int, float, numpy scalars
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _echo(raw: Any) -> Any:
    """The value a refusal echoes back: as it arrived, except an integer too long to print as JSON."""
    if isinstance(raw, int) and not isinstance(raw, bool) and _digits(raw) > MAX_INT_DIGITS:
        return OversizedNumber(_digits(raw))
    if raw is None or isinstance(raw, (str, int, float, OversizedNumber)):
        return raw
    return _show(raw)  # a list, object, ...: its short description (a repr may be huge, or fail)


def _digits(n: int) -> int:
    return max(1, int(abs(n).bit_length() * 0.30103) + 1)  # decimal digits, without building the string


def _show(raw: Any) -> str:
    """The value as the message quotes it: short, and never the whole of a huge input."""
    if isinstance(raw, str):
        number = _as_number(raw)
        if number is not None:
            return raw.strip()  # "700" from a CSV reads as 700
        return f"{_clip(raw)!r} (text)" if len(raw) <= 60 else f"{_clip(raw)!r}… (text of {len(raw):,} characters)"
    if isinstance(raw, bool):
        return f"{raw!r} (true/false)"
    if isinstance(raw, OversizedNumber):
        return f"{raw!r} (too large to be a patient's value)"
    if isinstance(raw, int):
        digits = _digits(raw)
        return f"an integer of about {digits} digits (too large to be a patient's value)" if digits > MAX_INT_DIGITS \
            else str(raw)
    if isinstance(raw, float):
        return exact_number(raw) if raw.is_integer() and abs(raw) < 1e15 else f"{raw:g}"
    try:
        shown = repr(raw)
    except Exception:  # noqa: BLE001 - an object whose repr fails is still refused, by type
        shown = f"a {type(raw).__name__}"
    return shown if len(shown) <= 60 else f"{shown[:60]}… (a {type(raw).__name__})"


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[:n]
