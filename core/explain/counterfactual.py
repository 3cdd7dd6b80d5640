"""Counterfactual search: the smallest change a clinician could make that clearly alters the comparison or the dose.

Only the changes the cohort spec allows move (``FeatureSpec.actionable``: a co-medication may be stopped, never
started; an immutable feature never moves; an unknown value is never changed). Fewest features first, then the
smallest standardised distance (numeric: |Δ| / plausible span; a binary or categorical change counts 1), then the
clearest result. Single changes are searched on a fine grid of "nice" values over each plausible range, pairs on
a coarser one; all candidates are scored in one model call per arm.

A change counts only if its effect lies outside the uncertainty. Arm cohorts: after the change, the bootstrap
ensemble's 95% interval for the new favoured arm's risk minus the previously favoured arm's must exclude zero.
Dose cohort: the new dose must lie outside the current prediction's conformal interval. A change that tips
the point estimate but not beyond the uncertainty is reported with ``within_uncertainty`` True and
``found`` False: "No change clearly alters the comparison".
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._json import jsonable
from .._params import Constraint, check_parameters, is_int, is_real
from ..data.cohorts import ARM
from ..modeling.bundle import ModelBundle
from ..data.spec import CohortSpec, FeatureSpec
from ._common import (CAVEAT, FeatureChange, OutsideTraining, _Block, _candidate_frame, _change, _favoured_index,
                      _nice, _outside_training, _predict, _scalar, _validate)

MSG_DOSE_TARGET_NEEDED = ("Cohort {cohort!r} predicts a dose: pass dose_change_mg_per_week, the change to look for "
                          "(e.g. 5 for at least 5 mg/week more, -5 for at least 5 mg/week less).")
MSG_DOSE_TARGET_FOR_ARMS = ("Cohort {cohort!r} compares treatment arms: dose_change_mg_per_week applies only to a dose "
                            "cohort. Got {got!r} instead.")
MSG_NO_ACTIONABLE = ("The choice of {lever} is the only lever in this decision: none of the patient's recorded values "
                     "is something a clinician changes to alter it (each is a fixed characteristic, a measured value "
                     "or past history), so there is no smaller change to look for. {where}")
LEVER_ARM = ("treatment arm", "The Patient page compares the arms.")
LEVER_DOSE = ("dose", "The Patient page shows the predicted dose.")
MSG_NO_ALLOWED = ("No allowed change applies to this patient ({rules}): none is possible from the patient's current "
                  "values, and an unknown value is never changed.")
MSG_NOT_FOUND_ARMS = "No allowed change to {features}{ranges} changes the favoured arm."
MSG_NOT_FOUND_DOSE = "No allowed change to {features}{ranges} {verb} the predicted dose by {amount:g} mg/week or more."
def no_actionable_message(spec: CohortSpec) -> str:
    """Said when no feature is a lever: the arm (or the dose) is then the only one, in plain words."""
    lever, where = LEVER_DOSE if spec.is_dose else LEVER_ARM
    return MSG_NO_ACTIONABLE.format(lever=lever, where=where)


IN_RANGES = " within their plausible ranges"
MSG_SINGLE_ONLY = " Only one feature was changed at a time (max_features=1)."
MSG_CLEAR = "No change clearly alters the comparison."
MSG_FOUND_ARMS = ("The model's favoured arm would change from {before} to {after} if {changes}: the estimated "
                  "risk with {after} would be {points:.2f} percentage points {side} than with {before} (95% interval "
                  "of the difference {lo:+.2f} to {hi:+.2f} points, excluding zero).")
MSG_WITHIN_ARMS = (MSG_CLEAR + " The smallest allowed change that tips the model's estimate from {before} to {after} "
                   "({changes}) makes the estimated risk with {after} {points:.2f} percentage points {side} than with "
                   "{before}, but the 95% interval of that difference ({lo:+.2f} to {hi:+.2f} points) includes zero: "
                   "within the uncertainty.")
MSG_WITHIN_ARMS_NO_ENSEMBLE = (MSG_CLEAR + " The smallest allowed change that tips the model's estimate from {before} "
                               "to {after} ({changes}) cannot be told apart from the uncertainty: this bundle has no "
                               "ensemble for intervals.")
MSG_FOUND_DOSE = ("The model's predicted dose would {verb} from {before:.1f} to {after:.1f} mg/week ({delta:+.1f}; "
                  "the change looked for was {target:+g}) if {changes}, outside the {coverage:.0%} interval of the "
                  "current prediction ({lo:.1f}–{hi:.1f} mg/week).")
MSG_WITHIN_DOSE = (MSG_CLEAR + " The smallest allowed change that moves the predicted dose by {target:+g} mg/week "
                   "({changes}) gives {after:.1f} mg/week, inside the {coverage:.0%} interval of the current "
                   "prediction ({lo:.1f}–{hi:.1f} mg/week): within the uncertainty.")
MSG_WITHIN_DOSE_NO_INTERVAL = (MSG_CLEAR + " The smallest allowed change that moves the predicted dose by {target:+g} "
                               "mg/week ({changes}) gives {after:.1f} mg/week, but the current prediction has no "
                               "interval (insufficient evidence), so the change cannot be told apart from the "
                               "uncertainty.")

SEARCH_POINTS = 200     # single-feature counterfactual grid: at most about this many values per feature
PAIR_POINTS = 30        # pair grid, per feature
MAX_CANDIDATES = 250_000
MAX_CHECKED = 400       # per number of features: the closest this many point-estimate flips are checked for clarity

_CONSTRAINTS = {
    "max_features": Constraint("1 or 2", lambda v: is_int(v) and v in (1, 2)),
    "dose_change_mg_per_week": Constraint("a finite, non-zero number (mg/week) or None",
                                          lambda v: v is None or (is_real(v) and float(v) != 0.0)),
}


@dataclass(frozen=True)
class CounterfactualEffect:
    """What a change does, with its uncertainty.

    ``kind`` 'risk_difference': ``difference`` is the new favoured arm's risk minus the previously favoured
    arm's after the change (a proportion; negative = lower risk), ``interval`` its ensemble interval (None
    without an ensemble). ``kind`` 'dose': ``before``/``after``/``delta`` in mg/week and ``interval`` the
    current prediction's conformal interval (None when there is none).
    """

    kind: str
    interval: tuple[float, float] | None
    level: float | None
    arm_before: str | None = None
    arm_after: str | None = None
    difference: float | None = None
    before: float | None = None
    after: float | None = None
    unit: str = ""

    @property
    def delta(self) -> float | None:
        return None if self.before is None else self.after - self.before

    def to_dict(self) -> dict:
        return jsonable({**self.__dict__, "delta": self.delta})


@dataclass(frozen=True)
class Counterfactual:
    """The smallest allowed change that clearly changes the favoured arm (or moves the dose).

    ``found`` False: ``changes`` is empty and ``message`` says why. ``within_uncertainty`` True: some allowed
    change tips the point estimate, but not beyond the uncertainty; ``uncertain_changes`` and ``effect`` describe
    the smallest such change. ``allowed`` lists, in words, the changes the spec allows. ``record`` is the changed patient (``None`` when nothing was found).
    """

    cohort: str
    found: bool
    message: str
    searched: tuple[str, ...]
    max_features: int
    n_candidates: int
    allowed: tuple[str, ...] = ()
    changes: tuple[FeatureChange, ...] = ()
    within_uncertainty: bool = False
    effect: CounterfactualEffect | None = None
    uncertain_changes: tuple[FeatureChange, ...] = ()
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
        nested = ("changes", "uncertain_changes", "outside_training", "effect")
        out = {k: jsonable(v) for k, v in self.__dict__.items() if k not in nested}
        for k in ("changes", "uncertain_changes", "outside_training"):
            out[k] = [c.to_dict() for c in getattr(self, k)]
        out["effect"] = None if self.effect is None else self.effect.to_dict()
        return out


@dataclass(frozen=True)
class _Hit:
    """A candidate that reaches the goal on the point estimate, and whether it does so beyond the uncertainty."""

    index: int
    clear: bool
    effect: CounterfactualEffect


def counterfactual(bundle: ModelBundle, record: Mapping[str, Any], *, dose_change_mg_per_week: float | None = None,
                   max_features: int = 2) -> Counterfactual:
    """The smallest allowed change that clearly changes the favoured arm, or clearly moves the dose.

    Arm cohorts: the favoured arm (as in the report: lowest risk when the outcome is bad) must differ, with
    the ensemble interval of the new-minus-old difference excluding zero. Dose cohort: the predicted dose must
    move by at least ``dose_change_mg_per_week`` in its sign's direction and leave the current interval.
    Fewest features first, then the smallest standardised distance, then the clearest result.
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
    base_frame = _candidate_frame(spec, values, [])
    base = _predict(bundle, base_frame)[0]
    common = dict(cohort=spec.name, searched=tuple(f.name for f in actionable), max_features=max_features,
                  allowed=tuple(f"{f.label} {f.describe_actionable()}" for f in actionable),
                  target_mg_per_week=target, **_prediction_fields(spec, base, "before"))
    if not actionable:
        return Counterfactual(found=False, message=no_actionable_message(spec), n_candidates=0, **common)
    movable = [f for f in actionable if len(_candidates(f, values[f.name], SEARCH_POINTS)[0])]
    if not movable:
        rules = "; ".join(common["allowed"])
        return Counterfactual(found=False, message=MSG_NO_ALLOWED.format(rules=rules), n_candidates=0, **common)
    interval = _dose_interval(bundle, base_frame, base) if spec.is_dose else None

    n_candidates, nearest = 0, None
    for size in range(1, min(max_features, len(movable)) + 1):
        blocks = _candidate_blocks(movable, values, size)
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
        flips = order[ok[order]][:MAX_CHECKED]
        hits = (_dose_hits(flips, base, pred, target, interval) if spec.is_dose
                else _arm_hits(bundle, frame, flips, base, pred))
        clear = next((h for h in hits if h.clear), None)
        if clear is None:
            nearest = nearest or (hits[0], _moved(spec, values, blocks, hits[0].index), pred[hits[0].index])
            continue
        new_values, moved = _moved(spec, values, blocks, clear.index)
        after = _prediction_fields(spec, pred[clear.index], "after")
        message = _message(spec, clear.effect, moved, target, found=True, base=base)
        return Counterfactual(found=True, message=message, n_candidates=n_candidates, changes=moved,
                              effect=clear.effect, distance=float(distance[clear.index]), record=new_values,
                              outside_training=_outside_training(bundle, {c.feature: c.new for c in moved}),
                              **after, **common)

    if nearest is not None:
        hit, (_, moved), pred_best = nearest
        return Counterfactual(found=False, within_uncertainty=True, n_candidates=n_candidates, effect=hit.effect,
                              uncertain_changes=moved, message=_message(spec, hit.effect, moved, target, found=False,
                                                                        base=base),
                              **{**common, **_prediction_fields(spec, pred_best, "after")})
    names = " or ".join(f"“{f.label}”" for f in movable)
    ranges = IN_RANGES if any(f.is_numeric for f in movable) else ""
    if spec.is_dose:
        message = MSG_NOT_FOUND_DOSE.format(features=names, ranges=ranges, verb="raises" if target > 0 else "lowers",
                                            amount=abs(target))
    else:
        message = MSG_NOT_FOUND_ARMS.format(features=names, ranges=ranges)
    if max_features == 1 and len(movable) > 1:
        message += MSG_SINGLE_ONLY
    return Counterfactual(found=False, message=message, n_candidates=n_candidates, **common)


def _moved(spec: CohortSpec, values: dict, blocks: list[_Block], index: int) -> tuple[dict, tuple[FeatureChange, ...]]:
    block, offset = _block_of(blocks, index)
    new_values = dict(values)
    new_values.update({name: _scalar(spec.feature(name), vals[offset])
                       for name, vals in zip(block.features, block.values)})
    return new_values, tuple(_change(spec.feature(n), values[n], new_values[n]) for n in block.features)


def _arm_hits(bundle: ModelBundle, frame: pd.DataFrame, flips: np.ndarray, base, pred: np.ndarray) -> list[_Hit]:
    """Per flip: the ensemble interval of (new favoured − previously favoured) risk after the change."""
    spec, hiw = bundle.spec, bundle.spec.outcome.higher_is_worse
    arms = spec.arms
    fav0 = int(_favoured_index(np.asarray(base)[None, :], hiw)[0])
    fav = _favoured_index(pred[flips], hiw)
    ensemble = bundle.ensemble
    if ensemble is None:
        return [_Hit(int(i), False, CounterfactualEffect("risk_difference", None, None, arms[fav0], arms[int(f)],
                                                         float(pred[i, f] - pred[i, fav0])))
                for i, f in zip(flips, fav)]
    rows = frame.iloc[flips].reset_index(drop=True)
    stacked = pd.concat([rows, rows], ignore_index=True)
    stacked[ARM] = [arms[fav0]] * len(rows) + [arms[int(f)] for f in fav]
    risks = ensemble.risks(stacked)
    diffs = risks[:, len(rows):] - risks[:, :len(rows)]
    hits = []
    for j, (i, f) in enumerate(zip(flips, fav)):
        lo, hi = ensemble.interval(diffs[:, j], kind="difference")
        effect = CounterfactualEffect("risk_difference", (lo, hi), ensemble.level, arms[fav0], arms[int(f)],
                                      float(pred[i, f] - pred[i, fav0]))
        hits.append(_Hit(int(i), bool(hi < 0 if hiw else lo > 0), effect))
    return hits


def _dose_interval(bundle: ModelBundle, frame: pd.DataFrame, base) -> tuple[tuple[float, float] | None, float | None]:
    """The current prediction's conformal interval (None without one) and its coverage."""
    from ..uncertainty import dose_interval

    if bundle.conformal is None:
        return None, None
    res = dose_interval(bundle.conformal, bundle.spec, frame, np.array([float(base)]))
    if res.status[0] != "ok":
        return None, bundle.conformal.coverage
    return (float(res.low[0]), float(res.high[0])), bundle.conformal.coverage


def _dose_hits(flips: np.ndarray, base, pred: np.ndarray, target: float, interval) -> list[_Hit]:
    """Per candidate: does the new dose leave the current prediction's interval (in the target's direction)?"""
    bounds, coverage = interval
    hits = []
    for i in flips:
        after = float(pred[i])
        clear = bounds is not None and (after > bounds[1] if target > 0 else after < bounds[0])
        effect = CounterfactualEffect("dose", bounds, coverage, before=float(base), after=after, unit="mg/week")
        hits.append(_Hit(int(i), bool(clear), effect))
    return hits


def _message(spec: CohortSpec, effect: CounterfactualEffect, moved, target, *, found: bool, base) -> str:
    changes = " and ".join(c.text for c in moved)
    if spec.is_dose:
        if effect.interval is None:
            return MSG_WITHIN_DOSE_NO_INTERVAL.format(target=target, changes=changes, after=effect.after)
        lo, hi = effect.interval
        if found:
            return MSG_FOUND_DOSE.format(verb="rise" if target > 0 else "fall", before=float(base), after=effect.after,
                                         delta=effect.delta, target=target, changes=changes,
                                         coverage=effect.level, lo=lo, hi=hi)
        return MSG_WITHIN_DOSE.format(target=target, changes=changes, after=effect.after, coverage=effect.level,
                                      lo=lo, hi=hi)
    fmt = dict(before=effect.arm_before, after=effect.arm_after, changes=changes)
    if effect.interval is None:
        return MSG_WITHIN_ARMS_NO_ENSEMBLE.format(**fmt)
    lo, hi = (100 * v for v in effect.interval)
    points = 100 * effect.difference
    fmt.update(points=abs(points), side="lower" if points < 0 else "higher", lo=lo, hi=hi)
    return (MSG_FOUND_ARMS if found else MSG_WITHIN_ARMS).format(**fmt)


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
    """The values the spec allows a feature to move to (never its current one, never from unknown) and their
    standardised distances."""
    if not f.actionable or current is None:
        return np.array([], dtype=object), np.array([])
    if f.is_numeric:
        grid = _search_grid(f, points)
        keep = ~np.isclose(grid, float(current), rtol=0.0, atol=1e-9)
        if f.actionable in ("decrease", "increase"):
            keep &= (grid < float(current)) if f.actionable == "decrease" else (grid > float(current))
        span = f.plausible[1] - f.plausible[0]
        return grid[keep], np.abs(grid[keep] - float(current)) / (span if span > 0 else 1.0)
    options = [0, 1] if f.type == "binary" else list(f.categories)
    other = np.array([o for o in options if f.allows_change(current, o)], dtype=object)
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
