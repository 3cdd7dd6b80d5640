"""Counterfactual search: the smallest change to actionable features that alters the comparison or moves the dose.

Only *actionable* features move (never immutable ones). Fewest features first, then the smallest
standardised distance (numeric: |Δ| / plausible span; a binary or categorical change counts 1), then the
clearest result. Single changes are searched on a fine grid of "nice" values over each plausible range,
pairs on a coarser one; all candidates are scored in one model call per arm.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .._json import jsonable
from .._params import Constraint, check_parameters, is_int, is_real
from ..modeling.bundle import ModelBundle
from ..data.spec import CohortSpec, FeatureSpec
from ._common import (CAVEAT, FeatureChange, OutsideTraining, _Block, _candidate_frame, _change, _favoured_index,
                      _nice, _outside_training, _predict, _scalar, _validate)

MSG_DOSE_TARGET_NEEDED = ("Cohort {cohort!r} predicts a dose: pass dose_change_mg_per_week, the change to look for "
                          "(e.g. 5 for at least 5 mg/week more, -5 for at least 5 mg/week less).")
MSG_DOSE_TARGET_FOR_ARMS = ("Cohort {cohort!r} compares treatment arms: dose_change_mg_per_week applies only to a dose "
                            "cohort. Got {got!r} instead.")
MSG_NO_ACTIONABLE = ("No feature of cohort {cohort!r} is actionable: every feature is immutable for this decision, "
                     "so there is no change to look for.")
MSG_NOT_FOUND_ARMS = ("No change to the actionable features ({features}) within their plausible ranges changes "
                      "the favoured arm.")
MSG_NOT_FOUND_DOSE = ("No change to the actionable features ({features}) within their plausible ranges {verb} the "
                      "predicted dose by {amount:g} mg/week or more.")
MSG_SINGLE_ONLY = " Only one feature was changed at a time (max_features=1)."
MSG_FOUND_ARMS = "The model's favoured arm would change from {before} to {after} if {changes}."
MSG_FOUND_DOSE = ("The model's predicted dose would {verb} from {before:.1f} to {after:.1f} mg/week ({delta:+.1f}; "
                  "the change looked for was {target:+g}) if {changes}.")

SEARCH_POINTS = 200     # single-feature counterfactual grid: at most about this many values per feature
PAIR_POINTS = 30        # pair grid, per feature
MAX_CANDIDATES = 250_000

_CONSTRAINTS = {
    "max_features": Constraint("1 or 2", lambda v: is_int(v) and v in (1, 2)),
    "dose_change_mg_per_week": Constraint("a finite, non-zero number (mg/week) or None",
                                          lambda v: v is None or (is_real(v) and float(v) != 0.0)),
}


@dataclass(frozen=True)
class Counterfactual:
    """The smallest change to actionable features that changes the favoured arm (or moves the dose).

    ``found`` False: ``changes`` is empty and ``message`` says why. ``record`` is the changed patient
    (``None`` when nothing was found), ready for :func:`what_if` or ``predict_patient``.
    """

    cohort: str
    found: bool
    message: str
    searched: tuple[str, ...]
    max_features: int
    n_candidates: int
    changes: tuple[FeatureChange, ...] = ()
    distance: float | None = None
    favoured_before: str | None = None
    favoured_after: str | None = None
    probabilities_before: dict = field(default_factory=dict)
    probabilities_after: dict = field(default_factory=dict)
    dose_before: float | None = None
    dose_after: float | None = None
    target_mg_per_week: float | None = None
    record: dict | None = None
    outside_training: tuple[OutsideTraining, ...] = ()
    caveat: str = CAVEAT

    def to_dict(self) -> dict:
        out = {k: jsonable(v) for k, v in self.__dict__.items() if k not in ("changes", "outside_training")}
        out["changes"] = [c.to_dict() for c in self.changes]
        out["outside_training"] = [o.to_dict() for o in self.outside_training]
        return out


def counterfactual(bundle: ModelBundle, record: Mapping[str, Any], *, dose_change_mg_per_week: float | None = None,
                   max_features: int = 2) -> Counterfactual:
    """The smallest change to actionable features that changes the favoured arm, or moves the dose.

    Arm cohorts: the favoured arm (as in the report: lowest risk when the outcome is bad) must differ.
    Dose cohort: the predicted dose must move by at least ``dose_change_mg_per_week`` in its sign's
    direction. Fewest features first, then the smallest standardised distance, then the clearest result.
    """
    check_parameters("counterfactual", _CONSTRAINTS, max_features=max_features,
                     dose_change_mg_per_week=dose_change_mg_per_week)
    spec = bundle.spec
    if spec.is_dose and dose_change_mg_per_week is None:
        raise ValueError(MSG_DOSE_TARGET_NEEDED.format(cohort=spec.name))
    if not spec.is_dose and dose_change_mg_per_week is not None:
        raise ValueError(MSG_DOSE_TARGET_FOR_ARMS.format(cohort=spec.name, got=dose_change_mg_per_week))
    values = _validate(spec, record).values
    target = None if dose_change_mg_per_week is None else float(dose_change_mg_per_week)
    actionable = [f for f in spec.features if f.actionable]
    base = _predict(bundle, _candidate_frame(spec, values, []))[0]
    common = dict(cohort=spec.name, searched=tuple(f.name for f in actionable), max_features=max_features,
                  target_mg_per_week=target, **_prediction_fields(spec, base, "before"))
    if not actionable:
        return Counterfactual(found=False, message=MSG_NO_ACTIONABLE.format(cohort=spec.name), n_candidates=0, **common)

    n_candidates = 0
    for size in range(1, min(max_features, len(actionable)) + 1):
        blocks = _candidate_blocks(actionable, values, size)
        if not blocks:
            continue
        frame = _candidate_frame(spec, values, blocks)
        n_candidates += len(frame)
        pred = _predict(bundle, frame)
        ok, margin = _reaches(spec, base, pred, target)
        if not ok.any():
            continue
        distance = np.concatenate([b.distance for b in blocks])
        order = np.lexsort((-margin, distance))
        best = int(order[np.flatnonzero(ok[order])[0]])
        block, offset = _block_of(blocks, best)
        new_values = dict(values)
        new_values.update({name: _scalar(spec.feature(name), vals[offset])
                           for name, vals in zip(block.features, block.values)})
        moved = tuple(_change(spec.feature(n), values[n], new_values[n]) for n in block.features)
        phrase = " and ".join(c.text for c in moved)
        after = _prediction_fields(spec, pred[best], "after")
        if spec.is_dose:
            message = MSG_FOUND_DOSE.format(verb="rise" if target > 0 else "fall", before=float(base),
                                            after=float(pred[best]), delta=float(pred[best] - base), target=target,
                                            changes=phrase)
        else:
            message = MSG_FOUND_ARMS.format(before=common["favoured_before"], after=after["favoured_after"],
                                            changes=phrase)
        return Counterfactual(found=True, message=message, n_candidates=n_candidates, changes=moved,
                              distance=float(distance[best]), record=new_values,
                              outside_training=_outside_training(bundle, {c.feature: c.new for c in moved}),
                              **after, **common)

    names = ", ".join(f.name for f in actionable)
    if spec.is_dose:
        message = MSG_NOT_FOUND_DOSE.format(features=names, verb="raises" if target > 0 else "lowers",
                                            amount=abs(target))
    else:
        message = MSG_NOT_FOUND_ARMS.format(features=names)
    if max_features == 1 and len(actionable) > 1:
        message += MSG_SINGLE_ONLY
    return Counterfactual(found=False, message=message, n_candidates=n_candidates, **common)


def _candidate_blocks(actionable: list[FeatureSpec], values: dict, size: int) -> list[_Block]:
    if size == 1:
        singles = [(f, _candidates(f, values[f.name], SEARCH_POINTS)) for f in actionable]
        return [_Block((f.name,), (v,), d) for f, (v, d) in singles if len(v)]
    points = PAIR_POINTS
    while True:
        per = {f.name: _candidates(f, values[f.name], points) for f in actionable}
        pairs = list(itertools.combinations(actionable, 2))
        total = sum(len(per[a.name][0]) * len(per[b.name][0]) for a, b in pairs)
        if total <= MAX_CANDIDATES or points <= 5:
            break
        points //= 2
    blocks = []
    for a, b in pairs:
        (va, da), (vb, db) = per[a.name], per[b.name]
        if len(va) and len(vb):
            ia, ib = np.meshgrid(np.arange(len(va)), np.arange(len(vb)), indexing="ij")
            ia, ib = ia.ravel(), ib.ravel()
            blocks.append(_Block((a.name, b.name), (va[ia], vb[ib]), da[ia] + db[ib]))
    return blocks


def _candidates(f: FeatureSpec, current, points: int) -> tuple[np.ndarray, np.ndarray]:
    """The values a feature may move to (never its current one) and their standardised distances."""
    if f.is_numeric:
        grid = _search_grid(f, points)
        if current is None:
            return grid, np.ones(len(grid))
        keep = ~np.isclose(grid, float(current), rtol=0.0, atol=1e-9)
        span = f.plausible[1] - f.plausible[0]
        return grid[keep], np.abs(grid[keep] - float(current)) / (span if span > 0 else 1.0)
    options = [0, 1] if f.type == "binary" else list(f.categories)
    other = np.array([o for o in options if current is None or o != current], dtype=object)
    return other, np.ones(len(other))



def _search_grid(f: FeatureSpec, points: int) -> np.ndarray:
    """Multiples of a "nice" step (1, 2 or 5 × 10^k) inside the plausible range, at most about ``points``."""
    lo, hi = f.plausible
    step = _nice(max(hi - lo, 1e-9) / points, up=True)
    if f.integer:
        step = max(1.0, round(step))
    first = math.ceil(lo / step - 1e-9) * step
    count = int(math.floor((hi - first) / step + 1e-9)) + 1
    grid = np.array([float(f"{first + i * step:.12g}") for i in range(max(count, 0))])
    return np.round(grid) if f.integer else grid

def _reaches(spec: CohortSpec, base, pred: np.ndarray, target: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Which candidates reach the goal, and by how much (larger is clearer)."""
    if spec.is_dose:
        delta = pred - float(base)
        return (delta >= target) if target > 0 else (delta <= target), np.abs(delta) - abs(target)
    hiw = spec.outcome.higher_is_worse
    fav0 = _favoured_index(base[None, :], hiw)[0]
    fav = _favoured_index(pred, hiw)
    rows = np.arange(len(pred))
    margin = (pred[:, fav0] - pred[rows, fav]) * (1.0 if hiw else -1.0)
    return fav != fav0, margin


def _block_of(blocks: list[_Block], index: int) -> tuple[_Block, int]:
    for block in blocks:
        if index < len(block.distance):
            return block, index
        index -= len(block.distance)
    raise IndexError(index)


def _prediction_fields(spec: CohortSpec, pred, when: str) -> dict:
    if spec.is_dose:
        return {f"dose_{when}": float(pred)}
    fav = _favoured_index(np.asarray(pred)[None, :], spec.outcome.higher_is_worse)[0]
    return {f"favoured_{when}": spec.arms[fav],
            f"probabilities_{when}": {arm: float(p) for arm, p in zip(spec.arms, pred)}}
