"""Binary outcomes at a horizon from censored follow-up, with inverse-probability-of-censoring weights.

A patient censored before the horizon has an unknown outcome: it is neither an event nor a
non-event. Such patients get weight 0 and the others are up-weighted by 1 / G, where G is the
Kaplan–Meier estimate of remaining uncensored (optionally within strata, e.g. per trial arm).
With these weights, weighted means of the horizon label are consistent for the event risk under
independent censoring (the same estimand as 1 − KM survival at the horizon).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class HorizonOutcome:
    """``label`` is 1 (event by the horizon), 0 (event-free at the horizon) or NaN (censored before it).

    ``weight`` is the IPCW weight (0 where the label is unknown); ``known`` marks weight > 0.
    """

    label: np.ndarray
    weight: np.ndarray
    horizon: float

    @property
    def known(self) -> np.ndarray:
        return self.weight > 0

    @property
    def n_censored_before_horizon(self) -> int:
        return int((~self.known).sum())

    def filled_label(self) -> np.ndarray:
        """Labels with unknowns set to 0: only ever use together with ``weight`` (their weight is 0)."""
        return np.nan_to_num(self.label, nan=0.0)


def censoring_survival(time: np.ndarray, event: np.ndarray):
    """Kaplan–Meier estimate of the censoring distribution, G(t) = P(C > t).

    Returns ``G_left(t)`` = G(t−), the probability of remaining uncensored just before ``t``; at tied
    times, events are taken to happen before censorings (the usual convention).
    """
    time = np.asarray(time, dtype=float)
    censored = 1 - np.asarray(event, dtype=float)
    times = np.unique(time)
    at_risk = len(time) - np.searchsorted(np.sort(time), times, side="left")
    n_cens = np.bincount(np.searchsorted(times, time), weights=censored, minlength=len(times))
    surv = np.cumprod(1.0 - n_cens / at_risk)

    def g_left(t):
        idx = np.searchsorted(times, np.asarray(t, dtype=float), side="left") - 1
        return np.where(idx >= 0, surv[np.clip(idx, 0, None)], 1.0)

    return g_left


def horizon_outcome(time, event, horizon: float, *, strata=None) -> HorizonOutcome:
    """Label and IPCW weight of each patient for "event by ``horizon``"."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    strata = np.zeros(len(time)) if strata is None else np.asarray(strata)
    label = np.full(len(time), np.nan)
    weight = np.zeros(len(time))
    had_event = (event == 1) & (time <= horizon)
    event_free = time > horizon
    event_free |= (time == horizon) & (event == 0)
    label[had_event] = 1.0
    label[event_free] = 0.0
    for s in np.unique(strata):
        m = strata == s
        g = censoring_survival(time[m], event[m])
        w = np.zeros(m.sum())
        w[had_event[m]] = 1.0 / g(time[m][had_event[m]])
        w[event_free[m]] = 1.0 / g(horizon)
        weight[m] = w
    return HorizonOutcome(label=label, weight=weight, horizon=float(horizon))
