"""A training session's settings and cases as value objects: what the trainee sees, and what the debrief reveals.

A :class:`TrainingCase` holds the truth and whether its advice was manipulated; :meth:`TrainingCase.view`
is the only thing shown before the debrief and carries neither. :func:`display_cues` names what in the
display could have revealed wrong advice: a wide interval, a warning that applied, an out-of-distribution
flag, advice far from the baseline shown beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .sampling import TrainingSetupError
from .truth import DOSE, KINDS
from .._kinds import WarningKind

DECIDE_FIRST, ADVICE_FIRST = "decide_first", "advice_first"
CONDITIONS = (DECIDE_FIRST, ADVICE_FIRST)
WIDE_DOSE = 0.60      # an interval wider than 60% of its dose
WIDE_RISK = 0.20      # a risk interval wider than 20 points
FAR_FROM_BASELINE = 0.30  # advice more than 30% from the IWPC formula's dose


@dataclass(frozen=True)
class SessionSettings:
    """What an instructor chose: cohort, number of cases, share of manipulated advice, seed, condition, and
    whether explanations, intervals and warnings are shown with the advice."""

    cohort: str
    n_cases: int
    manipulated_share: float
    seed: int
    condition: str = DECIDE_FIRST
    show_explanation: bool = True
    show_interval: bool = True
    show_warnings: bool = True

    def __post_init__(self):
        if self.condition not in CONDITIONS:
            raise TrainingSetupError(f"The 'condition' setting must be one of {', '.join(CONDITIONS)}. "
                                     f"Got {self.condition!r} instead.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise TrainingSetupError(f"The 'seed' setting must be an integer in the range [0, 4294967295]. "
                                     f"Got {self.seed!r} instead.")

    def to_dict(self) -> dict:
        return {"cohort": self.cohort, "n_cases": self.n_cases, "manipulated_share": self.manipulated_share,
                "seed": self.seed, "condition": self.condition, "show_explanation": self.show_explanation,
                "show_interval": self.show_interval, "show_warnings": self.show_warnings}


@dataclass(frozen=True)
class TrainingCase:
    """One case of a session. ``advice`` is what is shown (mg/week, or a 0-1 risk under ``arm``);
    ``model_advice`` the model's own; ``interval`` the shown interval (moved with manipulated advice, so the
    display stays self-consistent); ``baseline`` the IWPC formula's dose (doses only)."""

    case: int
    kind: str
    patient_id: str
    inputs: Mapping
    truth: float
    model_advice: float
    advice: float
    manipulated: bool
    arm: str | None = None
    interval: tuple[float, float] | None = None
    baseline: float | None = None
    warnings: tuple[Mapping, ...] = ()
    explanation: tuple[str, ...] = ()
    out_of_distribution: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}. Got {self.kind!r} instead.")

    def view(self, settings: SessionSettings, *, with_advice: bool) -> dict:
        """What the trainee sees: the patient's inputs, then (``with_advice``) the advice and what the
        settings show with it. Never the truth, the model's own advice, nor the manipulation flag."""
        out: dict = {"case": self.case, "kind": self.kind, "inputs": dict(self.inputs)}
        if self.arm is not None:
            out["arm"] = self.arm
        if not with_advice:
            return out
        out["advice"] = self.advice
        out["unit"] = "mg/week" if self.kind == DOSE else "risk (0-1)"
        if settings.show_interval:
            out["interval"] = None if self.interval is None else list(self.interval)
            if self.baseline is not None:
                out["baseline"] = {"name": "IWPC pharmacogenetic formula", "mg_per_week": self.baseline}
        if settings.show_warnings:
            out["warnings"] = [dict(w) for w in self.warnings]
            out["out_of_distribution"] = self.out_of_distribution
        if settings.show_explanation:
            out["explanation"] = list(self.explanation)
        return out

    def to_dict(self) -> dict:
        return {"case": self.case, "kind": self.kind, "patient_id": self.patient_id, "inputs": dict(self.inputs),
                "arm": self.arm, "truth": self.truth, "model_advice": self.model_advice, "advice": self.advice,
                "manipulated": self.manipulated, "interval": None if self.interval is None else list(self.interval),
                "baseline": self.baseline, "warnings": [dict(w) for w in self.warnings],
                "explanation": list(self.explanation), "out_of_distribution": self.out_of_distribution}

    @classmethod
    def from_dict(cls, d: Mapping) -> "TrainingCase":
        return cls(case=int(d["case"]), kind=d["kind"], patient_id=str(d["patient_id"]), inputs=dict(d["inputs"]),
                   truth=float(d["truth"]), model_advice=float(d["model_advice"]), advice=float(d["advice"]),
                   manipulated=bool(d["manipulated"]), arm=d.get("arm"),
                   interval=None if d.get("interval") is None else tuple(d["interval"]),
                   baseline=d.get("baseline"), warnings=tuple(d.get("warnings") or ()),
                   explanation=tuple(d.get("explanation") or ()), out_of_distribution=bool(d.get("out_of_distribution")))


def display_cues(case: TrainingCase, settings: SessionSettings) -> tuple[str, ...]:
    """Plain sentences naming what in the display (as the settings showed it) could have revealed an error."""
    cues = []
    if settings.show_interval and case.interval is not None:
        lo, hi = case.interval
        if case.kind == DOSE and case.advice > 0 and (hi - lo) > WIDE_DOSE * case.advice:
            cues.append(f"The interval was wide: {lo:.0f} to {hi:.0f} mg/week around {case.advice:.0f}.")
        elif case.kind != DOSE and (hi - lo) > WIDE_RISK:
            cues.append(f"The interval was wide: {100 * lo:.0f}% to {100 * hi:.0f}%.")
    if settings.show_interval and case.baseline is not None and case.baseline > 0 \
            and abs(case.advice - case.baseline) > FAR_FROM_BASELINE * case.baseline:
        cues.append(f"The advice ({case.advice:.0f} mg/week) was far from the IWPC formula's dose shown beside it "
                    f"({case.baseline:.0f} mg/week).")
    if settings.show_warnings:
        if case.out_of_distribution:
            cues.append("An out-of-distribution flag said this patient is unlike the training data.")
        for w in case.warnings:
            if w.get("severity") in ("high", "medium") and w.get("kind") != WarningKind.OUT_OF_DISTRIBUTION:
                cues.append(f"A {w.get('severity')} warning applied: {w.get('message', w.get('kind'))}")
    return tuple(dict.fromkeys(cues))


@dataclass(frozen=True)
class DebriefCase:
    """One case revealed: what was shown, the truth, whether the advice was manipulated, the answers, and
    the cues that could have revealed an error."""

    case: int
    advice: float
    model_advice: float
    manipulated: bool
    truth: float
    initial: float | None
    final: float | None
    initial_correct: bool | None
    final_correct: bool | None
    advice_correct: bool
    cues: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"case": self.case, "advice": self.advice, "model_advice": self.model_advice,
                "manipulated": self.manipulated, "truth": self.truth, "initial": self.initial, "final": self.final,
                "initial_correct": self.initial_correct, "final_correct": self.final_correct,
                "advice_correct": self.advice_correct, "cues": list(self.cues)}
