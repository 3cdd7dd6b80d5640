"""Arm cohorts: a bootstrap ensemble of the model gives intervals on each arm's risk and on the difference.

The model is refitted, with the hyper-parameters chosen by cross-validation, on bootstrap resamples of
the training split. Percentiles across members give an interval for each arm's risk and for the
difference between the favoured and the compared arm; the share of members in which the favoured arm
stays favoured says how stable the ranking is. These are confidence intervals for the patient's
estimated risk, not for whether the event will happen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..modeling.boosted import BoostedModel, fit_boosted

N_MEMBERS = 40
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

    def risks(self, stacked: pd.DataFrame) -> np.ndarray:
        """(members × rows) risks; the linear part is one matrix product for all members."""
        design = self.members[0].design
        z, _ = design.linear_matrix(stacked)
        coefs = np.stack([m.coef for m in self.members])
        raw = np.array([m.intercept for m in self.members])[:, None] + coefs @ z.T
        x = design.tree_matrix(stacked) if any(m.booster is not None for m in self.members) else None
        for i, m in enumerate(self.members):
            if m.booster is not None:
                raw[i] += m.booster.predict(x, raw_score=True, num_threads=1)
        a = np.array([m.calibration[0] for m in self.members])[:, None]
        b = np.array([m.calibration[1] for m in self.members])[:, None]
        return 1.0 / (1.0 + np.exp(-(a + b * raw)))

    def interval(self, samples: np.ndarray) -> tuple[float, float]:
        tail = 100 * (1 - self.level) / 2
        lo, hi = np.percentile(samples, [tail, 100 - tail])
        return float(lo), float(hi)

    def to_files(self) -> tuple[dict, dict[str, str]]:
        doc = {"level": self.level, "max_arm_width": self.max_arm_width, "seed": self.seed,
               "max_difference_width": self.max_difference_width,
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
                   max_difference_width=doc["max_difference_width"], seed=doc["seed"])


def fit_ensemble(model: BoostedModel, frame: pd.DataFrame, y: np.ndarray, w: np.ndarray, *, strata: np.ndarray,
                 n_members: int = N_MEMBERS, seed: int = 0) -> ArmEnsemble:
    """Refit ``model``'s recipe on stratified bootstrap resamples of the training split."""
    rng = np.random.default_rng(seed)
    members = []
    for _ in range(n_members):
        idx = np.concatenate([rng.choice(np.flatnonzero(strata == s), size=int((strata == s).sum()), replace=True)
                              for s in np.unique(strata)])
        member = fit_boosted(model.design, frame.iloc[idx].reset_index(drop=True), y[idx], w[idx], task=model.task,
                             params=model.params, seed=int(rng.integers(1 << 31)))
        member = replace(member, calibration=model.calibration)
        members.append(member)
    return ArmEnsemble(members=members, seed=seed)


def arm_interval_check(ensemble: ArmEnsemble, model: BoostedModel, frame: pd.DataFrame, y: np.ndarray,
                       w: np.ndarray, *, n_bins: int = 5) -> dict:
    """Test-split check of the ensemble intervals: within bins of predicted risk, does the observed
    (IPCW-weighted) event rate fall inside the bin's average 95% interval?"""
    p = model.predict(frame)
    members = ensemble.risks(frame)
    tail = 100 * (1 - ensemble.level) / 2
    lo, hi = np.percentile(members, [tail, 100 - tail], axis=0)
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
            "mean_interval_width": float(np.mean(hi - lo)), "bins": rows,
            "bins_with_observed_rate_inside": int(sum(r["observed_inside"] for r in rows)),
            "note": "The intervals are confidence intervals for a patient's estimated risk; an individual "
                    "binary outcome cannot be 'covered'. The check compares observed event rates in bins of "
                    "predicted risk with the bins' average interval."}
