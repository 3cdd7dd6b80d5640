"""A linear model with LightGBM trees boosted on top of it, and its exact per-feature contributions.

On trials of a few hundred patients per arm, gradient boosting alone loses to logistic regression.
So the model starts from a penalised linear model (logistic for a binary outcome, ridge for a dose)
and LightGBM boosts from that offset (``init_score``); cross-validation on the training split picks
how much tree structure to add — possibly none. For arm cohorts the arm is an input (an S-learner),
so the model predicts every patient under every arm, and trees can learn arm-by-feature interactions.

Exact explanations: the output on the model's scale (calibrated log-odds, or mg/week) is
``linear part + trees``. The linear part's contribution of feature j is Σ_k β_k (z_k − mean z_k) over
feature j's design columns (exact interventional SHAP for a linear model); the trees' is LightGBM's
TreeSHAP (``pred_contrib``). A logistic recalibration a + b·f scales both. Contributions plus the base
value equal the output exactly.

Nothing here is pickled: the linear part, design and calibration are JSON; trees are LightGBM text.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression, Ridge

from .design import Design


# --- the model ------------------------------------------------------------------------------------


@dataclass
class BoostParams:
    """Hyper-parameters of the tree part; ``n_trees = 0`` means the linear model alone."""

    linear_penalty: float = 1.0  # inverse strength C (logistic) or alpha (ridge)
    num_leaves: int = 4
    min_data_in_leaf: int = 40
    lambda_l2: float = 10.0
    learning_rate: float = 0.03
    n_trees: int = 0
    objective: str = "binary"
    blend_weight: float = 1.0  # < 1: blended with logistic regression (core.modeling.blend); not a LightGBM setting

    def lgb_params(self, seed: int) -> dict:
        return {
            "objective": self.objective, "num_leaves": self.num_leaves, "min_data_in_leaf": self.min_data_in_leaf,
            "lambda_l2": self.lambda_l2, "learning_rate": self.learning_rate, "feature_fraction": 0.8,
            "bagging_fraction": 0.8, "bagging_freq": 1, "max_cat_to_onehot": 8, "min_data_per_group": 20,
            "cat_smooth": 20.0, "verbose": -1, "seed": seed, "deterministic": True, "num_threads": 1,
            "force_row_wise": True,
        }


@dataclass(frozen=True)
class BoostedModel:
    """Linear offset + LightGBM trees (+ logistic recalibration for a binary outcome).

    Immutable: fitting functions return a new model (``dataclasses.replace``), never mutate one.
    """

    design: Design
    task: str
    intercept: float
    coef: np.ndarray
    z_mean: np.ndarray
    booster: lgb.Booster | None = None
    calibration: tuple[float, float] = (0.0, 1.0)
    params: BoostParams = field(default_factory=BoostParams)

    @property
    def scale(self) -> str:
        return "log-odds" if self.task == "binary" else "mg/week"

    def raw(self, frame: pd.DataFrame, arm: str | None = None) -> np.ndarray:
        """Output on the model's scale (calibrated log-odds, or the dose)."""
        z, _ = self.design.linear_matrix(frame, arm)
        return self.raw_from(z, self.design.tree_matrix(frame, arm) if self.booster is not None else None)

    def raw_from(self, z: np.ndarray, x: np.ndarray | None) -> np.ndarray:
        """:meth:`raw` from prepared matrices (``z`` linear, ``x`` tree; see :mod:`.encoder`)."""
        out = self.intercept + z @ self.coef
        if self.booster is not None:
            out = out + self.booster.predict(x, raw_score=True, num_threads=1)
        a, b = self.calibration
        return a + b * out

    def predict(self, frame: pd.DataFrame, arm: str | None = None) -> np.ndarray:
        return self.output(self.raw(frame, arm))

    def output(self, raw: np.ndarray) -> np.ndarray:
        """The model's prediction (a risk, or the dose) from its raw output."""
        return 1.0 / (1.0 + np.exp(-raw)) if self.task == "binary" else raw

    def contributions(self, frame: pd.DataFrame, arm: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(base value per row, contributions (rows × design.columns)) on the model's scale, exact."""
        z, groups = self.design.linear_matrix(frame, arm)
        return self.contributions_from(z, groups, self.design.tree_matrix(frame, arm) if self.booster is not None else None)

    def contributions_from(self, z: np.ndarray, groups: np.ndarray, x: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`contributions` from prepared matrices (``z`` linear with its column ``groups``, ``x`` tree)."""
        n_cols = len(self.design.columns)
        per_col = (z - self.z_mean) * self.coef
        contrib = np.zeros((len(z), n_cols))
        np.add.at(contrib.T, groups, per_col.T)
        base = np.full(len(z), self.intercept + float(self.z_mean @ self.coef))
        if self.booster is not None:
            tree = self.booster.predict(x, pred_contrib=True, num_threads=1)
            contrib += tree[:, :n_cols]
            base += tree[:, n_cols]
        a, b = self.calibration
        return a + b * base, b * contrib

    # --- serialisation (JSON + LightGBM text; never pickle) ---
    def to_dict(self) -> dict:
        return {
            "task": self.task, "intercept": self.intercept, "coef": self.coef.tolist(),
            "z_mean": self.z_mean.tolist(), "calibration": list(self.calibration),
            "params": self.params.__dict__, "design": self.design.to_dict(),
            "has_trees": self.booster is not None,
        }

    @classmethod
    def from_dict(cls, d: dict, booster_text: str | None = None) -> "BoostedModel":
        booster = lgb.Booster(model_str=booster_text) if booster_text else None
        return cls(design=Design.from_dict(d["design"]), task=d["task"], intercept=float(d["intercept"]),
                   coef=np.asarray(d["coef"], dtype=float), z_mean=np.asarray(d["z_mean"], dtype=float),
                   booster=booster, calibration=tuple(d["calibration"]), params=BoostParams(**d["params"]))


# --- fitting ------------------------------------------------------------------------------------


def fit_linear(design: Design, frame: pd.DataFrame, y: np.ndarray, w: np.ndarray, *, task: str,
               penalty: float) -> BoostedModel:
    """The penalised linear part alone (also the logistic-regression baseline with penalty C=1)."""
    z, _ = design.linear_matrix(frame)
    if task == "binary" and design.arms:
        intercept, coef = fit_logistic_partial(z, y, w, penalty=penalty, unpenalized=design.arm_columns())
    elif task == "binary":
        lm = LogisticRegression(C=penalty, max_iter=2000).fit(z, y, sample_weight=w)
        intercept, coef = float(lm.intercept_[0]), lm.coef_[0].astype(float)
    else:
        lm = Ridge(alpha=penalty).fit(z, y, sample_weight=w)
        intercept, coef = float(lm.intercept_), lm.coef_.astype(float)
    z_mean = np.average(z, axis=0, weights=w) if w.sum() > 0 else z.mean(axis=0)
    return BoostedModel(design=design, task=task, intercept=intercept, coef=coef, z_mean=z_mean)


ARM_RIDGE = 1e-4  # relative ridge on a trial's arm terms: essentially unpenalised (see fit_logistic_partial)


def fit_logistic_partial(z: np.ndarray, y: np.ndarray, w: np.ndarray, *, penalty: float,
                         unpenalized: np.ndarray) -> tuple[float, np.ndarray]:
    """Weighted logistic regression with a ridge penalty on every column except ``unpenalized`` (and the intercept).

    Minimises ``C·Σ wᵢ·logloss_i + ½·Σ_{penalised j} β_j²`` (scikit-learn's objective with ``C = penalty``), so
    the prognostic covariates are shrunk while the arms' main effects are estimated as in an unpenalised trial
    analysis: shrinking a treatment effect toward zero would bias every difference shown (and its bootstrap
    spread with it). The arm columns keep a ridge ``ARM_RIDGE`` times the covariates' (negligible, but it keeps
    the estimate finite if an arm had no events). Newton's method with step halving; checked against
    scikit-learn's solver in the tests.
    """
    x = np.column_stack([np.ones(len(z)), z])
    free = np.asarray(unpenalized, dtype=bool)
    pen = np.r_[0.0, np.where(free, ARM_RIDGE, 1.0)]
    c, yw = float(penalty), y * w

    def objective(beta):
        eta = x @ beta
        return c * (np.sum(w * np.logaddexp(0.0, eta)) - np.dot(yw, eta)) + 0.5 * np.sum(pen * beta * beta)

    # Newton's method with step halving (the objective is strictly convex when every column is penalised or
    # the unpenalised ones are identifiable); a few iterations reach machine precision
    beta = np.zeros(x.shape[1])
    value = objective(beta)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        grad = c * (x.T @ (w * p - yw)) + pen * beta
        hess = c * (x.T * (w * p * (1 - p))) @ x + np.diag(pen) + 1e-10 * np.eye(len(beta))
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-10:
            new = beta - t * step
            new_value = objective(new)
            if new_value <= value + 1e-12 * abs(value):
                break
            t /= 2
        beta, done = new, abs(value - new_value) <= 1e-13 * max(1.0, abs(value)) and np.max(np.abs(grad)) < 1e-8
        value = new_value
        if done or np.max(np.abs(t * step)) < 1e-12:
            break
    return float(beta[0]), beta[1:].astype(float)


def fit_boosted(design: Design, frame: pd.DataFrame, y: np.ndarray, w: np.ndarray, *, task: str,
                params: BoostParams, seed: int) -> BoostedModel:
    """Linear part, then ``params.n_trees`` LightGBM trees boosted from its output (no calibration)."""
    model = replace(fit_linear(design, frame, y, w, task=task, penalty=params.linear_penalty), params=params)
    if params.n_trees > 0:
        offset = model.raw(frame)
        data = lgb.Dataset(design.fit_tree_matrix(frame), label=y, weight=w, init_score=offset,
                           categorical_feature=design.categorical_indices, free_raw_data=False)
        model = replace(model, booster=lgb.train(params.lgb_params(seed), data, num_boost_round=params.n_trees))
    return model
