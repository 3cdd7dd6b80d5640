"""Is treatment-effect heterogeneity validated? Risk modelling by default, effect modelling only when earned.

The PATH statement (Kent et al., Ann Intern Med 2020;172:35-45) recommends *risk modelling* for predictive
analyses of trials: a model of baseline risk fitted on all arms with the trial's average relative treatment
effect, so a patient's absolute benefit varies only through their baseline risk. *Effect modelling* — letting
the treatment interact with covariates — is allowed only where the heterogeneity it finds is validated.

The check, on the training split only (the test split is never looked at):

1. The effect model (the same recipe with the arm available to the trees, so trees can learn arm-by-covariate
   interactions) is tuned by the same cross-validation and one-standard-error rule as the risk model. If it
   chooses no trees, it *is* the risk model: nothing to validate.
2. Otherwise, ``REPEATS`` times, patients are split into ``N_FOLDS`` folds (stratified by arm); each fold's
   predicted benefit of every active arm over the reference arm comes from models fitted on the other folds,
   for the effect model and for the risk model alike. The repeats' out-of-fold benefits are averaged.
3. For each active arm against the reference arm, the c-for-benefit (van Klaveren et al., J Clin Epidemiol
   2018) of those out-of-fold benefits, with a 95% interval from ``N_BOOT`` resamples drawn within each arm.

Effect modelling is used only if, for **every** active arm, the effect model's interval lies above 0.5 *and*
its c-for-benefit is higher than the risk model's (otherwise the interactions add nothing the baseline risk
does not already explain).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..data.cohorts import ARM
from ..evaluation.metrics import c_for_benefit
from .boosted import BoostParams, fit_boosted
from .design import Design

REPEATS = 2
N_FOLDS = 5
N_BOOT = 200
LEVEL = 0.95
RULE = ("effect modelling (treatment-covariate interactions in the trees) only if, for every active arm against the "
        "reference arm, the cross-validated c-for-benefit of the effect model on the training split has a 95% interval "
        "above 0.5 and exceeds the risk model's; otherwise risk modelling (a common relative treatment effect, PATH "
        "statement)")


@dataclass(frozen=True)
class ArmHeterogeneity:
    """One active arm against the reference: out-of-fold c-for-benefit of the effect and the risk model."""

    arm: str
    reference: str
    c_effect: float
    interval: tuple[float, float]
    c_risk: float

    @property
    def validated(self) -> bool:
        return bool(np.isfinite(self.interval[0]) and self.interval[0] > 0.5 and self.c_effect > self.c_risk)

    def to_dict(self) -> dict:
        return {"arm": self.arm, "reference": self.reference, "c_for_benefit_effect_model": _num(self.c_effect),
                "interval": [_num(v) for v in self.interval], "c_for_benefit_risk_model": _num(self.c_risk),
                "validated": self.validated}


@dataclass(frozen=True)
class HeterogeneityCheck:
    """The decision between risk and effect modelling, and the numbers behind it."""

    effect_modelling: bool
    effect_n_trees: int
    arms: tuple[ArmHeterogeneity, ...]
    reason: str

    def to_dict(self) -> dict:
        return {"effect_modelling": self.effect_modelling, "chosen": "effect modelling" if self.effect_modelling
                else "risk modelling", "effect_model_trees": self.effect_n_trees, "rule": RULE,
                "repeats": REPEATS, "folds": N_FOLDS, "n_boot": N_BOOT, "reason": self.reason,
                "arms": [a.to_dict() for a in self.arms]}


def _num(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def check_heterogeneity(design: Design, frame: pd.DataFrame, y: np.ndarray, w: np.ndarray, *,
                        effect_params: BoostParams, risk_params: BoostParams, seed: int) -> HeterogeneityCheck:
    """Run the check of the module doc. ``design`` is the risk-modelling design; ``effect_params`` the effect
    model's tuned settings (``n_trees`` chosen by the same rule), ``risk_params`` the risk model's."""
    if effect_params.n_trees == 0:
        return HeterogeneityCheck(False, 0, (), "the effect model chose no trees: it is the risk model (no "
                                                "treatment-covariate interaction beats a common relative effect)")
    effect_design = replace(design, effect_modelling=True)
    arms = frame[ARM].astype(str).to_numpy()
    reference = design.reference
    active = [a for a in design.arms if a != reference]
    oof = {kind: {a: np.zeros(len(y)) for a in active} for kind in ("effect", "risk")}
    for r in range(REPEATS):
        folds = _arm_folds(arms, seed=seed + 1000 + r)
        for k in range(N_FOLDS):
            tr, va = folds != k, folds == k
            rows, held = frame[tr].reset_index(drop=True), frame[va].reset_index(drop=True)
            for kind, d, p in (("effect", effect_design, effect_params), ("risk", design, risk_params)):
                model = fit_boosted(d, rows, y[tr], w[tr], task="binary", params=p, seed=seed)
                ref = model.predict(held, arm=reference)
                for a in active:
                    oof[kind][a][va] += (ref - model.predict(held, arm=a)) / REPEATS
    out = []
    for a in active:
        pair = (arms == a) | (arms == reference)
        treated = (arms == a)[pair]
        c_e = c_for_benefit(oof["effect"][a][pair], treated, y[pair], sample_weight=w[pair], seed=seed)
        c_r = c_for_benefit(oof["risk"][a][pair], treated, y[pair], sample_weight=w[pair], seed=seed)
        out.append(ArmHeterogeneity(a, reference, float(c_e), _interval(oof["effect"][a][pair], treated, y[pair],
                                                                         w[pair], seed=seed), float(c_r)))
    ok = bool(out) and all(a.validated for a in out)
    reason = ("heterogeneity validated for every active arm" if ok else
              "heterogeneity not validated for " + ", ".join(f"{a.arm} vs {a.reference}" for a in out
                                                             if not a.validated))
    return HeterogeneityCheck(ok, effect_params.n_trees, tuple(out), reason)


def _arm_folds(arms: np.ndarray, *, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    folds = np.empty(len(arms), dtype=int)
    for a in np.unique(arms):
        idx = rng.permutation(np.flatnonzero(arms == a))
        folds[idx] = np.arange(len(idx)) % N_FOLDS
    return folds


def _interval(benefit, treated, y, w, *, seed: int) -> tuple[float, float]:
    """95% percentile interval of the c-for-benefit over resamples drawn within each arm."""
    rng = np.random.default_rng(seed)
    by_arm = [np.flatnonzero(treated), np.flatnonzero(~treated)]
    values = []
    for b in range(N_BOOT):
        i = np.concatenate([rng.choice(idx, size=idx.size, replace=True) for idx in by_arm])
        values.append(c_for_benefit(benefit[i], treated[i], y[i], sample_weight=w[i], seed=seed + b))
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < N_BOOT // 2:
        return (float("nan"), float("nan"))
    tail = 100 * (1 - LEVEL) / 2
    lo, hi = np.percentile(v, [tail, 100 - tail])
    return float(lo), float(hi)
