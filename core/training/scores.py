"""Reliance scores of a trainee (or a whole session) from the per-case rows, with the issue's exact definitions.

With h0 the initial answer, a the advice shown, h1 the final answer, y the truth, ``ok`` and ``same`` from
:mod:`core.training.truth`:

- accuracy before advice = mean ok(h0); after advice = mean ok(h1); of the advice = mean ok(a);
- RAIR = #{not ok(h0), ok(a), same(h1, a)} / #{not ok(h0), ok(a)} (Schemmer et al., IUI 2023);
- RSR = #{ok(h0), not ok(a), same(h1, h0)} / #{ok(h0), not ok(a)};
- over-reliance = #{manipulated, ok(h0), not ok(h1)} / #{manipulated};
- weight of advice = mean over cases with a != h0 of clip((h1 - h0) / (a - h0), 0, 1) (doses; also given
  for risks);
- Brier score (risks) of h0, h1 and a = mean (x - y)^2;
- confidence, with c the confidence (0-100) given with h0, read as the probability that h0 is right:
  overconfidence = mean (c/100 - ok(h0)) (calibration in the large: above 0, surer than right), and the
  confidence Brier score = mean (c/100 - ok(h0))^2 (0 for certainty that is always right; 0.25 for always 50).

Only cases with the answers a score needs are counted (an advice-first case has no h0). Each score carries
its n (the denominator); n = 0 is *not available* (value None, never 0), n < 10 is *insufficient evidence*
(the value is kept for the record; pages show the counts, not a rate). A trainee's proportions have 95% Wilson
intervals, means a normal-approximation 95% interval (n >= 2).

A session's scores (:func:`session_scores`) are the mean over its trainees of each trainee's score, so every
trainee counts once however many cases they finished; cases of one trainee are not independent of each other,
so the 95% interval comes from a cluster bootstrap that resamples trainees (``N_CLUSTER_BOOT`` resamples,
percentile), given from two trainees on. Its n is the number of cases behind it, ``trainees`` the number of
trainees.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .truth import DOSE, RISK, is_correct, is_same

MIN_N = 10
Z95 = 1.959963984540054
NOT_AVAILABLE, INSUFFICIENT, ESTIMATE = "not_available", "insufficient_evidence", "estimate"
PROPORTIONS = ("accuracy_initial", "accuracy_final", "accuracy_advice", "rair", "rsr", "over_reliance")
SCORE_NAMES = ("accuracy_initial", "accuracy_final", "accuracy_advice", "rair", "rsr", "over_reliance",
               "weight_of_advice", "overconfidence", "confidence_brier", "brier_initial", "brier_final",
               "brier_advice")


@dataclass(frozen=True)
class CaseRow:
    """One answered case: its id, the answers (None when not given), the advice shown, whether it was
    manipulated, and the truth."""

    case: int
    initial: float | None
    advice: float
    advice_manipulated: bool
    final: float | None
    truth: float
    confidence: float | None = None
    trainee: str | None = None

    def to_dict(self) -> dict:
        out = {"case": self.case, "initial": self.initial, "confidence": self.confidence, "advice": self.advice,
               "advice_manipulated": self.advice_manipulated, "final": self.final, "truth": self.truth}
        if self.trainee is not None:
            out["trainee"] = self.trainee
        return out


@dataclass(frozen=True)
class Score:
    """One score: its value (None when not available), its n, the numerator for a proportion, a 95%
    interval (None when it cannot be given) and its state."""

    name: str
    value: float | None
    n: int
    numerator: int | None = None
    interval: tuple[float, float] | None = None
    trainees: int | None = None  # a session's score: how many trainees it averages

    @property
    def state(self) -> str:
        return NOT_AVAILABLE if self.n == 0 else INSUFFICIENT if self.n < MIN_N else ESTIMATE

    @property
    def available(self) -> bool:
        return self.n > 0

    def to_dict(self) -> dict:
        out = {"value": self.value, "n": self.n, "numerator": self.numerator,
               "interval": None if self.interval is None else list(self.interval), "state": self.state}
        if self.trainees is not None:
            out["trainees"] = self.trainees
        return out


@dataclass(frozen=True)
class TrainingScores:
    """Every score of a set of rows (one trainee, or a whole session), plus the counts they rest on."""

    kind: str
    n_cases: int
    n_manipulated: int
    scores: tuple[Score, ...]

    def __getitem__(self, name: str) -> Score:
        for s in self.scores:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "n_cases": self.n_cases, "n_manipulated": self.n_manipulated,
                **{s.name: s.to_dict() for s in self.scores}}


def wilson_interval(k: int, n: int) -> tuple[float, float] | None:
    """The 95% Wilson score interval for k successes out of n (None for n = 0)."""
    if n == 0:
        return None
    p, z2 = k / n, Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))  # exact at k = 0 and k = n


def proportion(name: str, flags: Sequence[bool]) -> Score:
    n, k = len(flags), sum(bool(f) for f in flags)
    return Score(name, k / n if n else None, n, k, wilson_interval(k, n))


def mean_score(name: str, values: Sequence[float]) -> Score:
    n = len(values)
    if n == 0:
        return Score(name, None, 0)
    m = sum(values) / n
    if n < 2:
        return Score(name, m, n)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1))
    half = Z95 * sd / math.sqrt(n)
    return Score(name, m, n, None, (m - half, m + half))


def score_rows(kind: str, rows: Iterable[CaseRow]) -> TrainingScores:
    """The scores of ``rows`` (see the module docstring for each definition and its n)."""
    rows = list(rows)
    ok = lambda x, r: is_correct(kind, x, r.truth)  # noqa: E731
    with0 = [r for r in rows if r.initial is not None]
    with1 = [r for r in rows if r.final is not None]
    both = [r for r in with0 if r.final is not None]
    rair = [r for r in both if not ok(r.initial, r) and ok(r.advice, r)]
    rsr = [r for r in both if ok(r.initial, r) and not ok(r.advice, r)]
    manipulated = [r for r in both if r.advice_manipulated]
    moved = [r for r in both if r.advice != r.initial]
    sure = [r for r in with0 if r.confidence is not None]
    scores = [
        proportion("accuracy_initial", [ok(r.initial, r) for r in with0]),
        proportion("accuracy_final", [ok(r.final, r) for r in with1]),
        proportion("accuracy_advice", [ok(r.advice, r) for r in rows]),
        proportion("rair", [is_same(kind, r.final, r.advice) for r in rair]),
        proportion("rsr", [is_same(kind, r.final, r.initial) for r in rsr]),
        proportion("over_reliance", [ok(r.initial, r) and not ok(r.final, r) for r in manipulated]),
        mean_score("weight_of_advice", [min(1.0, max(0.0, (r.final - r.initial) / (r.advice - r.initial)))
                                        for r in moved]),
        mean_score("overconfidence", [r.confidence / 100 - ok(r.initial, r) for r in sure]),
        mean_score("confidence_brier", [(r.confidence / 100 - ok(r.initial, r)) ** 2 for r in sure]),
    ]
    if kind == RISK:
        scores += [mean_score("brier_initial", [(r.initial - r.truth) ** 2 for r in with0]),
                   mean_score("brier_final", [(r.final - r.truth) ** 2 for r in with1]),
                   mean_score("brier_advice", [(r.advice - r.truth) ** 2 for r in rows])]
    elif kind != DOSE:
        raise ValueError(f"kind must be 'dose' or 'risk'. Got {kind!r} instead.")
    return TrainingScores(kind, len(rows), sum(r.advice_manipulated for r in rows), tuple(scores))


N_CLUSTER_BOOT = 2000


def session_scores(kind: str, rows: Iterable[CaseRow], *, seed: int = 0) -> TrainingScores:
    """A session's scores: the mean over trainees of each trainee's score, with a cluster-bootstrap interval
    (see the module docstring). Rows without a trainee count as one trainee."""
    import numpy as np

    rows = list(rows)
    names = sorted({r.trainee or "" for r in rows})
    per = [score_rows(kind, [r for r in rows if (r.trainee or "") == t]) for t in names]
    pooled = score_rows(kind, rows)
    rng = np.random.default_rng(seed)
    out = []
    for template in pooled.scores:
        values = np.array([p[template.name].value for p in per if p[template.name].value is not None], dtype=float)
        n_cases = sum(p[template.name].n for p in per)
        if len(values) == 0:
            out.append(Score(template.name, None, 0, trainees=0))
            continue
        interval = None
        if len(values) >= 2:
            means = values[rng.integers(0, len(values), (N_CLUSTER_BOOT, len(values)))].mean(axis=1)
            lo, hi = np.percentile(means, [2.5, 97.5])
            interval = (float(lo), float(hi))
        out.append(Score(template.name, float(values.mean()), n_cases, None, interval, trainees=len(values)))
    return TrainingScores(kind, len(rows), sum(r.advice_manipulated for r in rows), tuple(out))


SCORE_LABELS = {
    "accuracy_initial": "Accuracy before the advice",
    "accuracy_final": "Accuracy after the advice",
    "accuracy_advice": "Accuracy of the advice shown",
    "rair": "Switched to correct advice when you were wrong (RAIR)",
    "rsr": "Kept your correct answer against wrong advice (RSR)",
    "over_reliance": "Right first, wrong after manipulated advice (over-reliance)",
    "weight_of_advice": "Weight of advice (0 = ignored it, 1 = took it)",
    "overconfidence": "Confidence minus accuracy before the advice (0 = calibrated, above 0 = overconfident)",
    "confidence_brier": "Brier score of your confidence before the advice (lower is better; always 50% gives 0.25)",
    "brier_initial": "Brier score before the advice (lower is better)",
    "brier_final": "Brier score after the advice (lower is better)",
    "brier_advice": "Brier score of the advice shown",
}


def describe(score: Score) -> str:
    """A score in words, with its n: a rate and its interval, the counts when there are too few cases, or
    'not available' when no case counts."""
    if score.n == 0:
        return "not available: no case counts for this score"
    if score.state == INSUFFICIENT:
        if score.numerator is not None:
            return f"too few cases to give a rate: {score.numerator} of {score.n}"
        return f"too few cases to give a number (n={score.n})"
    if score.trainees is not None and score.name in PROPORTIONS:
        interval = "" if score.interval is None else \
            f" (95% interval {100 * score.interval[0]:.0f}% to {100 * score.interval[1]:.0f}%)"
        return f"{100 * score.value:.0f}%{interval}: mean over {score.trainees} trainee(s), {score.n} cases"
    if score.numerator is not None:
        lo, hi = score.interval
        return f"{100 * score.value:.0f}% (95% interval {100 * lo:.0f}% to {100 * hi:.0f}%), {score.numerator} of {score.n}"
    interval = "" if score.interval is None else f" (95% interval {score.interval[0]:.2f} to {score.interval[1]:.2f})"
    return f"{score.value:.2f}{interval}, n={score.n}"
