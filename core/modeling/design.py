"""How a typed feature frame becomes the model's matrices: linear design columns and LightGBM's tree matrix."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.spec import CohortSpec

ARM_FEATURE = "treatment_arm"

# PATH statement (Kent et al., Ann Intern Med 2020): by default the arm enters the model only through its linear
# main effect (a common relative effect on the log-odds scale: *risk modelling*). Trees may split on the arm
# (treatment-covariate interactions: *effect modelling*) only when heterogeneity was validated on the training
# split (core.modeling.heterogeneity).
RISK_MODELLING, EFFECT_MODELLING = "risk modelling", "effect modelling"


@dataclass
class Design:
    """How a typed feature frame becomes model matrices. Fitted on the training split only."""

    features: list[dict]
    arms: list[str] = field(default_factory=list)
    reference: str | None = None
    effect_modelling: bool = False  # trees may split on the arm (only when heterogeneity was validated)

    @classmethod
    def fit(cls, spec: CohortSpec, frame: pd.DataFrame) -> "Design":
        features = []
        for f in spec.features:
            col = frame[f.name]
            info = {"name": f.name, "type": f.type, "categories": list(f.categories)}
            if f.type in ("numeric", "binary"):
                x = col.astype(float)
                info["mean"] = float(np.nanmean(x))
                sd = float(np.nanstd(x))
                info["sd"] = sd if sd > 0 else 1.0
            info["missing_column"] = bool(col.isna().any() or not f.required)
            features.append(info)
        return cls(features=features, arms=spec.arms, reference=spec.treatment.reference)

    # names of the "tree" columns = the units explanations are reported in
    @property
    def columns(self) -> list[str]:
        return [f["name"] for f in self.features] + ([ARM_FEATURE] if self.arms else [])

    @property
    def categorical_indices(self) -> list[int]:
        idx = [i for i, f in enumerate(self.features) if f["type"] in ("categorical", "genotype")]
        return idx + ([len(self.features)] if self.arms else [])

    def tree_matrix(self, frame: pd.DataFrame, arm: str | None = None) -> np.ndarray:
        cols = []
        for f in self.features:
            col = frame[f["name"]]
            if f["type"] in ("numeric", "binary"):
                cols.append(col.astype(float).to_numpy())
            else:
                codes = pd.Categorical(col, categories=f["categories"]).codes.astype(float)
                cols.append(np.where(codes < 0, np.nan, codes))
        if self.arms:
            cols.append(self._arm_codes(frame, arm))
        return np.column_stack(cols)

    def fit_tree_matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """The tree matrix the trees are *fitted* on: under risk modelling the arm column is held constant,
        so no tree can split on it and the arm acts only through the linear part's main effect."""
        x = self.tree_matrix(frame)
        if self.arms and not self.effect_modelling:
            x[:, -1] = 0.0
        return x

    @property
    def modelling(self) -> str:
        return EFFECT_MODELLING if self.effect_modelling else RISK_MODELLING

    def arm_columns(self) -> np.ndarray:
        """Boolean mask of the linear design columns that code the arm (left unpenalised when fitting)."""
        n = sum(1 if f["type"] in ("numeric", "binary") else len(f["categories"]) - 1 for f in self.features)
        n += sum(1 for f in self.features if f["missing_column"])
        k = len([a for a in self.arms if a != self.reference]) if self.arms else 0
        return np.r_[np.zeros(n, dtype=bool), np.ones(k, dtype=bool)]

    def linear_matrix(self, frame: pd.DataFrame, arm: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Design matrix for the linear part and, per column, the index of its source column."""
        blocks, groups = [], []
        for gi, f in enumerate(self.features):
            col = frame[f["name"]]
            if f["type"] in ("numeric", "binary"):
                x = col.astype(float).to_numpy()
                missing = np.isnan(x)
                blocks.append(np.where(missing, 0.0, (x - f["mean"]) / f["sd"]))
                groups.append(gi)
            else:
                codes = pd.Categorical(col, categories=f["categories"]).codes
                missing = codes < 0
                for k in range(1, len(f["categories"])):
                    blocks.append((codes == k).astype(float))
                    groups.append(gi)
            if f["missing_column"]:
                blocks.append(missing.astype(float))
                groups.append(gi)
        if self.arms:
            codes = self._arm_codes(frame, arm)
            for k in range(len(self.arms)):
                if self.arms[k] != self.reference:
                    blocks.append((codes == k).astype(float))
                    groups.append(len(self.features))
        return np.column_stack(blocks), np.asarray(groups)

    def _arm_codes(self, frame: pd.DataFrame, arm: str | None) -> np.ndarray:
        if arm is not None:
            return np.full(len(frame), float(self.arms.index(arm)))
        return pd.Categorical(frame["arm"], categories=self.arms).codes.astype(float)

    def to_dict(self) -> dict:
        return {"features": self.features, "arms": self.arms, "reference": self.reference,
                "effect_modelling": self.effect_modelling}

    @classmethod
    def from_dict(cls, d: dict) -> "Design":
        return cls(features=d["features"], arms=d["arms"], reference=d["reference"],
                   effect_modelling=bool(d.get("effect_modelling", False)))
