"""Choosing the tree settings and the number of trees by cross-validation on the training split.

The simplest model the evidence supports (the one-standard-error rule, Breiman et al. 1984; Hastie, Tibshirani
& Friedman, *Elements of Statistical Learning* §7.10): every candidate — each grid setting with 0 trees (the
penalised linear model alone: logistic regression with arm terms for a trial) up to ``max_trees`` trees — has a
cross-validated loss. The candidate with the lowest loss sets a bar: that loss plus its standard error across
folds. Among the candidates under the bar, the one with the fewest trees is chosen (then the lowest loss). A
boosted model is therefore used only where it beats the linear model by more than the noise of the estimate.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from .boosted import BoostParams, fit_linear
from .design import Design

STEP = 10  # trees between two recorded points of the validation curve
RULE = ("one-standard-error rule on the cross-validated loss: the fewest trees (0 = the penalised linear model "
        "alone) whose loss is within one standard error (across folds) of the lowest")


def tune(design: Design, frame: pd.DataFrame, y: np.ndarray, w: np.ndarray, *, task: str, folds: np.ndarray,
         grid: list[BoostParams], max_trees: int, seed: int,
         linear_cache: dict | None = None) -> tuple[BoostParams, np.ndarray, list[dict]]:
    """Choose hyper-parameters and the number of trees by cross-validation on the training split.

    For each candidate and fold the linear part is refitted on the fold's training rows, trees are
    boosted from it, and the weighted validation loss is recorded every ``STEP`` trees (0 trees = linear
    only). The choice follows the one-standard-error rule (module doc). Returns the chosen params (with
    ``n_trees`` set), the out-of-fold raw predictions of that choice (for calibration), and the CV table.
    """
    fold_ids = np.unique(folds)
    linear = {} if linear_cache is None else linear_cache
    candidates = []  # (params, per-fold loss per stage (folds × stages), pooled curve, oof per fold)
    for params in grid:
        per_fold, weighted, oof = [], [], {}
        for k in fold_ids:
            tr, va = folds != k, folds == k
            key = (int(k), float(params.linear_penalty))
            if key not in linear:  # the linear part does not depend on the tree settings: fitted once per fold
                lin = fit_linear(design, frame[tr], y[tr], w[tr], task=task, penalty=params.linear_penalty)
                linear[key] = (lin.raw(frame[tr]), lin.raw(frame[va]))
            off_tr, off_va = linear[key]
            dtrain = lgb.Dataset(design.fit_tree_matrix(frame[tr]), label=y[tr], weight=w[tr], init_score=off_tr,
                                 categorical_feature=design.categorical_indices)
            booster = lgb.train(params.lgb_params(seed), dtrain, num_boost_round=max_trees)
            staged = _staged(booster, design.tree_matrix(frame[va]), off_va, max_trees)
            losses = np.array([_loss(task, y[va], s, w[va]) for s in staged])
            per_fold.append(losses)
            weighted.append(losses * w[va].sum())
            oof[k] = (va, staged)
        curve = np.sum(weighted, axis=0) / w.sum()
        candidates.append((params, np.asarray(per_fold), curve, oof))
    best_i, best_s = min(((i, int(np.argmin(c[2]))) for i, c in enumerate(candidates)),
                         key=lambda t: candidates[t[0]][2][t[1]])
    best_loss = float(candidates[best_i][2][best_s])
    best_folds = candidates[best_i][1][:, best_s]
    se = float(best_folds.std(ddof=1) / np.sqrt(len(best_folds))) if len(best_folds) > 1 else 0.0
    bar = best_loss + se
    choices = [(_n_trees(s), float(c[2][s]), i, s) for i, c in enumerate(candidates)
               for s in range(len(c[2])) if c[2][s] <= bar + 1e-12]
    n_trees, _, ci, cs = min(choices)
    table = []
    for i, (params, _pf, curve, _oof) in enumerate(candidates):
        s_min = int(np.argmin(curve))
        table.append({**params.__dict__, "n_trees": _n_trees(s_min), "cv_loss": float(curve[s_min]),
                      "cv_loss_linear_only": float(curve[0]), "chosen": i == ci,
                      "chosen_n_trees": n_trees if i == ci else None,
                      "chosen_cv_loss": float(curve[cs]) if i == ci else None})
    chosen = BoostParams(**{**candidates[ci][0].__dict__, "n_trees": n_trees})
    oof_raw = np.empty(len(y))
    for va, staged in candidates[ci][3].values():
        oof_raw[va] = staged[cs]
    for row in table:
        row["rule"] = RULE
        row["lowest_cv_loss"], row["standard_error"] = best_loss, se
    return chosen, oof_raw, table


def _staged(booster, x: np.ndarray, offset: np.ndarray, max_trees: int) -> np.ndarray:
    """Raw validation outputs after 0, 1, 11, 21, … trees: each block of trees is predicted once and summed
    (linear in the number of trees, where predicting every prefix from the start would be quadratic)."""
    stops = list(range(1, max_trees + 1, STEP))
    out, running, done = [offset], offset.copy(), 0
    for stop in stops:
        running = running + booster.predict(x, raw_score=True, start_iteration=done, num_iteration=stop - done)
        done = stop
        out.append(running)
    return np.stack(out)


def _n_trees(stage: int) -> int:
    return 0 if stage == 0 else 1 + STEP * (stage - 1)


def _loss(task: str, y: np.ndarray, raw: np.ndarray, w: np.ndarray) -> float:
    if task == "binary":
        p = np.clip(1.0 / (1.0 + np.exp(-raw)), 1e-12, 1 - 1e-12)
        return float(np.average(-(y * np.log(p) + (1 - y) * np.log(1 - p)), weights=w))
    return float(np.average(np.abs(y - raw), weights=w))
