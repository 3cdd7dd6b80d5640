"""Train a cohort's model with an honest protocol.

1. A test split fixed by the spec's seed (stratified by arm and outcome) is set aside first. Nothing
   — fitting, tuning, calibration — ever sees it.
2. Dose cohorts only: a conformal calibration part (``CALIBRATION_FRACTION`` of the training split,
   stratified by the Mondrian group and the outcome quintile) is set aside next. The model and its
   tuning never see it; it only calibrates the split-conformal intervals (:mod:`core.uncertainty.dose_intervals`).
3. On the rows that remain (the whole training split for arm cohorts): cross-validation picks the
   linear penalty, the tree settings and the number of trees by the one-standard-error rule (the
   simplest model the evidence supports, :mod:`core.modeling.tuning`), and decides whether a logistic
   recalibration helps (:mod:`core.modeling.recalibration`); the final model is refitted on all of them.
   Trials use risk modelling (a common relative treatment effect) unless treatment-covariate interactions
   are validated (:mod:`core.modeling.heterogeneity`, the PATH statement).
4. The test split is scored once, for the model and the simple baselines in the same run.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from .. import __version__
from ..data.cohorts import ARM, PATIENT_ID, Cohort
from .boosted import BoostedModel, BoostParams, fit_boosted, fit_linear
from .design import Design
from .blend import BASELINE_PENALTY, BLEND, RECALIBRATION, blend_with_linear, decide_calibration, oof_linear
from . import race_gap as RG
from ..evaluation.baselines import IWPC_COLUMNS
from .recalibration import decide_recalibration
from .tuning import tune
from ..data.survival import horizon_outcome

N_FOLDS = 5
CALIBRATION_FRACTION = 0.2  # dose cohorts: share of the training split kept for conformal calibration only


@dataclass(frozen=True)
class Labels:
    """What the model learns from: y, its weights (IPCW for censored outcomes), and a stratum per row."""

    y: np.ndarray
    weight: np.ndarray
    strata: np.ndarray
    n_censored_before_horizon: int = 0


def labels_for(cohort: Cohort, rows: np.ndarray | None = None) -> Labels:
    """Labels of all patients, or of ``rows`` only (a boolean mask).

    IPCW weights come from the censoring distribution of the same rows, so training weights never
    depend on a test patient's follow-up (and vice versa).
    """
    spec, frame = cohort.spec, cohort.frame
    if rows is not None:
        frame = frame[rows].reset_index(drop=True)
    o = spec.outcome
    if o.type == "continuous":
        y = frame[o.column].to_numpy(float)
        return Labels(y=y, weight=np.ones(len(y)), strata=pd.qcut(y, 5, labels=False, duplicates="drop").astype(str))
    if o.type == "binary":
        y = frame[o.column].to_numpy(float)
        return Labels(y=y, weight=np.ones(len(y)), strata=(frame[ARM] + "_" + y.astype(int).astype(str)).to_numpy())
    ho = horizon_outcome(frame[o.time_column], frame[o.event_column], o.horizon, strata=frame[ARM])
    status = np.where(ho.known, ho.filled_label().astype(int).astype(str), "censored")
    return Labels(y=ho.filled_label(), weight=ho.weight, strata=(frame[ARM] + "_" + status).to_numpy(),
                  n_censored_before_horizon=ho.n_censored_before_horizon)


def split_test(cohort: Cohort, labels: Labels) -> np.ndarray:
    """Boolean mask of the held-out test split, fixed by the spec's seed."""
    idx = np.arange(cohort.n)
    _, test = train_test_split(idx, test_size=cohort.spec.test_fraction, random_state=cohort.spec.seed,
                               stratify=labels.strata)
    mask = np.zeros(cohort.n, dtype=bool)
    mask[test] = True
    return mask


def default_grid(task: str) -> tuple[list[BoostParams], int]:
    """Candidate settings, fixed before any test-split number was seen; strongly regularised."""
    if task == "binary":
        grid = [BoostParams(linear_penalty=c, num_leaves=nl, min_data_in_leaf=md, objective="binary")
                for c in (0.03, 0.3) for nl in (3, 7) for md in (40, 100)]
        return grid, 300
    grid = [BoostParams(linear_penalty=1.0, num_leaves=nl, min_data_in_leaf=100, objective=obj, learning_rate=0.05)
            for nl in (7, 15) for obj in ("huber", "regression_l1")]
    return grid, 600


@dataclass
class TrainingResult:
    """Everything a bundle stores: the fitted model, baselines, and the record of how it was made."""

    cohort: Cohort
    model: BoostedModel
    baseline: BoostedModel | None
    test_mask: np.ndarray
    labels: Labels  # of the training split
    test_labels: Labels  # of the test split, from its own censoring distribution
    info: dict = field(default_factory=dict)
    iwpc_impute: dict = field(default_factory=dict)
    oof_raw: np.ndarray | None = None  # out-of-fold predictions (model scale, uncalibrated); NaN on calibration rows
    folds: np.ndarray | None = None  # CV fold of each training-split row; -1 on the conformal calibration part
    calibration_rows: np.ndarray | None = None  # dose cohorts: training-split rows the model and tuning never saw

    @property
    def spec(self):
        return self.cohort.spec

    @property
    def train_frame(self) -> pd.DataFrame:
        return self.cohort.frame[~self.test_mask].reset_index(drop=True)

    @property
    def test_frame(self) -> pd.DataFrame:
        return self.cohort.frame[self.test_mask].reset_index(drop=True)


def train(cohort: Cohort, *, progress: Callable[[str], None] | None = None, grid=None, max_trees=None,
          test_mask: np.ndarray | None = None) -> TrainingResult:
    """The protocol above. ``test_mask`` (boolean, one per patient) replaces the seeded random test split,
    e.g. one site held out (:mod:`core.modeling.site_validation`); everything else runs unchanged on the rest."""
    say = progress or (lambda _msg: None)
    spec = cohort.spec
    task = "regression" if spec.is_dose else "binary"
    test = split_test(cohort, labels_for(cohort)) if test_mask is None else np.asarray(test_mask, dtype=bool).copy()
    frame = cohort.frame[~test].reset_index(drop=True)
    labels = labels_for(cohort, ~test)
    say(f"{spec.name}: {cohort.n} patients; {int((~test).sum())} train, {int(test.sum())} held-out test (seed {spec.seed})")
    calibration = split_calibration(cohort, frame, labels) if spec.is_dose else np.zeros(len(frame), dtype=bool)
    fit = ~calibration
    if calibration.any():
        say(f"set aside {int(calibration.sum())} training patients for conformal calibration only "
            f"(never used to fit or tune the model)")
    f_frame = frame[fit].reset_index(drop=True)
    y, w, strata = labels.y[fit], labels.weight[fit], labels.strata[fit]
    if spec.is_dose:  # dose quintiles of the fitting rows only: the calibration part's doses never shape the folds
        strata = pd.qcut(y, 5, labels=False, duplicates="drop").astype(str)
    design = Design.fit(spec, f_frame)
    fit_folds = _folds(strata, seed=spec.seed)
    default, default_max = default_grid(task)
    grid, max_trees = grid or default, max_trees or default_max
    say(f"tuning {len(grid)} settings by {N_FOLDS}-fold cross-validation on the training split")
    linear_cache: dict = {}
    params, oof_fit, cv_table = tune(design, f_frame, y, w, task=task, folds=fit_folds, grid=grid,
                                     max_trees=max_trees, seed=spec.seed, linear_cache=linear_cache)
    say(f"chose {params.n_trees} trees (num_leaves={params.num_leaves}, linear penalty={params.linear_penalty}; "
        "one-standard-error rule)")
    heterogeneity = None
    if design.arms and spec.treatment.randomized:
        from .heterogeneity import check_heterogeneity

        say("risk modelling by default (PATH): checking whether treatment-covariate interactions are validated")
        effect_design = replace(design, effect_modelling=True)
        e_params, e_oof, e_table = tune(effect_design, f_frame, y, w, task=task, folds=fit_folds, grid=grid,
                                        max_trees=max_trees, seed=spec.seed, linear_cache=linear_cache)
        check = check_heterogeneity(design, f_frame, y, w, effect_params=e_params, risk_params=params, seed=spec.seed)
        heterogeneity = check.to_dict()
        say(f"{'effect' if check.effect_modelling else 'risk'} modelling: {check.reason}")
        if check.effect_modelling:
            design, params, oof_fit, cv_table = effect_design, e_params, e_oof, e_table
    model = fit_boosted(design, f_frame, y, w, task=task, params=params, seed=spec.seed)
    impute, race_gap = {}, None
    if spec.is_dose and {"height_cm", "weight_kg"} <= set(spec.feature_names):
        impute = {c: float(frame[c].median()) for c in ("height_cm", "weight_kg")}
    if spec.is_dose and set(IWPC_COLUMNS) <= set(spec.feature_names):  # the race gap against the IWPC formula
        race_gap = RG.cross_validate(design, f_frame, y, fit_folds, params=params, seed=spec.seed, impute=impute,
                                     oof_fitted=oof_fit, say=say)
        say(f"race gap: chose '{race_gap['chosen']}' by cross-validation on the training split (test split unused)")
        if race_gap["chosen"] != RG.AS_FITTED:
            model = RG.fit_candidate(race_gap["chosen"], design, f_frame, y, f_frame["race"].astype(str).to_numpy(),
                                     params=params, seed=spec.seed, shifts=race_gap["shifts_all_rows"])
    recalibration = calibration_method = None
    baseline = None if spec.is_dose else fit_linear(design, f_frame, y, w, task="binary", penalty=BASELINE_PENALTY)
    if task == "binary":
        decision = decide_recalibration(oof_fit, y, w, fit_folds)
        choice = decide_calibration(oof_fit, oof_linear(design, f_frame, y, w, fit_folds), y, w, fit_folds, decision)
        if choice.method == BLEND:
            model = blend_with_linear(model, baseline, choice.blend_weight)
        elif choice.method == RECALIBRATION:
            model = replace(model, calibration=decision.calibration)
        recalibration = {**decision.to_dict(), "applied": list(model.calibration),
                         "used": choice.method == RECALIBRATION}
        calibration_method = choice.to_dict()
        say(decision.summary())
        say(choice.summary())
    folds = np.full(len(frame), -1)
    folds[fit] = fit_folds
    oof_raw = np.full(len(frame), np.nan)
    oof_raw[fit] = oof_fit
    info = {
        "n_total": cohort.n, "n_train": int((~test).sum()), "n_test": int(test.sum()),
        "n_fit": int(fit.sum()), "n_calibration": int(calibration.sum()),
        "calibration_split": _calibration_record(spec, calibration),
        "n_censored_before_horizon_train": labels.n_censored_before_horizon,
        "test_patient_ids": cohort.frame.loc[test, PATIENT_ID].astype(str).tolist(),
        "cv": cv_table, "chosen": params.__dict__, "folds": N_FOLDS, "recalibration": recalibration,
        "calibration_method": calibration_method, "race_gap": race_gap, "heterogeneity": heterogeneity,
        "modelling": design.modelling if design.arms else None,
        "data_sha256": cohort.source.get("sha256", ""), "source": cohort.source,
        "exclusions": list(cohort.exclusions), "versions": versions(),
    }
    say("fitted final model on the training rows")
    return TrainingResult(cohort=cohort, model=model, baseline=baseline, test_mask=test, labels=labels,
                          test_labels=labels_for(cohort, test), info=info, iwpc_impute=impute, oof_raw=oof_raw,
                          folds=folds, calibration_rows=calibration)


def split_calibration(cohort: Cohort, frame: pd.DataFrame, labels: Labels) -> np.ndarray:
    """Boolean mask (over the training split) of the conformal calibration part, fixed by the spec's seed.

    Stratified by the Mondrian group and the outcome quintile, so every group keeps its share of
    calibration rows. Depends only on training-split rows, never on the test split.
    """
    from ..uncertainty.dose_intervals import dose_groups

    strata = pd.Series(dose_groups(cohort.spec, frame)).astype(str) + "_" + pd.Series(labels.strata).astype(str)
    counts = strata.map(strata.value_counts())
    strata = strata.where(counts >= 2, "rare").to_numpy()
    idx = np.arange(len(frame))
    _, cal = train_test_split(idx, test_size=CALIBRATION_FRACTION, random_state=cohort.spec.seed + 1, stratify=strata)
    mask = np.zeros(len(frame), dtype=bool)
    mask[cal] = True
    return mask


def _calibration_record(spec, calibration: np.ndarray) -> dict | None:
    if not calibration.any():
        return None
    return {"fraction": CALIBRATION_FRACTION, "n": int(calibration.sum()), "seed": spec.seed + 1,
            "stratified_by": f"{spec.protected[0].name} and outcome quintile",
            "used_for": "split-conformal calibration of the dose intervals only; the model, its tuning and "
                        "its baselines never saw these rows"}


def _folds(strata: np.ndarray, *, seed: int) -> np.ndarray:
    values, counts = np.unique(strata, return_counts=True)
    strata = np.where(np.isin(strata, values[counts < N_FOLDS]), "rare", strata)  # e.g. few censored in an arm
    folds = np.zeros(len(strata), dtype=int)
    skf = StratifiedKFold(N_FOLDS, shuffle=True, random_state=seed)
    for k, (_, va) in enumerate(skf.split(np.zeros(len(strata)), strata)):
        folds[va] = k
    return folds


def versions() -> dict:
    import lightgbm
    import shap
    import sklearn

    return {"equipoise": __version__, "lightgbm": lightgbm.__version__, "scikit-learn": sklearn.__version__,
            "shap": shap.__version__, "numpy": np.__version__, "pandas": pd.__version__,
            "python": platform.python_version()}
