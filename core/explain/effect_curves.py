"""Effect (ICE) curves: the model's prediction for one patient along one feature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .._json import jsonable
from .._params import Constraint, check_parameters, is_int
from ..modeling.bundle import ModelBundle
from ..data.spec import FeatureSpec
from ._common import _Block, _candidate_frame, _favoured_index, _predict, _same, _scalar, _training_ranges, _validate

MSG_UNKNOWN_FEATURE = "Cohort {cohort!r} has no feature {feature!r}. Features: {expected}."

_CONSTRAINTS = {
    "n_points": Constraint("an int in the range [2, 1000]", lambda v: is_int(v) and 2 <= v <= 1000),
}


@dataclass(frozen=True)
class ICECurve:
    """The model's prediction for this patient along ``grid`` values of one feature, others held fixed.

    ``curves`` maps each arm (arm cohorts: probabilities) or ``"dose"`` (mg/week) to one value per grid
    point; ``favoured`` is the favoured arm at each point (arm cohorts). ``current_index`` is the
    patient's value's position in ``grid`` (``None`` when the value is missing).
    """

    cohort: str
    feature: str
    label: str
    type: str
    unit: str
    actionable: bool
    scale: str
    grid: tuple
    curves: dict[str, tuple[float, ...]]
    current_value: Any
    current_index: int | None
    favoured: tuple[str, ...] = ()
    higher_is_worse: bool = True
    plausible: tuple[float, float] | None = None
    training_range: tuple[float, float] | None = None

    def to_dict(self) -> dict:
        return jsonable(self.__dict__)


def ice_curve(bundle: ModelBundle, record: Mapping[str, Any], feature: str, *, n_points: int = 25) -> ICECurve:
    """The prediction for this patient as ``feature`` moves over its plausible range (or its categories)."""
    check_parameters("ice_curve", _CONSTRAINTS, n_points=n_points)
    spec = bundle.spec
    if feature not in spec.feature_names:
        raise ValueError(MSG_UNKNOWN_FEATURE.format(cohort=spec.name, feature=feature,
                                                    expected=", ".join(spec.feature_names)))
    f = spec.feature(feature)
    values = _validate(spec, record).values
    current = values[feature]
    grid = _ice_grid(f, current, n_points)
    pred = _predict(bundle, _candidate_frame(spec, values, [_Block((feature,), (grid,), np.zeros(len(grid)))]))
    points = tuple(_scalar(f, v) for v in grid)
    index = None if current is None else next(i for i, v in enumerate(points) if _same(v, current))
    if spec.is_dose:
        curves = {"dose": tuple(float(v) for v in pred)}
        scale, favoured = spec.treatment.unit or spec.outcome.unit or "mg/week", ()
    else:
        curves = {arm: tuple(float(v) for v in pred[:, i]) for i, arm in enumerate(spec.arms)}
        scale = f"probability of {spec.outcome.label}"
        favoured = tuple(spec.arms[i] for i in _favoured_index(pred, spec.outcome.higher_is_worse))
    return ICECurve(cohort=spec.name, feature=f.name, label=f.label, type=f.type, unit=f.unit, actionable=f.actionable,
                    scale=scale, grid=points, curves=curves, current_value=current, current_index=index,
                    favoured=favoured, higher_is_worse=spec.outcome.higher_is_worse, plausible=f.plausible,
                    training_range=_training_ranges(bundle).get(f.name) if f.is_numeric else None)


def _ice_grid(f: FeatureSpec, current, n_points: int) -> np.ndarray:
    if not f.is_numeric:
        return np.array([0, 1] if f.type == "binary" else list(f.categories), dtype=object)
    lo, hi = f.plausible
    if current is not None:
        lo, hi = min(lo, current), max(hi, current)
    grid = np.linspace(lo, hi, n_points)
    if f.integer:
        grid = np.round(grid)
    if current is not None:
        grid = np.append(grid, float(current))
    return np.unique(grid)
