"""Slider specs: one input per feature, starting at the patient's value (unknown stays unknown); immutable
features come locked, with the reason."""

from __future__ import annotations

import math

from dataclasses import dataclass
from typing import Any, Mapping

from .._format import short_number as fmt_number
from .._json import jsonable
from ..modeling.bundle import ModelBundle
from ..data.spec import FeatureSpec
from ._common import _slider_step, _training_ranges, _validate

UNKNOWN = "unknown"
# Why a feature that is not actionable is locked, by its role (a genotype is always locked).
LOCK_REASONS = {
    "genomic": "A genotype does not change.",
    "demographic": "A fixed characteristic of the patient.",
    "history": "Past history cannot be changed now.",
    "biomarker": "A measured value, not something a clinician sets.",
    "clinical": "Not a treatment lever for this decision.",
    "medication": "Not a treatment lever for this decision.",
}


@dataclass(frozen=True)
class SliderSpec:
    """One feature's input widget, starting at the patient's value.

    Numeric: ``min``/``max``/``step`` (the plausible range, widened to the patient's value, never beyond
    ``limits``); others: ``options`` (binary ``[0, 1]``) with ``option_labels``, led by ``None`` labelled
    "unknown" when the field is optional or missing. ``value`` is the patient's value (``None`` when
    ``missing``); ``start`` is where the widget starts: the value; when missing, ``None`` ("unknown") for an
    option, the middle of the range for a number (the page leaves it unknown until moved). ``locked`` features
    are immutable for the decision (``lock_reason`` says why); the page unlocks them only on request.
    ``allowed_change`` says what a clinician may do with an actionable one ("may be stopped, not started").
    """

    feature: str
    label: str
    type: str
    role: str
    unit: str
    value: Any
    start: Any
    missing: bool
    actionable: bool
    locked: bool
    integer: bool = False
    min: float | None = None
    max: float | None = None
    step: float | None = None
    decimals: int = 0  # a numeric slider's values are shown with this many decimals (its step's), e.g. 49.4 kg
    limits: tuple[float, float] | None = None
    plausible: tuple[float, float] | None = None
    training_range: tuple[float, float] | None = None
    options: tuple = ()
    option_labels: tuple[str, ...] = ()
    lock_reason: str = ""
    allowed_change: str = ""
    help: str = ""

    def to_dict(self) -> dict:
        return jsonable(self.__dict__)


def slider_specs(bundle: ModelBundle, record: Mapping[str, Any]) -> list[SliderSpec]:
    """One slider per feature, in the spec's order, starting at the patient's (validated) value."""
    spec = bundle.spec
    values = _validate(spec, record).values
    ranges = _training_ranges(bundle)
    return [_slider(f, values[f.name], ranges.get(f.name)) for f in spec.features]


def _slider(f: FeatureSpec, value, training_range) -> SliderSpec:
    reason = "" if f.actionable else LOCK_REASONS.get(f.role, LOCK_REASONS["clinical"])
    if f.type == "genotype":
        reason = LOCK_REASONS["genomic"]
    allowed = f.describe_actionable()
    common = dict(feature=f.name, label=f.label, type=f.type, role=f.role, unit=f.unit, value=value,
                  missing=value is None, actionable=bool(f.actionable), locked=not f.actionable, integer=f.integer,
                  lock_reason=reason, allowed_change=allowed)
    lock_note = (f" Locked: {reason} Unlock it to explore how the model depends on it." if reason
                 else f" {allowed[:1].upper()}{allowed[1:]}.")
    if value is None:
        lock_note = " Unknown for this patient." + lock_note
    if f.is_numeric:
        lo, hi = f.plausible
        if value is not None:
            lo, hi = min(lo, value), max(hi, value)
        lo, hi = max(lo, f.limits[0]), min(hi, f.limits[1])
        step = _slider_step(f)
        start = value if value is not None else _snap((lo + hi) / 2, step, lo, hi)
        cast = int if f.integer else float
        unit = f" {f.unit}" if f.unit else ""
        trained = (f"; training data {fmt_number(training_range[0])}–{fmt_number(training_range[1])}{unit}"
                   if training_range else "")
        helptext = (f"Allowed {fmt_number(f.limits[0])}–{fmt_number(f.limits[1])}{unit}; plausible {fmt_number(f.plausible[0])}–"
                    f"{fmt_number(f.plausible[1])}{unit}{trained}.{lock_note}")
        return SliderSpec(**common, start=cast(start), min=cast(lo), max=cast(hi), step=cast(step), decimals=_decimals(step),
                          limits=f.limits, plausible=f.plausible, training_range=training_range, help=helptext)
    options = (0, 1) if f.type == "binary" else tuple(f.categories)
    labels = ("no", "yes") if f.type == "binary" else tuple(f.categories)
    if not f.required or value is None:  # never shown as "no" (or any category) when it is not known
        options, labels = (None, *options), (UNKNOWN, *labels)
    return SliderSpec(**common, start=value, options=options, option_labels=labels, help=lock_note.strip())


def _decimals(step: float) -> int:
    """How many decimals a value on this slider is shown with: those that write its step exactly (0.5 -> 1,
    2 -> 0, 0.05 -> 2, 0.25 -> 2), at most 4."""
    return next((d for d in range(5) if math.isclose(round(step, d), step, rel_tol=0, abs_tol=1e-12)), 4)


def _snap(x: float, step: float, lo: float, hi: float) -> float:
    return min(max(round(x / step) * step, lo), hi)
