"""The model's average treatment effect beside the trial's own estimate of it.

For each active arm against the reference arm, on the training split (the data the model learnt from):

* **model** — the mean over all training patients of the model's risk under the arm minus under the reference
  (every patient counted under both arms: the standardised difference), with the bootstrap ensemble's 95%
  interval (the same mean in every refit; normal approximation as for a patient's difference);
* **trial** — the difference in the Kaplan–Meier risk by the horizon between the patients randomised to the two
  arms (Greenwood variances; ``1 − S(horizon)``), or in the event proportions for a binary outcome, with a Wald
  95% interval. No model at all: what the trial itself says.

In a randomised trial both estimate the same quantity, so they should agree within their intervals, and the
model's interval should not be much narrower than the trial's: a model cannot know the average effect better
than the trial that taught it. The model card shows both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..data.cohorts import ARM

LEVEL = 0.95


@dataclass(frozen=True)
class AverageEffect:
    arm: str
    reference: str
    model: float
    model_interval: tuple[float, float]
    trial: float
    trial_interval: tuple[float, float]
    trial_method: str
    n_arm: int
    n_reference: int

    @property
    def width_ratio(self) -> float:
        """Model interval width divided by the trial's (below 1: the model claims more certainty)."""
        return (self.model_interval[1] - self.model_interval[0]) / (self.trial_interval[1] - self.trial_interval[0])

    def to_dict(self) -> dict:
        return {"arm": self.arm, "reference": self.reference, "model": self.model,
                "model_interval": list(self.model_interval), "trial": self.trial,
                "trial_interval": list(self.trial_interval), "trial_method": self.trial_method,
                "n_arm": self.n_arm, "n_reference": self.n_reference, "width_ratio": self.width_ratio}


def kaplan_meier_risk(time: np.ndarray, event: np.ndarray, horizon: float) -> tuple[float, float]:
    """``1 − S(horizon)`` by Kaplan–Meier and its Greenwood variance."""
    time, event = np.asarray(time, dtype=float), np.asarray(event, dtype=float)
    s, greenwood = 1.0, 0.0
    for t in np.unique(time[(event == 1) & (time <= horizon)]):
        at_risk = np.sum(time >= t)
        d = np.sum((time == t) & (event == 1))
        s *= 1.0 - d / at_risk
        if at_risk > d:
            greenwood += d / (at_risk * (at_risk - d))
    return 1.0 - s, s * s * greenwood


def average_effects(spec, model, ensemble, frame: pd.DataFrame) -> list[AverageEffect]:
    """Model against trial for every active arm (see the module doc); ``frame`` is the training split."""
    z = norm.ppf(0.5 + LEVEL / 2)
    ref = spec.treatment.reference
    arms = frame[ARM].astype(str).to_numpy()
    o = spec.outcome
    n = len(frame)
    stacked = pd.concat([frame.assign(**{ARM: a}) for a in spec.arms], ignore_index=True)
    members = ensemble.risks(stacked).reshape(len(ensemble.members), len(spec.arms), n)  # members × arms × patients
    out = []
    for a in spec.arms:
        if a == ref:
            continue
        i, j = spec.arms.index(a), spec.arms.index(ref)
        point = float(np.mean(model.predict(frame, arm=a) - model.predict(frame, arm=ref)))
        sd = float(np.std(members[:, i, :].mean(axis=1) - members[:, j, :].mean(axis=1), ddof=1))
        if o.type == "time_to_event":
            (ra, va), (rr, vr) = (kaplan_meier_risk(frame.loc[arms == g, o.time_column],
                                                    frame.loc[arms == g, o.event_column], o.horizon) for g in (a, ref))
            method = f"Kaplan–Meier risk by {o.horizon:g} {o.time_unit} (Greenwood), arm minus reference"
        else:
            ya, yr = (frame.loc[arms == g, o.column].to_numpy(float) for g in (a, ref))
            ra, rr = float(ya.mean()), float(yr.mean())
            va, vr = ra * (1 - ra) / len(ya), rr * (1 - rr) / len(yr)
            method = "event proportions, arm minus reference (Wald)"
        d, se = ra - rr, float(np.sqrt(va + vr))
        out.append(AverageEffect(a, ref, point, (point - z * sd, point + z * sd), float(d),
                                 (float(d - z * se), float(d + z * se)), method,
                                 int((arms == a).sum()), int((arms == ref).sum())))
    return out
