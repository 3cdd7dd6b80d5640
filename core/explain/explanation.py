"""Exact per-patient explanations as a value object (in the spirit of shap's ``Explanation``).

``base_value + sum(shap) == output`` holds exactly on the stated scale: calibrated log-odds for an
arm's risk, the log odds ratio for the difference between two arms, mg/week for a dose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..modeling.boosted import BoostedModel
from ..modeling.design import ARM_FEATURE
from .._format import record_value
from ..data.spec import CohortSpec


@dataclass(frozen=True)
class Explanation:
    title: str
    scale: str
    base_value: float
    output: float
    features: tuple[str, ...]
    labels: tuple[str, ...]
    values: tuple
    shap: np.ndarray

    def to_dict(self) -> dict:
        order = np.argsort(-np.abs(self.shap))
        return {
            "title": self.title, "scale": self.scale, "base_value": float(self.base_value), "output": float(self.output),
            "contributions": [{"feature": self.features[i], "label": self.labels[i], "value": record_value(self.values[i]),
                               "shap": float(self.shap[i])} for i in order],
        }


def feature_labels(spec: CohortSpec, model: BoostedModel) -> tuple[tuple[str, ...], tuple[str, ...]]:
    names = tuple(model.design.columns)
    labels = tuple("Treatment arm" if n == ARM_FEATURE else spec.feature(n).label for n in names)
    return names, labels


def row_values(spec: CohortSpec, row: pd.DataFrame, arm: str | None) -> tuple:
    first = row.iloc[0].to_dict()
    vals = [first[n] for n in spec.feature_names]
    return tuple(vals + ([arm] if arm is not None else []))


def explain_difference(arm: Explanation, versus: Explanation) -> Explanation:
    """Why one arm differs from another for this patient: contributions to log(odds_arm / odds_versus).

    Built from the two arms' explanations of the same patient: both share the base value, so the
    difference's base value is 0 and each contribution is the per-feature difference; the 'Treatment arm'
    row holds the part not modified by the patient's features.
    """
    a, b = arm.title.removeprefix("Risk under "), versus.title.removeprefix("Risk under ")
    diff = arm.shap - versus.shap
    base = arm.base_value - versus.base_value
    values = arm.values[:-1] + (f"{a} vs {b}",)
    return Explanation(f"Difference {a} − {b}", "log odds ratio", base, base + float(diff.sum()),
                       arm.features, arm.labels, values, diff)


def explain_dose(spec: CohortSpec, model: BoostedModel, row: pd.DataFrame) -> Explanation:
    base, contrib = model.contributions(row)
    names, labels = feature_labels(spec, model)
    return Explanation("Predicted weekly dose", "mg/week", float(base[0]), float(base[0] + contrib[0].sum()),
                       names, labels, row_values(spec, row, None), contrib[0])
