"""Which patients a training session uses, and which of their advice is deliberately wrong.

Cases come from the bundle's held-out test split only: :func:`sample_cases` is given the test split's
identifiers and refuses any other patient, so a trainee never practises on a patient the model learnt from.

A seeded share of the cases get *manipulated* advice that is wrong by construction:

- dose: the model's dose moved up or down by 35-60% (the direction that lands outside 20% of the truth;
  one always does, since a move of at least 35% cannot stay inside a window of +/-20% both ways), kept within
  [5, 140] mg/week and rounded to 0.5 mg;
- risk: moved to the wrong side of 50%, by at least the model's own distance from 50% and at least 10 to 30
  points (seeded), kept within [2%, 98%].

The same seed always gives the same cases, the same manipulated cases and the same manipulated values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from .._errors import EquipoiseError
from .truth import DOSE, DOSE_TOLERANCE, RISK, RISK_THRESHOLD, CaseTruth, is_correct

DOSE_SHIFT = (0.35, 0.60)       # relative move of a manipulated dose
DOSE_RANGE = (5.0, 140.0)       # mg/week a manipulated dose stays within
RISK_MARGIN = (0.10, 0.30)      # minimum distance from 50% of a manipulated risk
RISK_RANGE = (0.02, 0.98)
MAX_CASES = 200


class TrainingSetupError(EquipoiseError, ValueError):
    """A training session asked for something impossible (too many cases, a share outside [0, 1], ...)."""


def sample_cases(truths: Iterable[CaseTruth], *, test_ids: Iterable[str], n_cases: int, seed: int) -> list[CaseTruth]:
    """``n_cases`` patients drawn without replacement (seeded) from those in ``test_ids`` with a known truth.

    Patients outside ``test_ids`` (the training split) are never drawn."""
    test = {str(t) for t in test_ids}
    pool = sorted((t for t in truths if t.patient_id in test), key=lambda t: t.patient_id)
    if isinstance(n_cases, bool) or not isinstance(n_cases, int) or not 1 <= n_cases <= min(MAX_CASES, len(pool)):
        raise TrainingSetupError(f"The 'cases' setting must be an integer in the range [1, {min(MAX_CASES, len(pool))}] "
                                 f"(held-out test patients with a known outcome). Got {n_cases!r} instead.")
    rng = np.random.default_rng([int(seed), 1])
    picked = rng.choice(len(pool), size=n_cases, replace=False)
    return [pool[i] for i in picked]


def manipulated_positions(n_cases: int, share: float, *, seed: int) -> frozenset[int]:
    """The 0-based positions of the ``round(share * n_cases)`` cases whose advice is made wrong (seeded)."""
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 <= float(share) <= 1.0:
        raise TrainingSetupError(f"The 'manipulated share' setting must be a number in the range [0, 1] (a share "
                                 f"of the cases). Got {share!r} instead.")
    k = int(math.floor(float(share) * n_cases + 0.5))
    rng = np.random.default_rng([int(seed), 2])
    return frozenset(int(i) for i in rng.choice(n_cases, size=k, replace=False))


def manipulate(kind: str, advice: float, truth: float, rng: np.random.Generator) -> float:
    """Advice that is wrong for ``truth`` by construction (see the module docstring)."""
    if kind == DOSE:
        out = _wrong_dose(advice, truth, rng)
    elif kind == RISK:
        out = _wrong_risk(advice, truth, rng)
    else:
        raise ValueError(f"kind must be 'dose' or 'risk'. Got {kind!r} instead.")
    assert not is_correct(kind, out, truth), (kind, advice, truth, out)
    return out


def _wrong_dose(advice: float, truth: float, rng: np.random.Generator) -> float:
    shift = float(rng.uniform(*DOSE_SHIFT))
    first = 1.0 if rng.random() < 0.5 else -1.0
    for direction in (first, -first):
        value = round(advice * (1.0 + direction * shift) * 2) / 2
        if DOSE_RANGE[0] <= value <= DOSE_RANGE[1] and not is_correct(DOSE, value, truth):
            return value
    # the model's dose is far off or near a limit: move from the truth instead (still outside 20%)
    for direction in (-1.0, 1.0):
        value = round(truth * (1.0 + direction * max(shift, DOSE_TOLERANCE + 0.15)) * 2) / 2
        if DOSE_RANGE[0] <= value <= DOSE_RANGE[1] and not is_correct(DOSE, value, truth):
            return value
    return DOSE_RANGE[1] if truth < DOSE_RANGE[1] / (1 + DOSE_TOLERANCE) else DOSE_RANGE[0]


def _wrong_risk(advice: float, truth: float, rng: np.random.Generator) -> float:
    margin = max(abs(advice - RISK_THRESHOLD), float(rng.uniform(*RISK_MARGIN)))
    margin = min(margin, RISK_THRESHOLD - RISK_RANGE[0])
    if truth >= 0.5:  # the event happened: show a low risk
        return round(RISK_THRESHOLD - max(margin, 0.01), 2)
    return round(RISK_THRESHOLD + max(margin, 0.01), 2)


def shown_advice(kind: str, advice: Sequence[float], truths: Sequence[float], positions: Iterable[int], *,
                 seed: int) -> list[float]:
    """The advice shown for each case: the model's own, or a manipulated value at ``positions``."""
    rng = np.random.default_rng([int(seed), 3])
    wrong = set(positions)
    return [manipulate(kind, float(a), float(y), rng) if i in wrong else float(a)
            for i, (a, y) in enumerate(zip(advice, truths))]

