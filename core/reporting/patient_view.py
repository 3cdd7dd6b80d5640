"""The patient-facing view, in the style of PREDICT: out of 100 people like you, how many would have the outcome
with each option, as one 10x10 icon array per option beside plain words.

It is a conversation aid that a clinician goes through with the patient, never a document to hand over alone,
and it says so. Arm cohorts only: a weekly dose is not a chance of something happening, so the dose cohort gets
a plain sentence saying no such picture applies. Insufficient evidence: no numbers and no icons, the words only.
Counts are the report's own risks rounded to whole people (``round(100 * risk)``), as on the Patient page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

HEADING = "Out of 100 people like you"
AID = ("A conversation aid: your clinician goes through this page with you. It describes people like you in the "
       "study the model learned from; it is not a promise about what will happen to you, and it is not advice "
       "on its own.")
NO_DOSE_VIEW = ("This model suggests a weekly dose of a medicine, not the chance of something happening, so there is "
                "no \"out of 100 people\" picture for it. Your clinician will talk you through the dose and how it "
                "will be checked with blood tests.")
NO_NUMBERS = ("For someone like you, the model cannot give numbers it can stand behind, so this page shows none. "
              "Your clinician will talk you through what is known and what would help.")
ROUNDING = ("Each circle is one person. A filled circle is a person who would have {what}; an empty circle, a "
            "person who would not. The numbers are estimates, rounded to whole people.")
MSG_PROBABILITY = "The risk of {option!r} must be a probability in the range [0, 1]. Got {got!r} instead."

FILLED, EMPTY = "#D55E00", "#0072B2"  # vermillion and blue (Okabe–Ito), as the dashboard's icon arrays


@dataclass(frozen=True)
class IconOption:
    """One option's array: how many of 100 icons are filled and the sentence that says it."""

    option: str
    filled: int
    words: str


@dataclass(frozen=True)
class PatientView:
    """What the view shows: a heading, plain notes, and one :class:`IconOption` per option (none when it does
    not apply or when the evidence is insufficient)."""

    heading: str
    notes: tuple[str, ...]
    options: tuple[IconOption, ...] = ()
    aid: str = AID


def icon_count(risk, *, option: str = "") -> int:
    """Filled icons of 100 for a risk in [0, 1]: ``round(100 * risk)``."""
    if isinstance(risk, bool) or not isinstance(risk, (int, float)) or not 0 <= risk <= 1:
        raise ValueError(MSG_PROBABILITY.format(option=option, got=risk))
    return int(round(100 * risk))


def _lower_first(label: str) -> str:
    word = label.split(" ", 1)[0]
    return label[:1].lower() + label[1:] if word[1:] == word[1:].lower() else label


def _words(option: str, k: int, risk: float, what: str) -> str:
    many = "fewer than 1" if k == 0 and risk > 0 else f"about {k}"
    return f"With {option}: {many} out of 100 people like you would have {what}, and about {100 - k} would not."


def patient_view(report: Mapping) -> PatientView:
    """The view of ``report`` (a ``PatientReport.to_dict()``)."""
    summary = report.get("summary") or {}
    if summary.get("state") == "insufficient_evidence":
        return PatientView(HEADING, (NO_NUMBERS,))
    arms = report.get("arms") or []
    if not arms:
        return PatientView(HEADING, (NO_DOSE_VIEW,))
    what = _lower_first((report.get("outcome") or {}).get("label") or "the outcome")
    options = []
    for a in arms:
        k = icon_count(a["probability"], option=a["arm"])
        options.append(IconOption(a["arm"], k, _words(a["arm"], k, a["probability"], what)))
    notes = [ROUNDING.format(what=what)]
    together = list(summary.get("best_set") or ())
    if summary.get("state") == "similar" and len(together) > 1:
        names = ", ".join(together[:-1]) + " and " + together[-1]
        notes.append(f"For someone like you, the study cannot tell {names} apart: the differences between them "
                     "may be chance.")
    return PatientView(HEADING, tuple(notes), tuple(options))


def icon_svg(option: IconOption, *, size: int = 14) -> str:
    """The option's 10x10 array as inline SVG (no script, no external reference): filled circles first, row by
    row from the top left; each circle carries ``class="icon filled"`` or ``class="icon empty"``."""
    r, step = size / 2 - 1.5, size
    cells = []
    for i in range(100):
        cx, cy = (i % 10) * step + step / 2, (i // 10) * step + step / 2
        if i < option.filled:
            cells.append(f'<circle class="icon filled" cx="{cx:g}" cy="{cy:g}" r="{r:g}" fill="{FILLED}"/>')
        else:
            cells.append(f'<circle class="icon empty" cx="{cx:g}" cy="{cy:g}" r="{r:g}" fill="none" '
                         f'stroke="{EMPTY}" stroke-width="1.5"/>')
    label = escape(option.words)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" width="{10 * step}" '
            f'height="{10 * step}" viewBox="0 0 {10 * step} {10 * step}"><title>{label}</title>{"".join(cells)}</svg>')
