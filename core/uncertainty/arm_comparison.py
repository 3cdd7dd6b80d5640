"""Arm cohorts, one patient: ensemble intervals on every arm's risk and on the difference of every pair of arms.

The bootstrap ensemble (:mod:`.ensemble`) gives, for each member, the patient's risk under each arm.
Its interval method (:meth:`ArmEnsemble.interval`) gives an interval for each arm (``kind="risk"``) and for
each pairwise difference (``kind="difference"``); the share of
members in which an arm has the most favourable risk says how stable the ranking is.

*Insufficient evidence* is declared when an arm's or a difference's interval is wider than the limits
the bundle learnt from its own training split (:func:`evidence_limits`): wider than for 99% of the
patients the model was trained on, i.e. the model knows much less about this patient than about
nearly everyone it learnt from. The limits are fitted on the training split only, never on the test split.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._json import jsonable, number
from ..data.cohorts import ARM
from .ensemble import DIFFERENCE, RISK, ArmEnsemble
from .._kinds import WarningKind

LIMIT_QUANTILE = 0.99   # evidence limits: this quantile of the training patients' interval widths

MSG_WIDE_ARM = ("The model's estimates of the risk under {arm} vary widely between its bootstrap refits for this "
                "patient ({level:.0%} interval {low:.0%} to {high:.0%}, wider than for 99% of the training patients): "
                "there is insufficient evidence for a number.")
MSG_WIDE_DIFF = ("The model's estimates of the difference between {a} and {b} vary widely between its bootstrap "
                 "refits for this patient ({level:.0%} interval {low:+.0%} to {high:+.0%}, wider than for 99% of the "
                 "training patients): insufficient evidence to compare them.")


@dataclass(frozen=True)
class PairwiseDifference:
    """Risk under ``a`` minus risk under ``b`` (main model), its ensemble interval and how often ``a`` is lower."""

    a: str
    b: str
    difference: float
    interval: tuple[float, float] | None
    share_a_lower: float | None

    @property
    def is_clear(self) -> bool:
        """Whether the interval excludes zero (there is an interval and it lies on one side of 0)."""
        return self.interval is not None and (self.interval[0] > 0 or self.interval[1] < 0)

    def between(self, x: str, y: str) -> "PairwiseDifference":
        """This pair oriented as ``x`` minus ``y``."""
        if (x, y) == (self.a, self.b):
            return self
        if (x, y) != (self.b, self.a):
            raise KeyError((x, y))
        lo_hi = None if self.interval is None else (-self.interval[1], -self.interval[0])
        share = None if self.share_a_lower is None else 1.0 - self.share_a_lower
        return PairwiseDifference(x, y, -self.difference, lo_hi, share)

    def to_dict(self) -> dict:
        return {"a": jsonable(self.a), "b": jsonable(self.b), "difference": number(self.difference),
                "interval": None if self.interval is None else [number(v) for v in self.interval],
                "share_a_lower": number(self.share_a_lower)}


@dataclass(frozen=True)
class ArmUncertainty:
    """Intervals for one patient's arms and every pair of arms, and the evidence notes they raise."""

    arm_intervals: dict[str, tuple[float, float]]
    pair_intervals: dict[tuple[str, str], tuple[float, float]]
    share_lower: dict[tuple[str, str], float]
    best_share: dict[str, float]
    level: float
    insufficient: tuple[dict, ...] = ()

    def difference_interval(self, a: str, b: str) -> tuple[float, float]:
        if (a, b) in self.pair_intervals:
            return self.pair_intervals[(a, b)]
        lo, hi = self.pair_intervals[(b, a)]
        return -hi, -lo


def _risks(ensemble: ArmEnsemble, row: pd.DataFrame, arms: list[str]) -> np.ndarray:
    stacked = pd.concat([row] * len(arms), ignore_index=True)
    stacked[ARM] = arms
    return ensemble.risks(stacked)  # members × arms


def arm_uncertainty(ensemble: ArmEnsemble, row: pd.DataFrame, arms: list[str], *,
                    higher_is_worse: bool = True) -> ArmUncertainty:
    """Ensemble intervals for one patient (``row`` has one row) under every arm and for every pair."""
    return uncertainty_from_risks(ensemble, _risks(ensemble, row, arms), arms, higher_is_worse=higher_is_worse)


def uncertainty_from_risks(ensemble: ArmEnsemble, risks: np.ndarray, arms: list[str], *,
                           higher_is_worse: bool = True) -> ArmUncertainty:
    """:func:`arm_uncertainty` from the members' risks for one patient (members × arms)."""
    return uncertainties_from_risks(ensemble, risks, arms, higher_is_worse=higher_is_worse)[0]


def uncertainties_from_risks(ensemble: ArmEnsemble, risks: np.ndarray, arms: list[str], *,
                             higher_is_worse: bool = True) -> list[ArmUncertainty]:
    """:func:`uncertainty_from_risks` for many patients at once: ``risks`` is members × (patients·arms),
    patient-major (each patient's arms side by side). Each interval is computed over its own column of
    members, as for one patient (the same reductions, so the same numbers)."""
    k = len(arms)
    r = np.asarray(risks, dtype=float).reshape(risks.shape[0], -1, k)  # members × patients × arms
    # each column of members contiguous (Fortran order), as one patient's are: the same summation order
    r = [np.asfortranarray(r[:, :, i]) for i in range(k)]
    arm_ends = [[v.tolist() for v in ensemble.intervals(r[i], kind=RISK)] for i in range(k)]
    pair_idx = list(itertools.combinations(range(k), 2))
    pair_ends = [[v.tolist() for v in ensemble.intervals(r[i] - r[j], kind=DIFFERENCE)]
                 for i, j in pair_idx]
    pair_shares = [np.mean(r[i] < r[j], axis=0).tolist() for i, j in pair_idx]
    stacked = np.stack(r, axis=2)  # members × patients × arms
    best = stacked.argmin(axis=2) if higher_is_worse else stacked.argmax(axis=2)  # members × patients
    best_shares = [np.mean(best == i, axis=0).tolist() for i in range(k)]
    out = []
    for p in range(stacked.shape[1]):
        intervals = {arm: (arm_ends[i][0][p], arm_ends[i][1][p]) for i, arm in enumerate(arms)}
        pairs = {(arms[i], arms[j]): (pair_ends[n][0][p], pair_ends[n][1][p]) for n, (i, j) in enumerate(pair_idx)}
        shares = {(arms[i], arms[j]): pair_shares[n][p] for n, (i, j) in enumerate(pair_idx)}
        best_share = {arm: best_shares[i][p] for i, arm in enumerate(arms)}
        out.append(ArmUncertainty(intervals, pairs, shares, best_share, ensemble.level,
                                  _notes(ensemble, intervals, pairs)))
    return out


def _notes(ensemble: ArmEnsemble, intervals: dict, pairs: dict) -> tuple[dict, ...]:
    """The insufficient-evidence notes of one patient's arm and pair intervals."""
    level, notes = ensemble.level, []
    for arm, (lo, hi) in intervals.items():
        if hi - lo > ensemble.max_arm_width:
            notes.append({"kind": WarningKind.INSUFFICIENT_EVIDENCE.value, "severity": "high", "arm": arm, "interval": [lo, hi],
                          "width": hi - lo, "limit": ensemble.max_arm_width,
                          "message": MSG_WIDE_ARM.format(arm=arm, level=level, low=lo, high=hi)})
    for (a, b), (lo, hi) in pairs.items():
        if hi - lo > ensemble.max_difference_width:
            notes.append({"kind": WarningKind.INSUFFICIENT_EVIDENCE.value, "severity": "high", "arms": [a, b], "interval": [lo, hi],
                          "width": hi - lo, "limit": ensemble.max_difference_width,
                          "message": MSG_WIDE_DIFF.format(a=a, b=b, level=level, low=lo, high=hi)})
    return tuple(notes)


def pairwise_differences(arms: list[str], prob: np.ndarray, unc: ArmUncertainty | None) -> tuple[PairwiseDifference, ...]:
    """Every pair (in arm order), with the main model's difference and, if there is an ensemble, its interval."""
    out = []
    for (i, a), (j, b) in itertools.combinations(enumerate(arms), 2):
        interval = None if unc is None else unc.pair_intervals[(a, b)]
        share = None if unc is None else unc.share_lower[(a, b)]
        out.append(PairwiseDifference(a, b, float(prob[i] - prob[j]), interval, share))
    return tuple(out)


def interval_widths(ensemble: ArmEnsemble, frame: pd.DataFrame, arms: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per patient of ``frame``: the widest arm interval and the widest pairwise-difference interval."""
    n = len(frame)
    stacked = pd.concat([frame.assign(**{ARM: arm}) for arm in arms], ignore_index=True)
    risks = ensemble.risks(stacked).reshape(len(ensemble.members), len(arms), n)  # members × arms × patients
    arm_w = np.zeros(n)
    for i in range(len(arms)):
        lo, hi = ensemble.intervals(risks[:, i, :], kind=RISK)
        arm_w = np.maximum(arm_w, hi - lo)
    diff_w = np.zeros(n)
    for i, j in itertools.combinations(range(len(arms)), 2):
        dlo, dhi = ensemble.intervals(risks[:, i, :] - risks[:, j, :], kind=DIFFERENCE)
        diff_w = np.maximum(diff_w, dhi - dlo)
    return arm_w, diff_w


def evidence_limits(ensemble: ArmEnsemble, train_frame: pd.DataFrame, arms: list[str], *,
                    quantile: float = LIMIT_QUANTILE) -> dict:
    """The insufficient-evidence limits, learnt from the training split: ``quantile`` of the widths there."""
    arm_w, diff_w = interval_widths(ensemble, train_frame, arms)
    return {"max_arm_width": float(np.quantile(arm_w, quantile)),
            "max_difference_width": float(np.quantile(diff_w, quantile)),
            "quantile": quantile, "n_train": int(len(train_frame))}
