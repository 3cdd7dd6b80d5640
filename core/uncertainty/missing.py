"""Missing inputs: the prediction under each plausible value of a missing feature, so unknown stays unknown."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.cohorts import ARM, patient_frame
from ..data.spec import CohortSpec
from ..modeling.boosted import BoostedModel


@dataclass(frozen=True)
class MissingRange:
    """Predictions over a missing feature's plausible values (other inputs as given)."""

    feature: str
    label: str
    values: list = field(default_factory=list)
    predictions: list = field(default_factory=list)  # per value: {arm: risk} or dose

    def to_dict(self) -> dict:
        return {"feature": self.feature, "label": self.label,
                "scenarios": [{"value": v, "prediction": p} for v, p in zip(self.values, self.predictions)]}


def plausible_values(spec: CohortSpec, feature: str, reference: pd.DataFrame) -> list:
    f = spec.feature(feature)
    if f.is_numeric:
        q = reference[feature].dropna().quantile([0.05, 0.5, 0.95]).to_numpy()
        q = np.clip(q, *f.plausible)
        return sorted({int(round(v)) if f.integer else float(round(v, 1)) for v in q})
    if f.type == "binary":
        return [0, 1]
    return list(f.categories)


def missing_ranges(spec: CohortSpec, model: BoostedModel, row: pd.DataFrame, missing: tuple[str, ...],
                   scenarios: dict[str, list]) -> list[MissingRange]:
    """For each missing feature, the prediction with each plausible value filled in (one at a time).

    All scenarios of all missing features are predicted in one batch.
    """
    def predict(records: list[dict]) -> np.ndarray:
        frame = patient_frame(spec, records)
        if spec.is_dose:
            return model.predict(frame)
        stacked = frame.iloc[np.repeat(np.arange(len(frame)), len(spec.arms))].reset_index(drop=True)
        stacked[ARM] = spec.arms * len(frame)
        return model.predict(stacked)

    return scenario_ranges(spec, _canonical(row.iloc[0].to_dict()), missing, scenarios, predict)


def scenario_ranges(spec: CohortSpec, base: dict, missing: tuple[str, ...], scenarios: dict[str, list],
                    predict) -> list[MissingRange]:
    """:func:`missing_ranges` for the patient's canonical values ``base``; ``predict(records)`` gives the
    predictions of scenario records (one per record for a dose, else one per record and arm, record-major)."""
    todo = [(name, scenarios[name]) for name in missing if scenarios.get(name)]
    if not todo:
        return []
    pred = predict([{**base, name: v} for name, values in todo for v in values])
    if spec.is_dose:
        flat = [float(p) for p in pred]
    else:
        risks = pred.reshape(-1, len(spec.arms))
        flat = [{arm: float(p) for arm, p in zip(spec.arms, r)} for r in risks]
    out, start = [], 0
    for name, values in todo:
        out.append(MissingRange(name, spec.feature(name).label, list(values), flat[start:start + len(values)]))
        start += len(values)
    return out


def _canonical(record: dict) -> dict:
    return {k: (None if (isinstance(v, float) and np.isnan(v)) else v) for k, v in record.items()}
