"""A trainee's answers as they were typed: read strictly, checked, and shown back as the trainee's own.

* The first answer and the confidence start empty: nothing anchors the trainee (no fixed dose, no 50%), and an
  empty answer cannot be committed.
* The final answer starts from the trainee's own first answer, labelled as such, so keeping it records exactly
  that answer; without a first answer (advice-first condition) it starts empty.
* Typed text is read by :func:`core.data.numbers.parse_number` ("40,5" is 40.5, never 405); a risk is typed
  in percent and stored as a share (0-1).
"""

from __future__ import annotations

from ..data.numbers import NumberTextError, number_text, parse_number
from .._errors import EquipoiseError
from .truth import DOSE

DOSE_LIMITS = (1.0, 200.0)   # mg/week a trainee may propose
INITIAL, FINAL = "initial", "final"
WORDS = {INITIAL: "Your first answer", FINAL: "Your final answer"}
MSG_EMPTY = "{what} is empty: type {expected} before committing it."
MSG_RANGE = "{what} must be {expected}. Got {text!r} instead."
MSG_CONFIDENCE_EMPTY = "How sure you are is empty: type a number from 0 (guessing) to 100 (certain) first."
MSG_CONFIDENCE = "How sure you are must be a number from 0 (guessing) to 100 (certain). Got {text!r} instead."


class AnswerError(EquipoiseError, ValueError):
    """A trainee's typed answer that is empty, not a number, or outside what may be answered."""


def unit(kind: str) -> str:
    """What the trainee types: ``mg/week``, or the risk of the outcome in percent."""
    return "mg/week" if kind == DOSE else "risk of the outcome under this treatment, %"


def _expected(kind: str) -> str:
    lo, hi = DOSE_LIMITS
    return f"a dose from {lo:g} to {hi:g} mg/week" if kind == DOSE else "a risk from 0 to 100%"


def parse_answer(kind: str, text: str, *, stage: str) -> float:
    """The answer ``text`` holds, as stored: mg/week, or a risk as a share 0-1 (typed in percent)."""
    what = WORDS[stage]
    try:
        value = parse_number(str(text or ""), what=f"{what} ({unit(kind)})")
    except NumberTextError as exc:
        raise AnswerError(str(exc)) from None
    if value is None:
        raise AnswerError(MSG_EMPTY.format(what=what, expected=_expected(kind)))
    lo, hi = DOSE_LIMITS if kind == DOSE else (0.0, 100.0)
    if not lo <= value <= hi:
        raise AnswerError(MSG_RANGE.format(what=what, expected=_expected(kind), text=str(text).strip()))
    return float(value) if kind == DOSE else value / 100


def parse_confidence(text: str) -> float:
    """How sure the trainee is, 0-100, as typed."""
    try:
        value = parse_number(str(text or ""), what="How sure you are (0 to 100)")
    except NumberTextError as exc:
        raise AnswerError(str(exc)) from None
    if value is None:
        raise AnswerError(MSG_CONFIDENCE_EMPTY)
    if not 0 <= value <= 100:
        raise AnswerError(MSG_CONFIDENCE.format(text=str(text).strip()))
    return float(value)


def answer_text(kind: str, value: float | None) -> str:
    """A stored answer as the trainee would type it back: ``40`` (mg/week) or ``30`` (%); ``""`` for none."""
    if value is None:
        return ""
    return number_text(value) if kind == DOSE else f"{100 * value:.10g}"  # exact: read back, it is the same answer


def shown_answer(kind: str, value: float) -> str:
    """A stored answer in words: ``40 mg/week`` or ``30%``."""
    return f"{answer_text(kind, value)} mg/week" if kind == DOSE else f"{answer_text(kind, value)}%"


def final_answer_start(kind: str, first: float | None) -> tuple[str, str]:
    """What the final-answer box starts with and its label: the trainee's own first answer, said to be theirs
    (``("40", "Your final answer (mg/week); it starts at your first answer: 40 mg/week")``), else empty."""
    label = f"{WORDS[FINAL]} ({unit(kind)})"
    if first is None:
        return "", label
    return answer_text(kind, first), f"{label}; it starts at your first answer: {shown_answer(kind, first)}"
