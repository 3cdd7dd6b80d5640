"""Exact Shapley values by brute force: the model's contributions checked against the definition.

For a tree, path-dependent TreeSHAP (Lundberg et al., Nat Mach Intell 2020, Algorithm 1) gives the Shapley values
of the game ``v(S) = E[f(x) | x_S]``, where the expectation follows ``x`` at splits on features in ``S`` and
otherwise averages both children weighted by the training rows that reached them. For the linear part the game is
``v(S) = intercept + Σ_{j ∈ S} β_j·z_j(x) + Σ_{j ∉ S} β_j·mean(z_j)``. Here both games are evaluated directly from
LightGBM's dumped tree structure and the model's coefficients, and the Shapley formula is summed over every subset
of features (2^5 = 32): nothing of LightGBM's ``pred_contrib`` or the shap package is used. (The former test of
``pred_contrib`` against ``shap.TreeExplainer`` was circular: for LightGBM the latter calls the former.)
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from core.data.spec import CohortSpec
from core.modeling.boosted import BoostParams, fit_boosted
from core.modeling.design import Design

SPEC = CohortSpec.from_dict({
    "name": "toy", "patient_id": "id",
    "treatment": {"type": "dose", "unit": "mg/week"},
    "outcome": {"type": "continuous", "label": "Dose", "column": "dose", "unit": "mg/week"},
    "features": [
        {"name": "age", "label": "Age", "type": "numeric", "unit": "years", "limits": [0, 120]},
        {"name": "weight", "label": "Weight", "type": "numeric", "unit": "kg", "limits": [0, 300], "required": False},
        {"name": "smoker", "label": "Smoker", "type": "binary"},
        {"name": "genotype", "label": "Genotype", "type": "genotype", "categories": ["A", "B", "C"], "required": False},
        {"name": "height", "label": "Height", "type": "numeric", "unit": "cm", "limits": [0, 250]},
    ]})


def _data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.uniform(20, 90, n), "weight": np.where(rng.uniform(size=n) < 0.15, np.nan, rng.normal(75, 15, n)),
        "smoker": rng.integers(0, 2, n).astype(float),
        "genotype": pd.Categorical(np.where(rng.uniform(size=n) < 0.1, None, rng.choice(["A", "B", "C"], n)),
                                   categories=["A", "B", "C"]),
        "height": rng.normal(170, 10, n)})
    g = frame["genotype"].astype(object)
    y = (30 + 0.2 * frame["age"] + 0.1 * np.nan_to_num(frame["weight"], nan=75) - 5 * (g == "B") - 9 * (g == "C")
         + 4 * frame["smoker"] * (frame["age"] > 60) + rng.normal(0, 3, n))
    return frame, y.to_numpy(float)


def _goes_left(node: dict, value: float) -> bool:
    missing = node["missing_type"]
    if math.isnan(value):
        if missing == "NaN":
            return node["default_left"]
        value = 0.0  # LightGBM treats NaN as zero when the split has no NaN branch
    if missing == "Zero" and value == 0.0:
        return node["default_left"]
    if node["decision_type"] == "==":
        return int(value) in {int(c) for c in str(node["threshold"]).split("||")} if value >= 0 else False
    return value <= node["threshold"]


def _expectation(node: dict, x: np.ndarray, known: set[int]) -> float:
    """E[tree(x) | x_S] with path-dependent weighting (training counts of each child)."""
    if "leaf_value" in node:
        return node["leaf_value"]
    j = node["split_feature"]
    left, right = node["left_child"], node["right_child"]
    if j in known:
        return _expectation(left if _goes_left(node, x[j]) else right, x, known)
    n_l = left.get("internal_count", left.get("leaf_count"))
    n_r = right.get("internal_count", right.get("leaf_count"))
    return (n_l * _expectation(left, x, known) + n_r * _expectation(right, x, known)) / (n_l + n_r)


def _shapley(value, n_players: int) -> np.ndarray:
    phi = np.zeros(n_players)
    for j in range(n_players):
        others = [k for k in range(n_players) if k != j]
        for size in range(n_players):
            w = math.factorial(size) * math.factorial(n_players - size - 1) / math.factorial(n_players)
            for s in itertools.combinations(others, size):
                phi[j] += w * (value(set(s) | {j}) - value(set(s)))
    return phi


@pytest.fixture(scope="module")
def model_and_rows():
    frame, y = _data()
    design = Design.fit(SPEC, frame)
    params = BoostParams(linear_penalty=1.0, num_leaves=6, min_data_in_leaf=20, objective="regression",
                         learning_rate=0.1, n_trees=15)
    model = fit_boosted(design, frame, y, np.ones(len(y)), task="regression", params=params, seed=3)
    return model, frame.iloc[[0, 3, 6, 11, 19, 22, 25]].reset_index(drop=True)


def test_contributions_equal_brute_force_shapley_values(model_and_rows):
    model, rows = model_and_rows
    trees = [t["tree_structure"] for t in model.booster.dump_model()["tree_info"]]
    z, groups = model.design.linear_matrix(rows)
    x = model.design.tree_matrix(rows)
    base, contrib = model.contributions(rows)
    n_features = len(SPEC.features)
    assert any(np.isnan(x[:, 1])) and any(np.isnan(x[:, 3])), "rows with missing values are part of the check"
    for i in range(len(rows)):
        def value(known: set[int]) -> float:
            lin = model.intercept + sum(model.coef[c] * (z[i, c] if groups[c] in known else model.z_mean[c])
                                        for c in range(len(model.coef)))
            return lin + sum(_expectation(t, x[i], known) for t in trees)

        phi = _shapley(value, n_features)
        assert contrib[i] == pytest.approx(phi, abs=1e-8)
        assert base[i] == pytest.approx(value(set()), abs=1e-8)
        assert base[i] + contrib[i].sum() == pytest.approx(model.raw(rows.iloc[[i]])[0], abs=1e-9)
