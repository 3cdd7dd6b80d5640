"""The headline: what the evidence supports for this patient, as one of a few explicit states.

Arm cohorts:

* ``clear`` — one arm's estimated risk is lower (or, for a good outcome, higher) than every other arm's,
  and every one of those differences has an ensemble interval that excludes zero;
* ``similar`` — the arms whose difference from the most favourable one has an interval that includes
  zero form ``best_set``: the evidence cannot separate them; the others are named with their differences;
* ``insufficient_evidence`` — intervals too wide or the patient outside the training data: the text gives
  no percentage, says why and what would help.

Dose cohort: ``estimate``, ``guideline_caution`` or ``insufficient_evidence``. ``guideline_caution``: a
high-severity guideline caveat says the dose should be chosen clinically for this patient (e.g. CPIC 2017 for
patients of African ancestry untested for CYP2C9 *5/*6/*8/*11); the guideline's advice comes first and the model's
number follows, labelled as not a substitute. The headline never says what to do beyond what a guideline says.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._format import estimate_interval, interval_decimals
from .._json import jsonable
from ..uncertainty.arm_comparison import PairwiseDifference

STATE_CLEAR = "clear"
STATE_SIMILAR = "similar"
STATE_ESTIMATE = "estimate"
STATE_INSUFFICIENT = "insufficient_evidence"
STATE_GUIDELINE = "guideline_caution"

HELP_ARMS = ("What would help: checking the entered values, the trial's published results for patients like "
             "this one, and the clinical team's judgement.")
HELP_DOSE = ("What would help: checking the entered values and dosing clinically, guided by INR monitoring.")


@dataclass(frozen=True)
class Summary:
    """The headline's state, its sentence, the options the evidence cannot separate, and why."""

    state: str
    text: str
    best_set: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    @property
    def insufficient(self) -> bool:
        return self.state == STATE_INSUFFICIENT

    def to_dict(self) -> dict:
        return jsonable({"state": self.state, "text": self.text, "best_set": list(self.best_set),
                         "reasons": list(self.reasons)})


def _lower_first(label: str) -> str:
    """'Recurrence within 5 years' -> 'recurrence within 5 years'; acronyms ('CD4 decline') stay."""
    word = label.split(" ", 1)[0]
    return label[:1].lower() + label[1:] if word[1:] == word[1:].lower() else label


def _pct(p: float) -> str:
    return f"{100 * p:.0f}%"


def _points(pair: PairwiseDifference) -> str:
    """``'1.6 points higher (95% interval +0.4 to +2.4 points)'``: the estimate and its interval written with the
    decimals that keep them distinguishable (:func:`core._format.interval_decimals`), never a "+0" bound."""
    lo, hi = pair.interval
    d = interval_decimals(100 * pair.difference, 100 * lo, 100 * hi)
    size = f"{abs(100 * pair.difference):.{d}f}"
    return f"{size} point{'' if size == '1' else 's'}"


def _names(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _interval_points(pair: PairwiseDifference) -> str:
    lo, hi = pair.interval
    _, low, high = estimate_interval(100 * pair.difference, 100 * lo, 100 * hi)
    return f"95% interval {low} to {high} points"


def arm_summary(outcome: str, arms: list[str], prob, pairwise: tuple[PairwiseDifference, ...], *,
                higher_is_worse: bool, insufficient: tuple[str, ...] = ()) -> Summary:
    """The headline for an arm cohort from the main model's risks, every pair's difference and the reasons
    (plain words, no numbers) why the evidence is insufficient, if any."""
    if insufficient:
        text = ("Insufficient evidence for a confident risk estimate for this patient under any arm: "
                f"{'; '.join(insufficient)}. No risk is shown. " + HELP_ARMS)
        return Summary(STATE_INSUFFICIENT, text, (), tuple(insufficient))
    risk = dict(zip(arms, (float(p) for p in prob)))
    best = sorted(arms, key=lambda a: risk[a] if higher_is_worse else -risk[a])[0]
    pair = {}
    for p in pairwise:
        pair[(p.a, p.b)], pair[(p.b, p.a)] = p, p.between(p.b, p.a)
    word = "risk" if higher_is_worse else "chance"
    if any(p.interval is None for p in pairwise):
        others = ", ".join(f"{a} {_pct(risk[a])}" for a in arms if a != best)
        return Summary(STATE_SIMILAR, f"Estimated {word} of {_lower_first(outcome)}: {best} {_pct(risk[best])}, {others}. "
                       "There is no ensemble to say whether these differences are clear, so none is called clear.",
                       tuple(arms))
    separable = [a for a in arms if a != best and pair[(best, a)].is_clear]
    similar = [best] + [a for a in arms if a != best and a not in separable]
    if len(similar) == 1:
        rest = "; ".join(f"{a} {_pct(risk[a])}, {_points(pair[(a, best)])} "
                         f"{'higher' if higher_is_worse else 'lower'} ({_interval_points(pair[(a, best)])})"
                         for a in separable)
        text = (f"The estimated {word} of {_lower_first(outcome)} is {'lowest' if higher_is_worse else 'highest'} with "
                f"{best} ({_pct(risk[best])}), and clearly so against every other arm: {rest}.")
        return Summary(STATE_CLEAR, text, (best,))
    values = [risk[a] for a in similar]
    span = f"{100 * min(values):.0f}–{_pct(max(values))}" if round(100 * min(values)) != round(100 * max(values)) \
        else _pct(values[0])
    if len(similar) == len(arms):
        text = (f"All {len(arms)} arms ({_names(sorted(similar, key=arms.index))}) have similar estimated {word}s of "
                f"{_lower_first(outcome)} ({span}): the evidence cannot separate them for this patient.")
        return Summary(STATE_SIMILAR, text, tuple(similar))
    ordered = sorted(similar, key=arms.index)
    rest = "; ".join(f"{a} ({_pct(risk[a])}) is {_points(pair[(a, best)])} "
                     f"{'higher' if higher_is_worse else 'lower'} than {best} ({_interval_points(pair[(a, best)])})"
                     for a in separable)
    text = (f"{_names(ordered)} have similar estimated {word}s of {_lower_first(outcome)} ({span}): the evidence cannot "
            f"separate them for this patient. {rest[0].upper()}{rest[1:]}.")
    return Summary(STATE_SIMILAR, text, tuple(ordered))


def dose_summary(dose: float, interval: tuple[float, float] | None, coverage: float | None, *,
                 insufficient: tuple[str, ...] = (), guideline: str | None = None) -> Summary:
    """The dose headline. ``guideline``: a guideline's advice that applies to this patient and comes first."""
    first = f"Guideline first: {guideline.rstrip('.')}. " if guideline else ""
    if insufficient or interval is None:
        reasons = tuple(insufficient) or ("no prediction interval could be computed for this patient's group",)
        text = (first + "Insufficient evidence for a model-estimated dose for this patient: " + "; ".join(reasons)
                + ". No dose is shown. " + HELP_DOSE)
        return Summary(STATE_INSUFFICIENT, text, (), reasons)
    lo, hi = interval
    level = f"{coverage:.0%} " if coverage is not None else ""
    if guideline:
        text = (first + f"The model's estimate, which is not a substitute for that advice: about {dose:.1f} mg/week "
                f"({level}prediction interval {lo:.1f}–{hi:.1f} mg/week), from a cohort that could not measure what "
                "the guideline names.")
        return Summary(STATE_GUIDELINE, text, (), (guideline,))
    text = (f"The model estimates a stable weekly dose of about {dose:.1f} mg/week for patients like this one "
            f"({level}prediction interval {lo:.1f}–{hi:.1f} mg/week).")
    return Summary(STATE_ESTIMATE, text)
