"""Slider specs: one input per feature, starting at the patient's value; immutable features come locked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .._format import short_number as fmt_number
from .._json import jsonable
from ..modeling.bundle import ModelBundle
from ..data.spec import FeatureSpec
from ._common import _slider_step, _training_ranges, _validate


@dataclass(frozen=True)
class SliderSpec:
    """One feature's input widget, starting at the patient's value.

    Numeric: ``min``/``max``/``step`` (the plausible range, widened to the patient's value, never beyond
    ``limits``); others: ``options`` (binary ``[0, 1]``) with ``option_labels``. ``value`` is the
    patient's value (``None`` when ``missing``); ``start`` is where the widget starts (the value, or the
    middle of the range / first option when missing). ``locked`` features are immutable for the decision:
    the page unlocks them only on request.
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
    limits: tuple[float, float] | None = None
    plausible: tuple[float, float] | None = None
    training_range: tuple[float, float] | None = None
    options: tuple = ()
    option_labels: tuple[str, ...] = ()
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
    common = dict(feature=f.name, label=f.label, type=f.type, role=f.role, unit=f.unit, value=value,
                  missing=value is None, actionable=f.actionable, locked=not f.actionable, integer=f.integer)
    lock_note = "" if f.actionable else " Immutable for this decision: unlock it to explore."
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
        return SliderSpec(**common, start=cast(start), min=cast(lo), max=cast(hi), step=cast(step),
                          limits=f.limits, plausible=f.plausible, training_range=training_range, help=helptext)
    options = (0, 1) if f.type == "binary" else tuple(f.categories)
    labels = ("no", "yes") if f.type == "binary" else tuple(f.categories)
    start = value if value is not None else options[0]
    return SliderSpec(**common, start=start, options=options, option_labels=labels, help=lock_note.strip())


def _snap(x: float, step: float, lo: float, hi: float) -> float:
    return min(max(round(x / step) * step, lo), hi)
