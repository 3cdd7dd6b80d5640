"""Treatment benefit by subgroup: c-for-benefit of "any active arm vs the reference", with bootstrap CIs.

A patient's predicted benefit is the reference arm's predicted risk minus the mean predicted risk
over the active arms; patients on an active arm are matched with reference-arm patients by predicted
benefit (van Klaveren et al. 2018). With a handful of events per group this is noisy: below
``MIN_PER_ARM`` known outcomes in either arm the metric is reported as insufficient data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import metrics as M
from ..modeling.boosted import BoostedModel
from ..data.spec import CohortSpec
from ..fairness import MetricValue
from ..fairness.groups import labelled_partitions

MIN_PER_ARM = 25
REASON_FEW_PER_ARM = ("{n_t} treated / {n_c} reference patients with a known outcome; at least {minimum} each "
                      "are needed")
NOTE_POOLED = "active arms pooled vs the reference arm"


def pooled_benefit(spec: CohortSpec, model: BoostedModel, frame: pd.DataFrame) -> np.ndarray:
    ref = spec.treatment.reference
    risk_ref = model.predict(frame, arm=ref)
    active = np.mean([model.predict(frame, arm=a) for a in spec.arms if a != ref], axis=0)
    return risk_ref - active


def benefit_by_group(spec: CohortSpec, model: BoostedModel, frame: pd.DataFrame, y: np.ndarray, w: np.ndarray,
                     groups: pd.DataFrame, *, n_boot: int = 200, seed: int = 0,
                     level: float = 0.95) -> dict[str | tuple[str, str], MetricValue]:
    """``{(attribute, group): MetricValue}`` plus ``"overall"``, for ``SubgroupAudit.with_metric``.

    Groups (and pairwise intersections) are named as the audit names them; the values are not
    compared with overall (``compared=False``) and carry the note that the active arms are pooled.
    """
    benefit = pooled_benefit(spec, model, frame)
    treated = (frame["arm"] != spec.treatment.reference).to_numpy()
    rng = np.random.default_rng(seed)
    out = {"overall": _one(benefit, treated, y, w, np.ones(len(y), bool), rng, n_boot, level, seed)}
    for attribute, labels in labelled_partitions(groups):
        for g in sorted(labels.unique()):
            out[(attribute, g)] = _one(benefit, treated, y, w, (labels == g).to_numpy(), rng, n_boot, level, seed)
    return out


def _one(benefit, treated, y, w, mask, rng, n_boot, level, seed) -> MetricValue:
    known = mask & (w > 0)
    n_t, n_c = int((known & treated).sum()), int((known & ~treated).sum())
    if min(n_t, n_c) < MIN_PER_ARM:
        return MetricValue.insufficient(REASON_FEW_PER_ARM.format(n_t=n_t, n_c=n_c, minimum=MIN_PER_ARM))
    idx = np.flatnonzero(mask)
    value = M.c_for_benefit(benefit[idx], treated[idx], y[idx], sample_weight=w[idx], seed=seed)
    reps = []
    for _ in range(n_boot):
        b = rng.choice(idx, size=len(idx), replace=True)
        reps.append(M.c_for_benefit(benefit[b], treated[b], y[b], sample_weight=w[b], seed=seed))
    tail = 100 * (1 - level) / 2
    lo, hi = np.nanpercentile(reps, [tail, 100 - tail])
    return MetricValue(float(value), float(lo), float(hi), flagged=False, compared=False, note=NOTE_POOLED)
