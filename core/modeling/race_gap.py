"""Narrowing the race gap of the dose model: mitigations compared by cross-validation on the training split.

The gap is the difference in mean absolute error (mg/week) between two race groups: Black − White and
Asian − White (positive: the first group's doses are predicted less accurately). Candidates:

- ``as fitted``: the tuned model (unit weights);
- ``reweighted (1/sqrt n)`` and ``reweighted (1/n)``: training weights inversely proportional to the square
  root of, or to, the race group's size, so small groups count more in the loss;
- ``relative-error loss``: weights 1/dose, so the loss is the error relative to the stable dose;
- ``group-aware calibration``: the model as fitted plus a per-race shift, the median out-of-fold residual of
  the group (cross-fitted: each fold's shift estimated on the other folds); kept exactly explainable by
  folding the shift into the linear part's race coefficients;
- ``bounded group loss (fairlearn)``: fairlearn's exponentiated-gradient reduction with
  ``BoundedGroupLoss(AbsoluteLoss)`` (every race group's mean absolute error bounded by the as-fitted model's
  overall one) on the linear design. A randomized mixture of regressors, scored by its expected error;
  shown for the trade-off, never deployed (it has no exact per-patient explanation).

Each candidate keeps the hyper-parameters tuned for the model and is scored on the same 5 folds of the
training rows the model was fitted on; the IWPC formula is scored on those rows too (in-sample for it).
**Operating-point rule** (:data:`RULE`): among deployable candidates whose cross-validated overall MAE is
at most ``MAE_BUDGET`` above the as-fitted model's, take the smallest cross-validated |Black − White| gap;
gaps within ``TIE`` mg/week of it go to the lowest overall MAE. The test split is never looked at; it is
scored once, for every candidate, afterwards (:func:`score_on_test`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..evaluation.baselines import iwpc_doses
from .boosted import BoostedModel, fit_boosted

WHITE, BLACK, ASIAN = "White", "Black or African American", "Asian"
AS_FITTED, SQRT, INVERSE, RELATIVE = "as fitted", "reweighted (1/sqrt n)", "reweighted (1/n)", "relative-error loss"
GROUP_CAL, BGL = "group-aware calibration", "bounded group loss (fairlearn)"
DEPLOYABLE = (AS_FITTED, SQRT, INVERSE, RELATIVE, GROUP_CAL)
TIE = 0.05         # mg/week: gaps this close count as equal
MAE_BUDGET = 0.10  # mg/week: how much overall accuracy a mitigation may cost
RULE = (f"among deployable mitigations whose cross-validated overall MAE on the training split is at most {MAE_BUDGET} "
        f"mg/week above the model's as fitted, the smallest cross-validated |Black - White| MAE gap (gaps within {TIE} "
        "mg/week: the lower MAE). The IWPC formula is not a criterion there: it was derived on these patients. The "
        "test split is not used.")


def gaps(y: np.ndarray, pred_error: np.ndarray, race: np.ndarray) -> dict:
    """Overall MAE, MAE per race group and the two gaps, from absolute errors ``pred_error``."""
    by = {g: float(pred_error[race == g].mean()) if (race == g).any() else float("nan") for g in (WHITE, BLACK, ASIAN)}
    return {"mae": float(pred_error.mean()), "mae_by_race": by, "n": int(len(y)),
            "black_white_gap": by[BLACK] - by[WHITE], "asian_white_gap": by[ASIAN] - by[WHITE]}


def _weights(name: str, y: np.ndarray, race: np.ndarray) -> np.ndarray:
    size = pd.Series(race).map(pd.Series(race).value_counts()).to_numpy(float)
    w = {SQRT: size ** -0.5, INVERSE: 1.0 / size, RELATIVE: 1.0 / np.maximum(y, 1.0)}.get(name, np.ones(len(y)))
    return w / w.mean()


def _shifts(residual: np.ndarray, race: np.ndarray) -> dict:
    """Per-race median residual (observed − predicted)."""
    return {g: float(np.median(residual[race == g])) for g in np.unique(race)}


def fit_candidate(name: str, design, frame, y, race, *, params, seed: int, shifts: dict | None = None) -> BoostedModel:
    """One deployable candidate fitted on ``frame``; group calibration adds ``shifts`` (per race, mg/week)."""
    model = fit_boosted(design, frame, y, _weights(name, y, race), task="regression", params=params, seed=seed)
    return shift_by_group(model, shifts or {}) if name == GROUP_CAL else model


def shift_by_group(model: BoostedModel, shifts: dict) -> BoostedModel:
    """Add ``shifts[group]`` mg/week to every prediction of that race group, inside the linear part (exact).

    The reference category's shift goes into the intercept; each other category's dummy coefficient gets its
    shift minus the reference's. A patient with no recorded race gets the reference's shift.
    """
    start = 0
    for f in model.design.features:  # the same column layout as Design.linear_matrix
        width = 1 if f["type"] in ("numeric", "binary") else len(f["categories"]) - 1
        if f["name"] == "race":
            break
        start += width + bool(f["missing_column"])
    cats = f["categories"]
    coef, ref = model.coef.copy(), shifts.get(cats[0], 0.0)
    for k, cat in enumerate(cats[1:]):
        coef[start + k] += shifts.get(cat, 0.0) - ref
    return replace(model, coef=coef, intercept=model.intercept + ref)


def cross_validate(design, frame: pd.DataFrame, y: np.ndarray, folds: np.ndarray, *, params, seed: int,
                   impute: dict, oof_fitted: np.ndarray, say=lambda _m: None) -> dict:
    """Out-of-fold errors of every candidate and of the IWPC formula on the training rows; the chosen one.
    ``oof_fitted``: the tuned model's own out-of-fold predictions (from tuning, same folds)."""
    race = frame["race"].astype(str).to_numpy()
    oof = {AS_FITTED: np.asarray(oof_fitted, float)}
    for name in (SQRT, INVERSE, RELATIVE):
        say(f"race gap: cross-validating '{name}'")
        oof[name] = np.empty(len(y))
        for k in np.unique(folds):
            tr, va = folds != k, folds == k
            m = fit_candidate(name, design, frame[tr], y[tr], race[tr], params=params, seed=seed)
            oof[name][va] = m.predict(frame[va])
    oof[GROUP_CAL] = np.empty(len(y))
    resid = y - oof[AS_FITTED]
    for k in np.unique(folds):
        va = folds == k
        shift = _shifts(resid[~va], race[~va])
        oof[GROUP_CAL][va] = oof[AS_FITTED][va] + np.array([shift.get(g, 0.0) for g in race[va]])
    table = {name: gaps(y, np.abs(p - y), race) for name, p in oof.items()}
    table[BGL] = _bgl_cv(design, frame, y, race, folds, bound=table[AS_FITTED]["mae"])
    formula = gaps(y, np.abs(iwpc_doses(frame, impute=impute) - y), race)
    return {"candidates": table, "iwpc_formula": formula, "chosen": choose(table, formula), "rule": RULE,
            "n_rows": int(len(y)), "shifts_all_rows": _shifts(resid, race)}


def choose(table: dict, formula: dict) -> str:
    """The operating-point rule (:data:`RULE`) applied to cross-validated numbers (``formula`` is reported only)."""
    budget = table[AS_FITTED]["mae"] + MAE_BUDGET
    eligible = [n for n in DEPLOYABLE if table[n]["mae"] <= budget]
    best = min(abs(table[n]["black_white_gap"]) for n in eligible)
    close = [n for n in eligible if abs(table[n]["black_white_gap"]) <= best + TIE]
    return min(close, key=lambda n: (table[n]["mae"], n != AS_FITTED))


def _bgl_fit(x, y, race, bound: float):
    from fairlearn.reductions import AbsoluteLoss, BoundedGroupLoss, ExponentiatedGradient
    from sklearn.linear_model import Ridge

    hi = float(max(y.max(), 1.0)) * 1.5
    eg = ExponentiatedGradient(Ridge(alpha=1.0), constraints=BoundedGroupLoss(AbsoluteLoss(0.0, hi),
                                                                              upper_bound=bound / hi), max_iter=30)
    eg.fit(x, y, sensitive_features=race)
    return eg


def _bgl_errors(eg, x, y) -> np.ndarray:
    """Expected absolute error of the randomized mixture (each regressor weighted by its probability)."""
    err = np.zeros(len(y))
    for t, weight in eg.weights_.items():
        if weight > 0:
            err += weight * np.abs(eg.predictors_[t].predict(x) - y)
    return err


def _bgl_cv(design, frame, y, race, folds, *, bound: float) -> dict:
    x, _ = design.linear_matrix(frame)
    err = np.empty(len(y))
    for k in np.unique(folds):
        tr, va = folds != k, folds == k
        err[va] = _bgl_errors(_bgl_fit(x[tr], y[tr], race[tr], bound), x[va], y[va])
    return {**gaps(y, err, race), "deployable": False}


def score_on_test(result, cv: dict) -> dict:
    """Every candidate refitted on all training rows the model saw, then scored once on the test split."""
    fit = ~result.calibration_rows
    frame = result.train_frame[fit].reset_index(drop=True)
    y, race = result.labels.y[fit], frame["race"].astype(str).to_numpy()
    test, y_test = result.test_frame, result.test_labels.y
    race_test = test["race"].astype(str).to_numpy()
    params, seed, design = result.model.params, result.spec.seed, result.model.design
    out = {}
    for name in (SQRT, INVERSE, RELATIVE):  # as fitted and group calibration below
        m = fit_candidate(name, design, frame, y, race, params=params, seed=seed)
        out[name] = gaps(y_test, np.abs(m.predict(test) - y_test), race_test)
    base = fit_candidate(AS_FITTED, design, frame, y, race, params=params, seed=seed)
    out[AS_FITTED] = gaps(y_test, np.abs(base.predict(test) - y_test), race_test)
    shifted = shift_by_group(base, cv["shifts_all_rows"])
    out[GROUP_CAL] = gaps(y_test, np.abs(shifted.predict(test) - y_test), race_test)
    x, _ = design.linear_matrix(frame)
    eg = _bgl_fit(x, y, race, cv["candidates"][AS_FITTED]["mae"])
    out[BGL] = {**gaps(y_test, _bgl_errors(eg, design.linear_matrix(test)[0], y_test), race_test), "deployable": False}
    formula = gaps(y_test, np.abs(iwpc_doses(test, impute=result.iwpc_impute) - y_test), race_test)
    return {"candidates": out, "iwpc_formula": formula, "n": int(len(y_test))}
