"""Choosing the tree settings and the number of trees by cross-validation on the training split."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from .boosted import BoostParams, fit_linear
from .design import Design


def tune(design: Design, frame: pd.DataFrame, y: np.ndarray, w: np.ndarray, *, task: str, folds: np.ndarray,
         grid: list[BoostParams], max_trees: int, seed: int) -> tuple[BoostParams, np.ndarray, list[dict]]:
    """Choose hyper-parameters and the number of trees by cross-validation on the training split.

    For each candidate and fold the linear part is refitted on the fold's training rows, trees are
    boosted from it, and the weighted validation loss is recorded after every tree (0 trees = linear
    only). Returns the best params (with ``n_trees`` set), the out-of-fold raw predictions of that
    choice (for calibration), and the CV table.
    """
    table, best = [], None
    for params in grid:
        curves, oof = [], {}
        for k in np.unique(folds):
            tr, va = folds != k, folds == k
            lin = fit_linear(design, frame[tr], y[tr], w[tr], task=task, penalty=params.linear_penalty)
            off_tr, off_va = lin.raw(frame[tr]), lin.raw(frame[va])
            dtrain = lgb.Dataset(design.tree_matrix(frame[tr]), label=y[tr], weight=w[tr], init_score=off_tr,
                                 categorical_feature=design.categorical_indices)
            booster = lgb.train(params.lgb_params(seed), dtrain, num_boost_round=max_trees)
            x_va = design.tree_matrix(frame[va])
            staged = np.stack([off_va] + [off_va + booster.predict(x_va, raw_score=True, num_iteration=i)
                                          for i in range(1, max_trees + 1, 10)])
            curves.append([_loss(task, y[va], s, w[va]) * w[va].sum() for s in staged])
            oof[k] = (va, staged)
        curve = np.sum(curves, axis=0) / w.sum()
        i_best = int(np.argmin(curve))
        n_trees = 0 if i_best == 0 else 1 + 10 * (i_best - 1)
        chosen = BoostParams(**{**params.__dict__, "n_trees": n_trees})
        table.append({**chosen.__dict__, "cv_loss": float(curve[i_best]), "cv_loss_linear_only": float(curve[0])})
        if best is None or curve[i_best] < best[0]:
            oof_raw = np.empty(len(y))
            for va, staged in oof.values():
                oof_raw[va] = staged[i_best]
            best = (float(curve[i_best]), chosen, oof_raw)
    return best[1], best[2], table


def _loss(task: str, y: np.ndarray, raw: np.ndarray, w: np.ndarray) -> float:
    if task == "binary":
        p = np.clip(1.0 / (1.0 + np.exp(-raw)), 1e-12, 1 - 1e-12)
        return float(np.average(-(y * np.log(p) + (1 - y) * np.log(1 - p)), weights=w))
    return float(np.average(np.abs(y - raw), weights=w))
