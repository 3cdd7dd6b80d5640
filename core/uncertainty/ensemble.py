"""Arm cohorts: a bootstrap ensemble of the model gives intervals on each arm's risk and on differences.

The model is refitted, with the hyper-parameters chosen by cross-validation and the model's own
recalibration map, on ``N_MEMBERS`` bootstrap resamples of the training split drawn *as the trial was
designed*: patients are resampled within each arm (every arm keeps its size), never by outcome. Resampling
within arm × outcome would fix every arm's event count in every refit and remove most of the uncertainty
about the treatment effect (issue 24: the intervals on differences were about three times too narrow). Its spread
gives a 95% interval for each arm's risk and for the difference between two arms; the share of members
in which an arm stays lowest says how stable the ranking is.

Interval method (:meth:`ArmEnsemble.interval`): a normal approximation to the bootstrap distribution,
on the log-odds scale for a risk (``expit(mean ± 1.96·sd)`` of the members' log-odds, so it stays
inside 0–100%) and on the risk-difference scale for a difference (``mean ± 1.96·sd``). With a modest
number of refits the 2.5th/97.5th percentiles are close to the sample's extremes and move by several
points between two halves of the ensemble; a mean and a standard deviation use every member and move
less (measured by :func:`core.uncertainty.stability.half_disagreement`: on the ACTG 175 and colon test
splits, 100 refits with this method agree between halves about 15–50% better than the same refits with
percentiles and 35–75% better than the former 40 refits with percentiles; ``benchmarks/statistics_report.py``).
The approximation is checked there too: its ends differ from the percentile ends of the same 100 refits
by less than the percentile ends' own Monte Carlo disagreement. The bootstrap percentile interval stays
available (``method="percentile"``).

What the intervals are: approximate (bootstrap) confidence intervals for the patient's *estimated*
risk under the model's recipe, refitted on resamples of the training patients. They have no
finite-sample guarantee, they do not include the uncertainty of choosing the hyper-parameters, and
they are not intervals for whether the event will happen: an individual binary outcome cannot be
"covered". ``arm_interval_check`` compares them with observed event rates on the test split.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..modeling.boosted import BoostedModel, fit_boosted

N_MEMBERS = 100
INTERVAL_METHODS = ("normal", "percentile")
RISK, DIFFERENCE = "risk", "difference"
LEVEL = 0.95
MAX_ARM_WIDTH = 0.40       # defaults only: a bundle learns its limits from its training split (arm_comparison)
MAX_DIFFERENCE_WIDTH = 0.50

@dataclass
class ArmEnsemble:
    """Bootstrap refits of the model (same design, hyper-parameters and recalibration)."""

    members: list[BoostedModel]
    level: float = LEVEL
    max_arm_width: float = MAX_ARM_WIDTH
    max_difference_width: float = MAX_DIFFERENCE_WIDTH
    seed: int = 0
    method: str = "normal"

    def risks(self, stacked: pd.DataFrame) -> np.ndarray:
        """(members × rows) risks; the linear part is one matrix product for all members."""
        design = self.members[0].design
        z, _ = design.linear_matrix(stacked)
        return self.risks_from(z, design.tree_matrix(stacked) if self.has_trees else None)

    @property
    def has_trees(self) -> bool:
        return any(m.booster is not None for m in self.members)

    def risks_from(self, z: np.ndarray, x: np.ndarray | None) -> np.ndarray:
        """:meth:`risks` from prepared matrices (``z`` linear, ``x`` tree; see :mod:`core.modeling.encoder`)."""
        coefs = np.stack([m.coef for m in self.members])
        raw = np.array([m.intercept for m in self.members])[:, None] + coefs @ z.T
        for i, m in enumerate(self.members):
            if m.booster is not None:
                raw[i] += m.booster.predict(x, raw_score=True, num_threads=1)
        a = np.array([m.calibration[0] for m in self.members])[:, None]
        b = np.array([m.calibration[1] for m in self.members])[:, None]
        return 1.0 / (1.0 + np.exp(-(a + b * raw)))

    def interval(self, samples: np.ndarray, *, kind: str | None = None) -> tuple[float, float]:
        """The ``level`` interval of one quantity from its members' values (1-D, one per member).

        ``kind="risk"``: the normal approximation on the log-odds scale (use it for an arm's risk);
        ``kind="difference"``: on the samples' own scale (use it for a difference of risks). Without
        ``kind``: on the samples' own scale, clipped to [0, 1] when every sample lies in [0, 1] — valid
        for both, but for a risk near 0% or 100% ``kind="risk"`` is better. With ``method="percentile"``
        the bootstrap percentiles are used for every kind.
        """
        a = np.asarray(samples, dtype=float)
        lo, hi = interval_ends(a[:, None], level=self.level, method=self.method, kind=kind or DIFFERENCE)
        lo, hi = float(lo[0]), float(hi[0])
        if kind is None and bool(np.all((a >= 0) & (a <= 1))):
            lo, hi = max(lo, 0.0), min(hi, 1.0)
        return lo, hi

    def intervals(self, samples: np.ndarray, *, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised :meth:`interval`: ``samples`` is members × rows; returns (low, high) per row."""
        return interval_ends(np.asarray(samples, dtype=float), level=self.level, method=self.method, kind=kind)

    def to_files(self) -> tuple[dict, dict[str, str]]:
        doc = {"level": self.level, "max_arm_width": self.max_arm_width, "seed": self.seed,
               "max_difference_width": self.max_difference_width, "method": self.method,
               "members": [{**m.to_dict(), "design": None} for m in self.members]}
        texts = {f"ensemble/member_{i:03d}.txt": m.booster.model_to_string()
                 for i, m in enumerate(self.members) if m.booster is not None}
        return doc, texts

    @classmethod
    def from_files(cls, doc: dict, texts: dict[str, str], design_doc: dict) -> "ArmEnsemble":
        members = []
        for i, raw in enumerate(doc["members"]):
            members.append(BoostedModel.from_dict({**raw, "design": design_doc},
                                                  texts.get(f"ensemble/member_{i:03d}.txt")))
        return cls(members=members, level=doc["level"], max_arm_width=doc["max_arm_width"],
                   max_difference_width=doc["max_difference_width"], seed=doc["seed"], method=doc["method"])


ENSEMBLE_GUARANTEE = ("none: approximate (bootstrap) confidence intervals for the estimated risk, empirical; "
                      "no finite-sample coverage guarantee, hyper-parameter choice not included")


def ensemble_method(ensemble: ArmEnsemble) -> str:
    """One line naming how the ensemble's intervals are made."""
    how = ("normal approximation to the members' log-odds (a risk) or risk differences (a difference)"
           if ensemble.method == "normal" else "bootstrap percentiles")
    return (f"{len(ensemble.members)} bootstrap refits of the model (patients resampled within each arm, never by "
            f"outcome); {ensemble.level:.0%} interval by "
            f"{how}")


@functools.lru_cache(maxsize=16)
def _normal_quantile(q: float) -> float:
    return float(norm.ppf(q))  # scipy's ppf costs ~0.1 ms a call; a report asks for it once per interval


def interval_ends(samples: np.ndarray, *, level: float, method: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per column of ``samples`` (members × rows): see the module doc for the methods."""
    if method not in INTERVAL_METHODS:
        raise ValueError(f"The 'method' of an ensemble interval must be one of {list(INTERVAL_METHODS)}. "
                         f"Got {method!r} instead.")
    if kind not in (RISK, DIFFERENCE):
        raise ValueError(f"The 'kind' of an ensemble interval must be 'risk' or 'difference'. Got {kind!r} instead.")
    if method == "percentile":
        tail = 100 * (1 - level) / 2
        lo, hi = np.percentile(samples, [tail, 100 - tail], axis=0)
        return lo, hi
    z = _normal_quantile(0.5 + level / 2)
    if kind == RISK:
        logit = np.log(np.clip(samples, 1e-12, 1 - 1e-12)) - np.log(np.clip(1 - samples, 1e-12, 1))
        m, s = logit.mean(axis=0), logit.std(axis=0, ddof=1)
        return 1 / (1 + np.exp(-(m - z * s))), 1 / (1 + np.exp(-(m + z * s)))
    m, s = samples.mean(axis=0), samples.std(axis=0, ddof=1)
    return m - z * s, m + z * s


def fit_ensemble(model: BoostedModel, frame: pd.DataFrame, y: np.ndarray, w: np.ndarray, *, strata: np.ndarray,
                 n_members: int = N_MEMBERS, seed: int = 0, method: str = "normal") -> ArmEnsemble:
    """Refit ``model``'s recipe (and its recalibration map) on bootstrap resamples of the training split drawn
    within each value of ``strata`` — pass the arms: never an outcome, or the refits condition on it."""
    rng = np.random.default_rng(seed)
    members = []
    for _ in range(n_members):
        idx = np.concatenate([rng.choice(np.flatnonzero(strata == s), size=int((strata == s).sum()), replace=True)
                              for s in np.unique(strata)])
        member = fit_boosted(model.design, frame.iloc[idx].reset_index(drop=True), y[idx], w[idx], task=model.task,
                             params=model.params, seed=int(rng.integers(1 << 31)))
        if model.params.blend_weight < 1:  # shrunk toward logistic regression: blend each refit the same way
            from ..modeling.blend import BASELINE_PENALTY, blend_with_linear
            from ..modeling.boosted import fit_linear

            rows = frame.iloc[idx].reset_index(drop=True)
            linear = fit_linear(model.design, rows, y[idx], w[idx], task=model.task, penalty=BASELINE_PENALTY)
            member = blend_with_linear(member, linear, model.params.blend_weight)
        else:
            member = replace(member, calibration=model.calibration)
        members.append(member)
    return ArmEnsemble(members=members, seed=seed, method=method)


def arm_interval_check(ensemble: ArmEnsemble, model: BoostedModel, frame: pd.DataFrame, y: np.ndarray,
                       w: np.ndarray, *, n_bins: int = 5) -> dict:
    """Test-split check of the ensemble intervals: within bins of predicted risk, does the observed
    (IPCW-weighted) event rate fall inside the bin's average 95% interval?"""
    p = model.predict(frame)
    lo, hi = ensemble.intervals(ensemble.risks(frame), kind=RISK)
    edges = np.quantile(p, np.linspace(0, 1, n_bins + 1))
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        m = (bins == b) & (w > 0)
        observed = float(np.average(y[m], weights=w[m])) if m.any() else float("nan")
        rows.append({"bin": b + 1, "n": int((bins == b).sum()), "mean_predicted": float(p[bins == b].mean()),
                     "observed_rate": observed, "interval": [float(lo[bins == b].mean()), float(hi[bins == b].mean())],
                     "observed_inside": bool(lo[bins == b].mean() <= observed <= hi[bins == b].mean())})
    return {"kind": "bootstrap ensemble", "level": ensemble.level, "n_members": len(ensemble.members),
            "method": ensemble_method(ensemble), "guarantee": ENSEMBLE_GUARANTEE,
            "mean_interval_width": float(np.mean(hi - lo)), "bins": rows,
            "bins_with_observed_rate_inside": int(sum(r["observed_inside"] for r in rows)),
            "note": "The intervals are confidence intervals for a patient's estimated risk; an individual "
                    "binary outcome cannot be 'covered'. The check compares observed event rates in bins of "
                    "predicted risk with the bins' average interval."}
