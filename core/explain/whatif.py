"""What if: the patient's report before and after some changes: deltas, intervals, values outside training.

:func:`what_if` returns a frozen :class:`WhatIfResult` with ``to_dict()``; the dashboard only lays it out: the
deltas per arm or in the dose, whether the favoured arm changes, the intervals, and the changed values that leave
the range the training data covers. Its neighbours: :mod:`.sliders` (the inputs), :mod:`.counterfactual` (the
smallest change that alters the comparison) and :mod:`.effect_curves` (the prediction along one feature).

These are statements about the model, phrased as options: only the treatment (if anything) was
randomized, so a feature's link to the prediction is an association, not a tested effect of changing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .._json import jsonable
from ..modeling.bundle import ModelBundle
from ._common import CAVEAT, FeatureChange, OutsideTraining, _change, _outside_training, _same

MSG_WHATIF_NONE = "No feature was changed: these are the patient's own predictions."
MSG_WHATIF_ARM_CHANGED = "The model's favoured arm would change from {before} to {after} if {changes}."
MSG_WHATIF_ARM_SAME = ("The model's favoured arm would stay {arm} (estimated probability of the outcome {p0:.0%} → "
                       "{p1:.0%}) if {changes}.")
MSG_WHATIF_DOSE = ("The model's predicted dose would be {after:.1f} instead of {before:.1f} mg/week ({delta:+.1f}) "
                   "if {changes}.")


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


def what_if(bundle: ModelBundle, record: Mapping[str, Any], changes: Mapping[str, Any]) -> WhatIfResult:
    """The patient's report with ``changes`` (feature → new value) applied, beside the original.

    Any feature may be changed (the page decides which are unlocked); ``FeatureChange.actionable`` says
    whether it is one that can change. An invalid value raises ``PatientValidationError``.
    """
    spec = bundle.spec
    from ..reporting.fast_report import ReportEngine  # reporting builds on explain: import at use

    engine = ReportEngine.of(bundle)  # the numeric fast path: predict_patient's report (tests/test_fast_reports.py)
    before_report = engine.report(dict(record))
    after_report = engine.report({**dict(record), **dict(changes)})
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


def _pair(v) -> tuple[float, float] | None:
    return None if v is None else (float(v[0]), float(v[1]))
