"""Treatment benefit by subgroup: c-for-benefit of each active arm against the reference arm, with
arm-stratified bootstrap intervals.

For every active arm ``a`` (never the active arms pooled: each arm is its own treatment question),
a patient's predicted benefit is the model's risk under the reference arm minus its risk under
``a``; patients randomised to ``a`` are matched with reference-arm patients by predicted benefit
and the concordance of predicted with observed pair benefit is computed (van Klaveren et al.,
J Clin Epidemiol 2018;94:59-68; :func:`core.evaluation.metrics.c_for_benefit`).

The bootstrap resamples **within each arm** of the group (patients with a known outcome on ``a``
with replacement from themselves, likewise the reference arm): the statistic is defined by the
two arms' sizes (the larger is subsampled to the smaller), and a randomised comparison fixes the
allocation, so an unstratified resample would add the noise of a varying split between arms.
With a handful of events per group this is still noisy: below ``MIN_PER_ARM`` known outcomes in
either arm the metric is reported as insufficient data. The values are reported, never flagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import metrics as M
from .._format import finite_or_none
from ..data.spec import CohortSpec
from ..fairness import MetricValue
from ..fairness.groups import labelled_partitions

__all__ = ["MIN_PER_ARM", "arm_benefit", "benefit_by_group", "benefit_metric_name", "stratified_resample"]

MIN_PER_ARM = 25
REASON_FEW_PER_ARM = ("{n_t} patients on {arm} / {n_c} on {reference} with a known outcome; at least {minimum} "
                      "each are needed")
NOTE_ARM = "{arm} vs {reference} (patients randomised to these two arms); arm-stratified bootstrap"


def benefit_metric_name(arm: str, reference: str) -> str:
    """The audit's metric name, as the model card's evaluation names it: ``c_for_benefit[ddI vs ZDV]``."""
    return f"c_for_benefit[{arm} vs {reference}]"


def arm_benefit(spec: CohortSpec, model, frame: pd.DataFrame, arm: str) -> np.ndarray:
    """Predicted benefit of ``arm`` over the reference arm: risk under the reference minus risk under ``arm``."""
    return model.predict(frame, arm=spec.treatment.reference) - model.predict(frame, arm=arm)


def stratified_resample(by_arm: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """One bootstrap resample drawn within each arm: every arm keeps its size."""
    return np.concatenate([rng.choice(idx, size=idx.size, replace=True) for idx in by_arm])


def benefit_by_group(spec: CohortSpec, model, frame: pd.DataFrame, y: np.ndarray, w: np.ndarray,
                     groups: pd.DataFrame, *, n_boot: int = 200, seed: int = 0,
                     level: float = 0.95) -> dict[str, dict]:
    """``{metric name: {"overall": MetricValue, (attribute, group): MetricValue, ...}}``, one metric per active arm.

    Each inner dict is ready for ``SubgroupAudit.with_metric(name, overall=d.pop("overall"), by_group=d)``.
    Groups (and pairwise intersections) are named as the audit names them; values are not compared
    with the rest (``compared=False``) and carry a note naming the two arms.
    """
    reference = spec.treatment.reference
    arms = frame["arm"].astype(str).to_numpy()
    y, w = np.asarray(y, dtype=float), np.asarray(w, dtype=float)
    parts = labelled_partitions(groups)
    out: dict[str, dict] = {}
    for arm in (a for a in spec.arms if a != reference):
        benefit = arm_benefit(spec, model, frame, arm)
        treated = arms == arm
        pair = treated | (arms == reference)
        rng = np.random.default_rng(seed)
        note = NOTE_ARM.format(arm=arm, reference=reference)
        one = lambda mask: _one(benefit, treated, y, w, pair & mask, rng, n_boot, level, seed,  # noqa: E731
                                arm=arm, reference=reference, note=note)
        values = {"overall": one(np.ones(len(y), dtype=bool))}
        for attribute, labels in parts:
            for g in sorted(labels.unique()):
                values[(attribute, g)] = one((labels == g).to_numpy())
        out[benefit_metric_name(arm, reference)] = values
    return out


def _one(benefit, treated, y, w, mask, rng, n_boot, level, seed, *, arm, reference, note) -> MetricValue:
    known = mask & (w > 0)
    idx_t, idx_c = np.flatnonzero(known & treated), np.flatnonzero(known & ~treated)
    if min(idx_t.size, idx_c.size) < MIN_PER_ARM:
        return MetricValue.insufficient(REASON_FEW_PER_ARM.format(n_t=idx_t.size, arm=arm, n_c=idx_c.size,
                                                                  reference=reference, minimum=MIN_PER_ARM))
    idx = np.concatenate([idx_t, idx_c])
    value = M.c_for_benefit(benefit[idx], treated[idx], y[idx], sample_weight=w[idx], seed=seed)
    reps = []
    for _ in range(n_boot):
        b = stratified_resample([idx_t, idx_c], rng)
        reps.append(M.c_for_benefit(benefit[b], treated[b], y[b], sample_weight=w[b], seed=seed))
    lo = hi = None
    reps = np.asarray(reps, dtype=float)
    if np.isfinite(reps).any():
        tail = 100 * (1 - level) / 2
        lo, hi = (float(v) for v in np.nanpercentile(reps, [tail, 100 - tail]))
    return MetricValue(finite_or_none(value), lo, hi, flagged=False, compared=False, note=note)
