"""Shared by what-if, counterfactuals, effect curves and sliders: the record, candidates, predictions, phrasing."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._format import short_number as fmt_number
from .._json import jsonable
from ..modeling.bundle import ModelBundle
from ..data.cohorts import patient_frame
from ..fairness import MSG_OOD_CATEGORY, MSG_OOD_FEATURE
from ..uncertainty import novelty_matrix
from ..data.spec import CohortSpec, FeatureSpec
from ..data.validation import ValidatedPatient, validate_patient

CAVEAT = ("This describes the model, not the patient: it links these values to different predictions, but only "
          "the treatment (if anything) was randomized, so changing a feature in reality may not change the outcome "
          "as shown.")

SLIDER_STEPS = 100      # a non-integer slider moves in "nice" steps of about span / 100


# --- result objects shared by what-if and the counterfactual ---------------------------------------


@dataclass(frozen=True)
class FeatureChange:
    """One feature set from ``old`` to ``new``; ``distance`` is |Δ| / plausible span (1 for a category)."""

    feature: str
    label: str
    type: str
    unit: str
    old: Any
    new: Any
    actionable: bool
    distance: float
    text: str = ""

    def to_dict(self) -> dict:
        return jsonable(self.__dict__)


@dataclass(frozen=True)
class OutsideTraining:
    """A changed value outside the training data's [min, max] (``training_range`` None: a category never seen)."""

    feature: str
    label: str
    value: Any
    training_range: tuple[float, float] | None
    unit: str
    message: str

    def to_dict(self) -> dict:
        return jsonable(self.__dict__)


@dataclass(frozen=True)
class _Block:
    """Candidates that change the same features: one value array per feature, and their distances."""

    features: tuple[str, ...]
    values: tuple[np.ndarray, ...]
    distance: np.ndarray


# --- the record, the candidate frame and the model's predictions -----------------------------------


def _validate(spec: CohortSpec, record: Mapping[str, Any]) -> ValidatedPatient:
    """Validated values; plausibility warnings are the report's business, not repeated here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return validate_patient(spec, record)


def _candidate_frame(spec: CohortSpec, values: dict, blocks: list[_Block]) -> pd.DataFrame:
    """The patient's row repeated once per candidate (one row if no blocks), with each block's values set."""
    if not blocks:
        return patient_frame(spec, [values])
    n = sum(len(b.distance) for b in blocks)
    cols = {}
    for f in spec.features:
        v = values[f.name]
        if f.type in ("numeric", "binary"):
            cols[f.name] = np.full(n, np.nan if v is None else float(v))
        else:
            cols[f.name] = np.full(n, v, dtype=object)
    start = 0
    for b in blocks:
        stop = start + len(b.distance)
        for name, vals in zip(b.features, b.values):
            cols[name][start:stop] = vals
        start = stop
    return pd.DataFrame({f.name: (cols[f.name].astype(float) if f.type in ("numeric", "binary")
                                  else pd.Categorical(cols[f.name], categories=list(f.categories)))
                         for f in spec.features})


def _predict(bundle: ModelBundle, frame: pd.DataFrame) -> np.ndarray:
    """(rows × arms) probabilities, or (rows,) doses: one vectorised model call per arm."""
    model = bundle.model
    if bundle.spec.is_dose:
        return model.predict(frame)
    return np.column_stack([model.predict(frame, arm=arm) for arm in bundle.spec.arms])


def _favoured_index(prob: np.ndarray, higher_is_worse: bool) -> np.ndarray:
    """As in the report: the lowest risk (first on ties), or the highest probability of a good outcome."""
    return np.argmin(prob, axis=1) if higher_is_worse else np.argmax(prob, axis=1)


def _scalar(f: FeatureSpec, v):
    """A grid value in the canonical form of validated records."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if f.type == "binary" or (f.is_numeric and f.integer):
        return int(round(float(v)))
    if f.is_numeric:
        return float(v)
    return str(v)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=1e-12)


# --- the range the training data covers ------------------------------------------------------------


def _training_ranges(bundle: ModelBundle) -> dict[str, tuple[float, float] | None]:
    """Training [min, max] per novelty column (numeric/binary: the feature's name; categories: 'f=cat')."""
    detector = bundle.novelty
    if detector is None:
        return {}
    _, names = novelty_matrix(bundle.spec, patient_frame(bundle.spec, [{}]))
    if len(names) != detector.n_features_in_:
        return {}
    out = {}
    for name, lo, hi in zip(names, detector.min_, detector.max_):
        out[name] = None if math.isnan(lo) else (float(lo), float(hi))
    return out


def _outside_training(bundle: ModelBundle, new_values: dict) -> tuple[OutsideTraining, ...]:
    spec, ranges, out = bundle.spec, _training_ranges(bundle), []
    for name, value in new_values.items():
        f = spec.feature(name)
        if value is None or not ranges:
            continue
        unit = f" {f.unit}" if f.unit else ""
        if f.type in ("numeric", "binary"):
            rng = ranges.get(name)
            if rng is not None and rng[0] <= float(value) <= rng[1]:
                continue
            lo, hi = (None, None) if rng is None else rng
            message = MSG_OOD_FEATURE.format(label=f.label, value=fmt_number(value), unit=unit, lo=fmt_number(lo),
                                             hi=fmt_number(hi))
            out.append(OutsideTraining(name, f.label, value, rng, f.unit, message))
        else:
            rng = ranges.get(f"{name}={value}")
            if rng is None or rng[1] < 1.0:
                out.append(OutsideTraining(name, f.label, value, None, f.unit,
                                           MSG_OOD_CATEGORY.format(label=f.label, value=value)))
    return tuple(out)


# --- a change, in words (shown to the resolution of the feature's slider) --------------------------


def _change(f: FeatureSpec, old, new) -> FeatureChange:
    if f.is_numeric and old is not None and new is not None:
        span = f.plausible[1] - f.plausible[0]
        distance = abs(float(new) - float(old)) / (span if span > 0 else 1.0)
    else:
        distance = 1.0
    return FeatureChange(f.name, f.label, f.type, f.unit, old, new, bool(f.actionable), float(distance),
                         _phrase(f, old, new))


def _phrase(f: FeatureSpec, old, new) -> str:
    """'weight were 55 kg instead of 74 kg'; binary: '“Taking aspirin” were yes instead of no'."""
    if f.type == "binary":
        show = {None: "unknown", 0: "no", 1: "yes"}
        return f"“{f.label}” were {show[new]} instead of {show[old]}"
    label = f.label[:1].lower() + f.label[1:] if f.label[1:2].islower() else f.label
    if not f.is_numeric:
        return f"{label} were {'unknown' if new is None else new} instead of {'unknown' if old is None else old}"
    unit = f" {f.unit}" if f.unit else ""
    decimals = 0 if f.integer else max(0, -math.floor(math.log10(_slider_step(f))))
    while True:
        a, b = (_number(v, decimals) for v in (new, old))
        if a != b or decimals >= 6:
            break
        decimals += 1
    return f"{label} were {a}{unit if new is not None else ''} instead of {b}{unit if old is not None else ''}"


def _number(v, decimals: int) -> str:
    """A value with a fixed number of decimals, or 'unknown' (``short_number`` would drop trailing zeros)."""
    return "unknown" if v is None else f"{float(v):.{decimals}f}"


# --- "nice" steps (1, 2 or 5 × 10^k): the slider's step, the phrasing's decimals, the search grid ---


def _slider_step(f: FeatureSpec) -> float:
    if f.integer:
        return 1
    return _nice(max(f.plausible[1] - f.plausible[0], 1e-9) / SLIDER_STEPS, up=False)


def _nice(x: float, *, up: bool) -> float:
    k = math.floor(math.log10(x))
    m = x / 10 ** k
    steps = (1.0, 2.0, 5.0, 10.0)
    choice = next(s for s in steps if s >= m - 1e-9) if up else max(s for s in steps if s <= m + 1e-9)
    return float(f"{choice * 10 ** k:.12g}")
