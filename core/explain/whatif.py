"""What if: sliders, changed predictions, counterfactuals and ICE curves for one patient.

Everything here returns a small frozen result object with ``to_dict()``; the dashboard only lays it out.

* :func:`slider_specs` — one :class:`SliderSpec` per feature, starting at the patient's value, within
  the hard limits (default span: the plausible range); immutable features come ``locked``.
* :func:`what_if` — the patient's report before and after some changes (:class:`WhatIfResult`): the
  deltas per arm or in the dose, whether the favoured arm changes, the intervals, and the changed
  values that leave the range the training data covers.
* :func:`counterfactual` — the smallest change to *actionable* features (never immutable ones) that
  changes the favoured arm, or moves the dose by a chosen amount (:class:`Counterfactual`). Fewest
  features first, then the smallest standardised distance (numeric: |Δ| / plausible span; a binary or
  categorical change counts 1). Single changes are searched on a fine grid of "nice" values over each
  plausible range, pairs on a coarser one; all candidates are scored in one model call per arm.
* :func:`ice_curve` — the model's prediction for this patient along one feature (:class:`ICECurve`).

These are statements about the model, phrased as options: only the treatment (if anything) was
randomized, so a feature's link to the prediction is an association, not a tested effect of changing it.
"""

from __future__ import annotations

import itertools
import math
import numbers
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._format import short_number as fmt_number
from .._json import jsonable
from ..modeling.bundle import ModelBundle
from ..data.cohorts import patient_frame
from ..fairness.patient_warnings import MSG_OOD_CATEGORY, MSG_OOD_FEATURE, novelty_matrix
from ..data.spec import CohortSpec, FeatureSpec
from ..data.validation import ValidatedPatient, validate_patient

__all__ = [
    "SliderSpec", "slider_specs",
    "FeatureChange", "ArmDelta", "DoseDelta", "IntervalChange", "OutsideTraining", "WhatIfResult", "what_if",
    "Counterfactual", "counterfactual",
    "ICECurve", "ice_curve",
]

# --- messages (tests assert them) ---------------------------------------------------------------

MSG_PARAMETER = "The {name!r} parameter of {func} must be {expected}. Got {got!r} instead."
MSG_UNKNOWN_FEATURE = "Cohort {cohort!r} has no feature {feature!r}. Features: {expected}."
MSG_DOSE_TARGET_NEEDED = ("Cohort {cohort!r} predicts a dose: pass dose_change_mg_per_week, the change to look for "
                          "(e.g. 5 for at least 5 mg/week more, -5 for at least 5 mg/week less).")
MSG_DOSE_TARGET_FOR_ARMS = ("Cohort {cohort!r} compares treatment arms: dose_change_mg_per_week applies only to a dose "
                            "cohort. Got {got!r} instead.")
MSG_NO_ACTIONABLE = ("No feature of cohort {cohort!r} is actionable: every feature is immutable for this decision, "
                     "so there is no change to look for.")
MSG_NOT_FOUND_ARMS = ("No change to the actionable features ({features}) within their plausible ranges changes "
                      "the favoured arm.")
MSG_NOT_FOUND_DOSE = ("No change to the actionable features ({features}) within their plausible ranges {verb} the "
                      "predicted dose by {amount:g} mg/week or more.")
MSG_SINGLE_ONLY = " Only one feature was changed at a time (max_features=1)."
MSG_FOUND_ARMS = "The model's favoured arm would change from {before} to {after} if {changes}."
MSG_FOUND_DOSE = ("The model's predicted dose would {verb} from {before:.1f} to {after:.1f} mg/week ({delta:+.1f}; "
                  "the change looked for was {target:+g}) if {changes}.")
MSG_WHATIF_NONE = "No feature was changed: these are the patient's own predictions."
MSG_WHATIF_ARM_CHANGED = "The model's favoured arm would change from {before} to {after} if {changes}."
MSG_WHATIF_ARM_SAME = ("The model's favoured arm would stay {arm} (estimated probability of the outcome {p0:.0%} → "
                       "{p1:.0%}) if {changes}.")
MSG_WHATIF_DOSE = ("The model's predicted dose would be {after:.1f} instead of {before:.1f} mg/week ({delta:+.1f}) "
                   "if {changes}.")
CAVEAT = ("This describes the model, not the patient: it links these values to different predictions, but only "
          "the treatment (if anything) was randomized, so changing a feature in reality may not change the outcome "
          "as shown.")

SLIDER_STEPS = 100      # a non-integer slider moves in "nice" steps of about span / 100
SEARCH_POINTS = 200     # single-feature counterfactual grid: at most about this many values per feature
PAIR_POINTS = 30        # pair grid, per feature
MAX_CANDIDATES = 250_000


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def _is_target(v) -> bool:
    return v is None or (isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
                         and math.isfinite(float(v)) and float(v) != 0.0)


_PARAMETER_CONSTRAINTS: dict[str, tuple[str, Any]] = {
    "n_points": ("an int in the range [2, 1000]", lambda v: _is_int(v) and 2 <= v <= 1000),
    "max_features": ("1 or 2", lambda v: _is_int(v) and v in (1, 2)),
    "dose_change_mg_per_week": ("a finite, non-zero number (mg/week) or None", _is_target),
}


def _check_parameters(func: str, **values) -> None:
    for name, value in values.items():
        expected, ok = _PARAMETER_CONSTRAINTS[name]
        if not ok(value):
            raise ValueError(MSG_PARAMETER.format(name=name, func=func, expected=expected, got=value))


# --- result objects -------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class FeatureChange:
    """One feature set from ``old`` to ``new``; ``distance`` is |Δ| / plausible span (1 for a category)."""

    feature: str
    label: str
    type: str
    unit: str
    old: Any
    new: Any
    actionable: bool
    distance: float
    text: str = ""

    def to_dict(self) -> dict:
        return jsonable(self.__dict__)


@dataclass(frozen=True)
class ArmDelta:
    arm: str
    before: float
    after: float

    @property
    def delta(self) -> float:
        return self.after - self.before

    def to_dict(self) -> dict:
        return {"arm": self.arm, "before": self.before, "after": self.after, "delta": self.delta}


@dataclass(frozen=True)
class DoseDelta:
    before: float
    after: float
    unit: str = "mg/week"

    @property
    def delta(self) -> float:
        return self.after - self.before

    def to_dict(self) -> dict:
        return {"before": self.before, "after": self.after, "delta": self.delta, "unit": self.unit}


@dataclass(frozen=True)
class IntervalChange:
    """An interval before and after (``None`` where there is none); ``quantity`` is an arm, 'difference' or 'dose'."""

    quantity: str
    before: tuple[float, float] | None
    after: tuple[float, float] | None

    @property
    def width_before(self) -> float | None:
        return None if self.before is None else self.before[1] - self.before[0]

    @property
    def width_after(self) -> float | None:
        return None if self.after is None else self.after[1] - self.after[0]

    def to_dict(self) -> dict:
        return {"quantity": self.quantity, "before": jsonable(self.before), "after": jsonable(self.after),
                "width_before": self.width_before, "width_after": self.width_after}


@dataclass(frozen=True)
class OutsideTraining:
    """A changed value outside the training data's [min, max] (``training_range`` None: a category never seen)."""

    feature: str
    label: str
    value: Any
    training_range: tuple[float, float] | None
    unit: str
    message: str

    def to_dict(self) -> dict:
        return jsonable(self.__dict__)


@dataclass(frozen=True)
class WhatIfResult:
    """The patient's report before (``baseline``) and after (``modified``) the ``changes``, as report dicts."""

    cohort: str
    baseline: dict
    modified: dict
    changes: tuple[FeatureChange, ...]
    arm_deltas: tuple[ArmDelta, ...] = ()
    dose_delta: DoseDelta | None = None
    favoured_before: str | None = None
    favoured_after: str | None = None
    versus_before: str | None = None
    versus_after: str | None = None
    interval_changes: tuple[IntervalChange, ...] = ()
    outside_training: tuple[OutsideTraining, ...] = ()
    summary: str = ""
    caveat: str = CAVEAT

    @property
    def favoured_changed(self) -> bool:
        return self.favoured_before != self.favoured_after

    def to_dict(self) -> dict:
        return {
            "cohort": self.cohort, "changes": [c.to_dict() for c in self.changes],
            "arm_deltas": [d.to_dict() for d in self.arm_deltas],
            "dose_delta": None if self.dose_delta is None else self.dose_delta.to_dict(),
            "favoured_before": self.favoured_before, "favoured_after": self.favoured_after,
            "favoured_changed": self.favoured_changed,
            "versus_before": self.versus_before, "versus_after": self.versus_after,
            "interval_changes": [i.to_dict() for i in self.interval_changes],
            "outside_training": [o.to_dict() for o in self.outside_training],
            "summary": self.summary, "caveat": self.caveat,
            "baseline": self.baseline, "modified": self.modified,
        }


@dataclass(frozen=True)
class Counterfactual:
    """The smallest change to actionable features that changes the favoured arm (or moves the dose).

    ``found`` False: ``changes`` is empty and ``message`` says why. ``record`` is the changed patient
    (``None`` when nothing was found), ready for :func:`what_if` or ``predict_patient``.
    """

    cohort: str
    found: bool
    message: str
    searched: tuple[str, ...]
    max_features: int
    n_candidates: int
    changes: tuple[FeatureChange, ...] = ()
    distance: float | None = None
    favoured_before: str | None = None
    favoured_after: str | None = None
    probabilities_before: dict = field(default_factory=dict)
    probabilities_after: dict = field(default_factory=dict)
    dose_before: float | None = None
    dose_after: float | None = None
    target_mg_per_week: float | None = None
    record: dict | None = None
    outside_training: tuple[OutsideTraining, ...] = ()
    caveat: str = CAVEAT

    def to_dict(self) -> dict:
        out = {k: jsonable(v) for k, v in self.__dict__.items() if k not in ("changes", "outside_training")}
        out["changes"] = [c.to_dict() for c in self.changes]
        out["outside_training"] = [o.to_dict() for o in self.outside_training]
        return out


@dataclass(frozen=True)
class ICECurve:
    """The model's prediction for this patient along ``grid`` values of one feature, others held fixed.

    ``curves`` maps each arm (arm cohorts: probabilities) or ``"dose"`` (mg/week) to one value per grid
    point; ``favoured`` is the favoured arm at each point (arm cohorts). ``current_index`` is the
    patient's value's position in ``grid`` (``None`` when the value is missing).
    """

    cohort: str
    feature: str
    label: str
    type: str
    unit: str
    actionable: bool
    scale: str
    grid: tuple
    curves: dict[str, tuple[float, ...]]
    current_value: Any
    current_index: int | None
    favoured: tuple[str, ...] = ()
    higher_is_worse: bool = True
    plausible: tuple[float, float] | None = None
    training_range: tuple[float, float] | None = None

    def to_dict(self) -> dict:
        return jsonable(self.__dict__)


# --- sliders ------------------------------------------------------------------------------------


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


# --- what if ------------------------------------------------------------------------------------


def what_if(bundle: ModelBundle, record: Mapping[str, Any], changes: Mapping[str, Any]) -> WhatIfResult:
    """The patient's report with ``changes`` (feature → new value) applied, beside the original.

    Any feature may be changed (the page decides which are unlocked); ``FeatureChange.actionable`` says
    whether it is one that can change. An invalid value raises ``PatientValidationError``.
    """
    spec = bundle.spec
    from ..reporting.patient_report import predict_patient  # reporting builds on explain: import at use

    before_report = predict_patient(bundle, dict(record))
    after_report = predict_patient(bundle, {**dict(record), **dict(changes)})
    old, new = before_report.patient.values, after_report.patient.values
    moved = tuple(_change(spec.feature(n), old[n], new[n]) for n in spec.feature_names if not _same(old[n], new[n]))
    before, after = before_report.to_dict(), after_report.to_dict()
    outside = _outside_training(bundle, {c.feature: c.new for c in moved})
    phrase = " and ".join(c.text for c in moved)
    if spec.is_dose:
        delta = DoseDelta(before["dose"]["mg_per_week"], after["dose"]["mg_per_week"], before["dose"]["unit"])
        intervals = (IntervalChange("dose", _pair(before["dose"].get("interval")),
                                    _pair(after["dose"].get("interval"))),)
        summary = (MSG_WHATIF_DOSE.format(before=delta.before, after=delta.after, delta=delta.delta, changes=phrase)
                   if moved else MSG_WHATIF_NONE)
        return WhatIfResult(spec.name, before, after, moved, dose_delta=delta, interval_changes=intervals,
                            outside_training=outside, summary=summary)
    p0 = {a["arm"]: a for a in before["arms"]}
    p1 = {a["arm"]: a for a in after["arms"]}
    deltas = tuple(ArmDelta(arm, p0[arm]["probability"], p1[arm]["probability"]) for arm in spec.arms)
    intervals = tuple(IntervalChange(arm, _pair(p0[arm]["interval"]), _pair(p1[arm]["interval"])) for arm in spec.arms)
    c0, c1 = before["comparison"], after["comparison"]
    intervals += (IntervalChange("difference", _pair(c0.get("interval")), _pair(c1.get("interval"))),)
    if not moved:
        summary = MSG_WHATIF_NONE
    elif c0["favoured"] != c1["favoured"]:
        summary = MSG_WHATIF_ARM_CHANGED.format(before=c0["favoured"], after=c1["favoured"], changes=phrase)
    else:
        arm = c0["favoured"]
        summary = MSG_WHATIF_ARM_SAME.format(arm=arm, p0=p0[arm]["probability"], p1=p1[arm]["probability"],
                                             changes=phrase)
    return WhatIfResult(spec.name, before, after, moved, arm_deltas=deltas, favoured_before=c0["favoured"],
                        favoured_after=c1["favoured"], versus_before=c0["versus"], versus_after=c1["versus"],
                        interval_changes=intervals, outside_training=outside, summary=summary)


# --- counterfactual -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """Candidates that change the same features: one value array per feature, and their distances."""

    features: tuple[str, ...]
    values: tuple[np.ndarray, ...]
    distance: np.ndarray


def counterfactual(bundle: ModelBundle, record: Mapping[str, Any], *, dose_change_mg_per_week: float | None = None,
                   max_features: int = 2) -> Counterfactual:
    """The smallest change to actionable features that changes the favoured arm, or moves the dose.

    Arm cohorts: the favoured arm (as in the report: lowest risk when the outcome is bad) must differ.
    Dose cohort: the predicted dose must move by at least ``dose_change_mg_per_week`` in its sign's
    direction. Fewest features first, then the smallest standardised distance, then the clearest result.
    """
    _check_parameters("counterfactual", max_features=max_features, dose_change_mg_per_week=dose_change_mg_per_week)
    spec = bundle.spec
    if spec.is_dose and dose_change_mg_per_week is None:
        raise ValueError(MSG_DOSE_TARGET_NEEDED.format(cohort=spec.name))
    if not spec.is_dose and dose_change_mg_per_week is not None:
        raise ValueError(MSG_DOSE_TARGET_FOR_ARMS.format(cohort=spec.name, got=dose_change_mg_per_week))
    values = _validate(spec, record).values
    target = None if dose_change_mg_per_week is None else float(dose_change_mg_per_week)
    actionable = [f for f in spec.features if f.actionable]
    base = _predict(bundle, _candidate_frame(spec, values, []))[0]
    common = dict(cohort=spec.name, searched=tuple(f.name for f in actionable), max_features=max_features,
                  target_mg_per_week=target, **_prediction_fields(spec, base, "before"))
    if not actionable:
        return Counterfactual(found=False, message=MSG_NO_ACTIONABLE.format(cohort=spec.name), n_candidates=0, **common)

    n_candidates = 0
    for size in range(1, min(max_features, len(actionable)) + 1):
        blocks = _candidate_blocks(actionable, values, size)
        if not blocks:
            continue
        frame = _candidate_frame(spec, values, blocks)
        n_candidates += len(frame)
        pred = _predict(bundle, frame)
        ok, margin = _reaches(spec, base, pred, target)
        if not ok.any():
            continue
        distance = np.concatenate([b.distance for b in blocks])
        order = np.lexsort((-margin, distance))
        best = int(order[np.flatnonzero(ok[order])[0]])
        block, offset = _block_of(blocks, best)
        new_values = dict(values)
        new_values.update({name: _scalar(spec.feature(name), vals[offset])
                           for name, vals in zip(block.features, block.values)})
        moved = tuple(_change(spec.feature(n), values[n], new_values[n]) for n in block.features)
        phrase = " and ".join(c.text for c in moved)
        after = _prediction_fields(spec, pred[best], "after")
        if spec.is_dose:
            message = MSG_FOUND_DOSE.format(verb="rise" if target > 0 else "fall", before=float(base),
                                            after=float(pred[best]), delta=float(pred[best] - base), target=target,
                                            changes=phrase)
        else:
            message = MSG_FOUND_ARMS.format(before=common["favoured_before"], after=after["favoured_after"],
                                            changes=phrase)
        return Counterfactual(found=True, message=message, n_candidates=n_candidates, changes=moved,
                              distance=float(distance[best]), record=new_values,
                              outside_training=_outside_training(bundle, {c.feature: c.new for c in moved}),
                              **after, **common)

    names = ", ".join(f.name for f in actionable)
    if spec.is_dose:
        message = MSG_NOT_FOUND_DOSE.format(features=names, verb="raises" if target > 0 else "lowers",
                                            amount=abs(target))
    else:
        message = MSG_NOT_FOUND_ARMS.format(features=names)
    if max_features == 1 and len(actionable) > 1:
        message += MSG_SINGLE_ONLY
    return Counterfactual(found=False, message=message, n_candidates=n_candidates, **common)


def _candidate_blocks(actionable: list[FeatureSpec], values: dict, size: int) -> list[_Block]:
    if size == 1:
        singles = [(f, _candidates(f, values[f.name], SEARCH_POINTS)) for f in actionable]
        return [_Block((f.name,), (v,), d) for f, (v, d) in singles if len(v)]
    points = PAIR_POINTS
    while True:
        per = {f.name: _candidates(f, values[f.name], points) for f in actionable}
        pairs = list(itertools.combinations(actionable, 2))
        total = sum(len(per[a.name][0]) * len(per[b.name][0]) for a, b in pairs)
        if total <= MAX_CANDIDATES or points <= 5:
            break
        points //= 2
    blocks = []
    for a, b in pairs:
        (va, da), (vb, db) = per[a.name], per[b.name]
        if len(va) and len(vb):
            ia, ib = np.meshgrid(np.arange(len(va)), np.arange(len(vb)), indexing="ij")
            ia, ib = ia.ravel(), ib.ravel()
            blocks.append(_Block((a.name, b.name), (va[ia], vb[ib]), da[ia] + db[ib]))
    return blocks


def _candidates(f: FeatureSpec, current, points: int) -> tuple[np.ndarray, np.ndarray]:
    """The values a feature may move to (never its current one) and their standardised distances."""
    if f.is_numeric:
        grid = _search_grid(f, points)
        if current is None:
            return grid, np.ones(len(grid))
        keep = ~np.isclose(grid, float(current), rtol=0.0, atol=1e-9)
        span = f.plausible[1] - f.plausible[0]
        return grid[keep], np.abs(grid[keep] - float(current)) / (span if span > 0 else 1.0)
    options = [0, 1] if f.type == "binary" else list(f.categories)
    other = np.array([o for o in options if current is None or o != current], dtype=object)
    return other, np.ones(len(other))


def _reaches(spec: CohortSpec, base, pred: np.ndarray, target: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Which candidates reach the goal, and by how much (larger is clearer)."""
    if spec.is_dose:
        delta = pred - float(base)
        return (delta >= target) if target > 0 else (delta <= target), np.abs(delta) - abs(target)
    hiw = spec.outcome.higher_is_worse
    fav0 = _favoured_index(base[None, :], hiw)[0]
    fav = _favoured_index(pred, hiw)
    rows = np.arange(len(pred))
    margin = (pred[:, fav0] - pred[rows, fav]) * (1.0 if hiw else -1.0)
    return fav != fav0, margin


def _block_of(blocks: list[_Block], index: int) -> tuple[_Block, int]:
    for block in blocks:
        if index < len(block.distance):
            return block, index
        index -= len(block.distance)
    raise IndexError(index)


def _prediction_fields(spec: CohortSpec, pred, when: str) -> dict:
    if spec.is_dose:
        return {f"dose_{when}": float(pred)}
    fav = _favoured_index(np.asarray(pred)[None, :], spec.outcome.higher_is_worse)[0]
    return {f"favoured_{when}": spec.arms[fav],
            f"probabilities_{when}": {arm: float(p) for arm, p in zip(spec.arms, pred)}}


# --- ICE ----------------------------------------------------------------------------------------


def ice_curve(bundle: ModelBundle, record: Mapping[str, Any], feature: str, *, n_points: int = 25) -> ICECurve:
    """The prediction for this patient as ``feature`` moves over its plausible range (or its categories)."""
    _check_parameters("ice_curve", n_points=n_points)
    spec = bundle.spec
    if feature not in spec.feature_names:
        raise ValueError(MSG_UNKNOWN_FEATURE.format(cohort=spec.name, feature=feature,
                                                    expected=", ".join(spec.feature_names)))
    f = spec.feature(feature)
    values = _validate(spec, record).values
    current = values[feature]
    grid = _ice_grid(f, current, n_points)
    pred = _predict(bundle, _candidate_frame(spec, values, [_Block((feature,), (grid,), np.zeros(len(grid)))]))
    points = tuple(_scalar(f, v) for v in grid)
    index = None if current is None else next(i for i, v in enumerate(points) if _same(v, current))
    if spec.is_dose:
        curves = {"dose": tuple(float(v) for v in pred)}
        scale, favoured = spec.treatment.unit or spec.outcome.unit or "mg/week", ()
    else:
        curves = {arm: tuple(float(v) for v in pred[:, i]) for i, arm in enumerate(spec.arms)}
        scale = f"probability of {spec.outcome.label}"
        favoured = tuple(spec.arms[i] for i in _favoured_index(pred, spec.outcome.higher_is_worse))
    return ICECurve(cohort=spec.name, feature=f.name, label=f.label, type=f.type, unit=f.unit, actionable=f.actionable,
                    scale=scale, grid=points, curves=curves, current_value=current, current_index=index,
                    favoured=favoured, higher_is_worse=spec.outcome.higher_is_worse, plausible=f.plausible,
                    training_range=_training_ranges(bundle).get(f.name) if f.is_numeric else None)


def _ice_grid(f: FeatureSpec, current, n_points: int) -> np.ndarray:
    if not f.is_numeric:
        return np.array([0, 1] if f.type == "binary" else list(f.categories), dtype=object)
    lo, hi = f.plausible
    if current is not None:
        lo, hi = min(lo, current), max(hi, current)
    grid = np.linspace(lo, hi, n_points)
    if f.integer:
        grid = np.round(grid)
    if current is not None:
        grid = np.append(grid, float(current))
    return np.unique(grid)


# --- shared helpers -----------------------------------------------------------------------------


def _validate(spec: CohortSpec, record: Mapping[str, Any]) -> ValidatedPatient:
    """Validated values; plausibility warnings are the report's business, not repeated here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return validate_patient(spec, record)


def _candidate_frame(spec: CohortSpec, values: dict, blocks: list[_Block]) -> pd.DataFrame:
    """The patient's row repeated once per candidate (one row if no blocks), with each block's values set."""
    if not blocks:
        return patient_frame(spec, [values])
    n = sum(len(b.distance) for b in blocks)
    cols = {}
    for f in spec.features:
        v = values[f.name]
        if f.type in ("numeric", "binary"):
            cols[f.name] = np.full(n, np.nan if v is None else float(v))
        else:
            cols[f.name] = np.full(n, v, dtype=object)
    start = 0
    for b in blocks:
        stop = start + len(b.distance)
        for name, vals in zip(b.features, b.values):
            cols[name][start:stop] = vals
        start = stop
    return pd.DataFrame({f.name: (cols[f.name].astype(float) if f.type in ("numeric", "binary")
                                  else pd.Categorical(cols[f.name], categories=list(f.categories)))
                         for f in spec.features})


def _predict(bundle: ModelBundle, frame: pd.DataFrame) -> np.ndarray:
    """(rows × arms) probabilities, or (rows,) doses: one vectorised model call per arm."""
    model = bundle.model
    if bundle.spec.is_dose:
        return model.predict(frame)
    return np.column_stack([model.predict(frame, arm=arm) for arm in bundle.spec.arms])


def _favoured_index(prob: np.ndarray, higher_is_worse: bool) -> np.ndarray:
    """As in the report: the lowest risk (first on ties), or the highest probability of a good outcome."""
    return np.argmin(prob, axis=1) if higher_is_worse else np.argmax(prob, axis=1)


def _training_ranges(bundle: ModelBundle) -> dict[str, tuple[float, float] | None]:
    """Training [min, max] per novelty column (numeric/binary: the feature's name; categories: 'f=cat')."""
    detector = bundle.novelty
    if detector is None:
        return {}
    _, names = novelty_matrix(bundle.spec, patient_frame(bundle.spec, [{}]))
    if len(names) != detector.n_features_in_:
        return {}
    out = {}
    for name, lo, hi in zip(names, detector.min_, detector.max_):
        out[name] = None if math.isnan(lo) else (float(lo), float(hi))
    return out


def _outside_training(bundle: ModelBundle, new_values: dict) -> tuple[OutsideTraining, ...]:
    spec, ranges, out = bundle.spec, _training_ranges(bundle), []
    for name, value in new_values.items():
        f = spec.feature(name)
        if value is None or not ranges:
            continue
        unit = f" {f.unit}" if f.unit else ""
        if f.type in ("numeric", "binary"):
            rng = ranges.get(name)
            if rng is not None and rng[0] <= float(value) <= rng[1]:
                continue
            lo, hi = (None, None) if rng is None else rng
            message = MSG_OOD_FEATURE.format(label=f.label, value=fmt_number(value), unit=unit, lo=fmt_number(lo), hi=fmt_number(hi))
            out.append(OutsideTraining(name, f.label, value, rng, f.unit, message))
        else:
            rng = ranges.get(f"{name}={value}")
            if rng is None or rng[1] < 1.0:
                out.append(OutsideTraining(name, f.label, value, None, f.unit,
                                           MSG_OOD_CATEGORY.format(label=f.label, value=value)))
    return tuple(out)


def _change(f: FeatureSpec, old, new) -> FeatureChange:
    if f.is_numeric and old is not None and new is not None:
        span = f.plausible[1] - f.plausible[0]
        distance = abs(float(new) - float(old)) / (span if span > 0 else 1.0)
    else:
        distance = 1.0
    return FeatureChange(f.name, f.label, f.type, f.unit, old, new, f.actionable, float(distance), _phrase(f, old, new))


def _phrase(f: FeatureSpec, old, new) -> str:
    """'weight were 55 kg instead of 74 kg'; binary: '“Taking aspirin” were yes instead of no'."""
    if f.type == "binary":
        show = {None: "unknown", 0: "no", 1: "yes"}
        return f"“{f.label}” were {show[new]} instead of {show[old]}"
    label = f.label[:1].lower() + f.label[1:] if f.label[1:2].islower() else f.label
    if not f.is_numeric:
        return f"{label} were {'unknown' if new is None else new} instead of {'unknown' if old is None else old}"
    unit = f" {f.unit}" if f.unit else ""
    decimals = 0 if f.integer else max(0, -math.floor(math.log10(_slider_step(f))))
    while True:
        a, b = (_number(v, decimals) for v in (new, old))
        if a != b or decimals >= 6:
            break
        decimals += 1
    return f"{label} were {a}{unit if new is not None else ''} instead of {b}{unit if old is not None else ''}"


def _number(v, decimals: int) -> str:
    return "unknown" if v is None else f"{float(v):.{decimals}f}"


def _slider_step(f: FeatureSpec) -> float:
    if f.integer:
        return 1
    return _nice(max(f.plausible[1] - f.plausible[0], 1e-9) / SLIDER_STEPS, up=False)


def _search_grid(f: FeatureSpec, points: int) -> np.ndarray:
    """Multiples of a "nice" step (1, 2 or 5 × 10^k) inside the plausible range, at most about ``points``."""
    lo, hi = f.plausible
    step = _nice(max(hi - lo, 1e-9) / points, up=True)
    if f.integer:
        step = max(1.0, round(step))
    first = math.ceil(lo / step - 1e-9) * step
    count = int(math.floor((hi - first) / step + 1e-9)) + 1
    grid = np.array([float(f"{first + i * step:.12g}") for i in range(max(count, 0))])
    return np.round(grid) if f.integer else grid


def _nice(x: float, *, up: bool) -> float:
    k = math.floor(math.log10(x))
    m = x / 10 ** k
    steps = (1.0, 2.0, 5.0, 10.0)
    choice = next(s for s in steps if s >= m - 1e-9) if up else max(s for s in steps if s <= m + 1e-9)
    return float(f"{choice * 10 ** k:.12g}")


def _snap(x: float, step: float, lo: float, hi: float) -> float:
    return min(max(round(x / step) * step, lo), hi)


def _scalar(f: FeatureSpec, v):
    """A grid value in the canonical form of validated records."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if f.type == "binary" or (f.is_numeric and f.integer):
        return int(round(float(v)))
    if f.is_numeric:
        return float(v)
    return str(v)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=1e-12)


def _pair(v) -> tuple[float, float] | None:
    return None if v is None else (float(v[0]), float(v[1]))
