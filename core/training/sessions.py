"""A training session's value objects and the rules of its order: consent first; in the decide-first condition
the initial answer and confidence before the advice; the final answer after it; every answer once.

The store keeps the rows (:mod:`core.training.repository`); :mod:`core.service.training` applies these rules
to them and hands what is shown to the observers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._errors import EquipoiseError
from ..store.training_tables import ADVICE, CONSENT, FINAL, INITIAL  # the stages of a case, in order  # noqa: F401
from .answers import DOSE_LIMITS
from .cases import ADVICE_FIRST, DebriefCase, SessionSettings, TrainingCase
from .scores import CaseRow, TrainingScores
from .truth import DOSE, DOSE_TOLERANCE, RISK_THRESHOLD


CONSENT_TEXT = ("In this training session some of the advice is deliberately wrong, and you will not be told "
                "which until the debrief. Your answers, confidence and timing are recorded in the store and the "
                "audit log under your name. The cases are real (de-identified) patients from a held-out test "
                "split; nothing you answer reaches any patient's care.")
MSG_NO_CONSENT = "{trainee!r} has not consented to session {session!r} yet: show the consent text first."
MSG_DECIDE_FIRST = ("Decide first: commit your initial answer and confidence for case {case} before its advice is "
                    "shown.")
MSG_ADVICE_FIRST = "Session {session!r} runs the advice-first condition: it takes no initial answer."
MSG_NO_ADVICE_YET = "Case {case}'s advice has not been shown to {trainee!r} yet: the final answer comes after it."


class TrainingError(EquipoiseError, ValueError):
    """A training action out of order, for an unknown session or case, or with a bad answer."""


@dataclass(frozen=True)
class TrainingSession:
    """A created session: its id, settings, kind (dose or risk) and bundle."""

    id: str
    settings: SessionSettings
    kind: str
    bundle_id: str
    created: str
    created_by: str

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "bundle_id": self.bundle_id, "created": self.created,
                "created_by": self.created_by, **self.settings.to_dict()}


@dataclass(frozen=True)
class TrainingReport:
    """Scores of a session (or of one trainee in it) with the per-case rows they were computed from."""

    session: str
    trainee: str | None
    scores: TrainingScores
    rows: tuple[CaseRow, ...]
    by_trainee: tuple[tuple[str, TrainingScores], ...] = ()  # a whole session's report: each trainee's scores

    def to_dict(self) -> dict:
        out = {"session": self.session, "trainee": self.trainee, **self.scores.to_dict(),
               "rows": [r.to_dict() for r in self.rows]}
        if self.trainee is None:
            out["trainees"] = {name: scores.to_dict() for name, scores in self.by_trainee}
        return out


@dataclass(frozen=True)
class Debrief:
    """What the debrief reveals to one trainee: each case's truth, manipulation and cues, and the scores."""

    session: str
    trainee: str
    cases: tuple[DebriefCase, ...]
    scores: TrainingScores

    def to_dict(self) -> dict:
        return {"session": self.session, "trainee": self.trainee, "cases": [c.to_dict() for c in self.cases],
                "scores": self.scores.to_dict()}

    def rows(self) -> list[dict]:
        """One row per case as the debrief table shows it: answers in mg/week or %, the truth in words."""
        dose = self.scores.kind == DOSE
        shown = (lambda x: "" if x is None else f"{x:.1f}") if dose else (lambda x: "" if x is None else f"{100 * x:.0f}%")
        truth = (lambda y: f"{y:.1f} mg/week") if dose else (lambda y: "event" if y >= RISK_THRESHOLD else "no event")
        return [{"case": c.case, "your first answer": shown(c.initial), "advice shown": shown(c.advice),
                 "deliberately wrong": "yes" if c.manipulated else "no", "truth": truth(c.truth),
                 "your final answer": shown(c.final), "final correct": "yes" if c.final_correct else "no"}
                for c in self.cases]

    @property
    def correctness_rule(self) -> str:
        """What "correct" means for this session's kind, in words, from the rule's own constants."""
        if self.scores.kind == DOSE:
            return f"Correct: a dose within {DOSE_TOLERANCE:.0%} of the patient's actual stable dose."
        return (f"Correct: a risk of {RISK_THRESHOLD:.0%} or more when the event happened by the horizon, below "
                f"{RISK_THRESHOLD:.0%} when it did not (patients censored before the horizon are never used).")


def check_trainee(trainee) -> str:
    if not isinstance(trainee, str) or not trainee.strip() or len(trainee) > 256:
        raise TrainingError(f"The 'trainee' must be a non-empty name of at most 256 characters. Got {trainee!r}.")
    return trainee.strip()


def check_value(kind: str, value, what: str) -> float:
    """An answer in range: a dose in mg/week within :data:`DOSE_LIMITS`, or a risk from 0 to 1."""
    lo, hi, unit = (*DOSE_LIMITS, " mg/week") if kind == DOSE else (0.0, 1.0, " (a risk from 0 to 1)")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not lo <= value <= hi:
        raise TrainingError(f"The '{what}' answer must be a number in the range [{lo:g}, {hi:g}]{unit}. Got {value!r} instead.")
    return float(value)


def check_confidence(confidence) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 100:
        raise TrainingError(f"The 'confidence' must be a number in the range [0, 100] %. Got {confidence!r} instead.")
    return float(confidence)


def require_consent(session_id: str, trainee: str, answers: dict) -> None:
    if (trainee, 0, CONSENT) not in answers:
        raise TrainingError(MSG_NO_CONSENT.format(trainee=trainee, session=session_id))


def may_release_advice(settings: SessionSettings, trainee: str, case: int, answers: dict) -> bool:
    """Decide first: the advice of a case is released only after its initial answer (not in advice-first)."""
    return settings.condition == ADVICE_FIRST or (trainee, case, INITIAL) in answers


def first_answer(answers: dict, trainee: str, case_no: int) -> float | None:
    """The trainee's own committed first answer to a case (None before it, or in the advice-first condition)."""
    row = answers.get((trainee, case_no, INITIAL))
    return None if row is None else row.value


def case_rows(cases: list[TrainingCase], answers: dict, trainee: str | None) -> list[CaseRow]:
    """One row per finished case (a case counts once its final answer is in), per trainee (or the one given)."""
    trainees = sorted({t for t, _, _ in answers}) if trainee is None else [trainee]
    rows = []
    for t in trainees:
        for c in cases:
            final = answers.get((t, c.case, FINAL))
            if final is None:
                continue
            initial = answers.get((t, c.case, INITIAL))
            rows.append(CaseRow(case=c.case, initial=initial and initial.value, advice=c.advice,
                                advice_manipulated=c.manipulated, final=final.value, truth=c.truth,
                                confidence=initial and initial.confidence, trainee=t if trainee is None else None))
    return rows
