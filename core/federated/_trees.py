"""Gradient-boosted trees for the weekly dose (XGBoost) on top of the linear model, trained pooled, site-local or
federated by bagging.

As in Equipoise's own dose model (a linear part with trees boosted on top), the trees start from the linear model's
prediction (XGBoost's ``base_margin``) and learn what it misses. For the federated regime that offset is the exact
federated linear model (:mod:`._linear`), shared with every site before the tree rounds, so each site can compute
it for its own rows; pooled and site-local trees start from the pooled and the site's own linear fit.

LightGBM has no federated tree strategy in Flower; XGBoost has two (``FedXgbBagging``, ``FedXgbCyclic``).
Bagging: in every round each site grows ``local_trees`` trees on its own training rows, starting from the shared
model, and sends back only those new trees; the server appends every site's trees to the shared model. Each
site's learning rate is the shared one times its share of the federation's patients (n_site / N), so the trees
added in one round sum to roughly one pooled boosting step. One federated round therefore stands beside one pooled
boosting round: after R rounds the federated model holds R × sites × local_trees trees, the pooled one R × local.

Targets are on the formula's scale (sqrt mg/week). Features are the cohort's features with categories one-hot
encoded against the spec's own category list (no data-derived encoding, so nothing about it has to be shared).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TreeSettings:
    """Boosting settings (chosen on a validation split of the training rows; the held-out rows were not used)."""

    rounds: int = 40            # federated rounds = pooled and site-local boosting rounds
    local_trees: int = 1        # trees each site grows per round
    learning_rate: float = 0.1
    max_depth: int = 3
    min_child_weight: float = 20.0
    reg_lambda: float = 1.0
    seed: int = 0

    def params(self, *, learning_rate: float | None = None) -> dict:
        return {"objective": "reg:squarederror", "eta": self.learning_rate if learning_rate is None else learning_rate,
                "max_depth": self.max_depth, "min_child_weight": self.min_child_weight, "lambda": self.reg_lambda,
                "base_score": 0.0, "tree_method": "hist", "nthread": 1, "seed": self.seed, "verbosity": 0}


@dataclass(frozen=True)
class TreeModel:
    """Trees as XGBoost's own JSON text (the bundle-safe form: no pickle), added to the linear model's output."""

    model_json: str
    feature_names: tuple[str, ...]
    n_trees: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def booster(self):
        import xgboost as xgb

        bst = xgb.Booster()
        bst.load_model(bytearray(self.model_json.encode()))
        return bst

    def predict_sqrt(self, x: np.ndarray, offset: np.ndarray) -> np.ndarray:
        """sqrt(dose): ``offset`` (the linear model's sqrt dose for these rows) plus the trees."""
        return self.booster().predict(_dmatrix(x, self.feature_names, offset=offset), output_margin=True)

    def predict(self, x: np.ndarray, offset: np.ndarray, *, shift: float = 0.0) -> np.ndarray:
        return np.clip(self.predict_sqrt(x, offset) + shift, 0.0, None) ** 2


def _dmatrix(x, names, *, offset, label=None):
    import xgboost as xgb

    return xgb.DMatrix(x, label=label, base_margin=np.asarray(offset, dtype=float), feature_names=list(names))


def feature_matrix(spec, frame: pd.DataFrame) -> tuple[np.ndarray, tuple[str, ...]]:
    """The cohort's features as numbers (NaN = missing, left to the trees), categories against the spec's list."""
    cols, names = [], []
    for f in spec.features:
        v = frame[f.name]
        if f.is_numeric or f.type == "binary":
            cols.append(pd.to_numeric(v, errors="coerce").to_numpy(float))
            names.append(f.name)
            continue
        known = v.notna().to_numpy()
        for level in f.categories:
            cols.append(np.where(known, (v.astype(object) == level).to_numpy(float), np.nan))
            names.append(f"{f.name}={level}")
    return np.column_stack(cols), tuple(names)


def fit_trees(x: np.ndarray, y_sqrt: np.ndarray, names, settings: TreeSettings, *, offset: np.ndarray) -> TreeModel:
    """Pooled or site-local boosting from ``offset``: ``rounds × local_trees`` trees on these rows."""
    import xgboost as xgb

    bst = xgb.train(settings.params(), _dmatrix(x, names, offset=offset, label=y_sqrt),
                    num_boost_round=settings.rounds * settings.local_trees)
    return TreeModel(model_json=bytes(bst.save_raw("json")).decode(), feature_names=tuple(names),
                     n_trees=bst.num_boosted_rounds())


def local_bagging_step(global_model: bytes, x: np.ndarray, y_sqrt: np.ndarray, names, settings: TreeSettings, *,
                       share: float, offset: np.ndarray) -> bytes:
    """One site's part of a bagging round: grow ``local_trees`` trees from the shared model, return only them.

    ``share`` is the site's fraction of the federation's patients; it scales the site's learning rate.
    ``offset`` is the shared linear model's sqrt dose for the site's rows.
    """
    import xgboost as xgb

    params = settings.params(learning_rate=settings.learning_rate * share)
    dtrain = _dmatrix(x, names, offset=offset, label=y_sqrt)
    if not global_model:
        bst = xgb.train(params, dtrain, num_boost_round=settings.local_trees)
        return bytes(bst.save_raw("json"))
    bst = xgb.Booster(params=params)
    bst.load_model(bytearray(global_model))
    bst.set_param(params)
    start = bst.num_boosted_rounds()
    for i in range(settings.local_trees):
        bst.update(dtrain, start + i)
    return bytes(bst[start:bst.num_boosted_rounds()].save_raw("json"))


def tree_model(model: bytes, names, notes=()) -> TreeModel:
    text = bytes(model).decode()
    n = int(json.loads(text)["learner"]["gradient_booster"]["model"]["gbtree_model_param"]["num_trees"])
    return TreeModel(model_json=text, feature_names=tuple(names), n_trees=n, notes=tuple(notes))
