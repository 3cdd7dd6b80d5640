"""How stable the ensemble's interval ends are: two halves of the members, compared patient by patient.

The members are split into their first and second half; each half computes every patient's interval for
each arm's risk and for each pairwise difference between arms (the ensemble's own method and level). The
absolute differences between the two halves' interval ends (both ends, in percentage points) summarise
how much an end would move if the ensemble were refitted. Each half has half the members, so this is a
conservative measure for the full ensemble (for a mean and a standard deviation, the full ensemble's
Monte Carlo error is about half the halves' typical disagreement).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..data.cohorts import ARM
from .ensemble import DIFFERENCE, RISK, ArmEnsemble


@dataclass(frozen=True)
class Disagreement:
    """Median and 90th percentile of |end(half 1) − end(half 2)| in percentage points, over patients and ends."""

    median_points: float
    p90_points: float
    max_points: float
    n: int

    @classmethod
    def of(cls, diffs: np.ndarray) -> "Disagreement":
        d = 100 * np.abs(np.asarray(diffs, dtype=float).ravel())
        return cls(float(np.median(d)), float(np.quantile(d, 0.9)), float(d.max()), int(d.size))

    def to_dict(self) -> dict:
        return {"median_points": self.median_points, "p90_points": self.p90_points, "max_points": self.max_points,
                "n_ends": self.n}


@dataclass(frozen=True)
class HalfDisagreement:
    """Disagreement of the two halves' interval ends: arm risks and pairwise differences, pooled and per item."""

    n_members: int
    n_patients: int
    method: str
    arms: Disagreement
    differences: Disagreement
    by_arm: dict
    by_pair: dict

    def to_dict(self) -> dict:
        return {"n_members": self.n_members, "members_per_half": self.n_members // 2, "n_patients": self.n_patients,
                "method": self.method, "arm_ends": self.arms.to_dict(), "difference_ends": self.differences.to_dict(),
                "by_arm": {k: v.to_dict() for k, v in self.by_arm.items()},
                "by_pair": {k: v.to_dict() for k, v in self.by_pair.items()}}


def half_disagreement(ensemble: ArmEnsemble, frame: pd.DataFrame, arms: list[str], *,
                      method: str | None = None) -> HalfDisagreement:
    """Compare the interval ends of the ensemble's two halves for every patient in ``frame``."""
    method = method or ensemble.method
    stacked = pd.concat([frame.assign(**{ARM: a}) for a in arms], ignore_index=True)
    risks = ensemble.risks(stacked).reshape(len(ensemble.members), len(arms), len(frame))
    half = len(ensemble.members) // 2
    halves = [replace(ensemble, members=ensemble.members[:half], method=method),
              replace(ensemble, members=ensemble.members[half:2 * half], method=method)]
    parts = [risks[:half], risks[half:2 * half]]

    def ends(kind: str, values: list[np.ndarray]) -> np.ndarray:
        (lo1, hi1), (lo2, hi2) = (h.intervals(v, kind=kind) for h, v in zip(halves, values))
        return np.concatenate([lo1 - lo2, hi1 - hi2])

    by_arm = {a: Disagreement.of(ends(RISK, [p[:, i] for p in parts])) for i, a in enumerate(arms)}
    by_pair = {f"{arms[i]} vs {arms[k]}": Disagreement.of(ends(DIFFERENCE, [p[:, i] - p[:, k] for p in parts]))
               for i, k in itertools.combinations(range(len(arms)), 2)}
    arm_all = np.concatenate([ends(RISK, [p[:, i] for p in parts]) for i in range(len(arms))])
    diff_all = np.concatenate([ends(DIFFERENCE, [p[:, i] - p[:, k] for p in parts])
                               for i, k in itertools.combinations(range(len(arms)), 2)])
    return HalfDisagreement(n_members=2 * half, n_patients=len(frame), method=method, arms=Disagreement.of(arm_all),
                            differences=Disagreement.of(diff_all), by_arm=by_arm, by_pair=by_pair)
