"""Score the held-out test split once: the model beside its simple baselines, in the same run."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .._format import estimate_interval
from . import metrics as M
from .._errors import BaselineWinsWarning
from .baselines import FIXED_DOSE_MG_PER_WEEK, iwpc_doses

if TYPE_CHECKING:  # annotations only: modeling imports evaluation, not the other way round
    from ..modeling.training import TrainingResult

# metric -> True when higher is better
BINARY_METRICS = {"auc": True, "brier": False, "calibration_intercept": None, "calibration_slope": None}
DOSE_METRICS = {"mae": False, "within_20": True, "mean_error": None}


@dataclass(frozen=True)
class Evaluation:
    """A test-split comparison table: ``rows`` (one per model/baseline) plus a plain-language verdict."""

    task: str
    rows: list[dict]
    verdict: str
    model_beats_baselines: bool
    n_test: int
    notes: tuple[str, ...] = ()
    paired: dict | None = None  # model minus each baseline on the test split, with paired bootstrap intervals

    def row(self, name: str) -> dict:
        return next(r for r in self.rows if r["name"] == name)

    def to_dict(self) -> dict:
        return {"task": self.task, "n_test": self.n_test, "rows": self.rows, "verdict": self.verdict,
                "model_beats_baselines": self.model_beats_baselines, "notes": list(self.notes),
                "paired": self.paired}

    @classmethod
    def from_dict(cls, d: dict) -> "Evaluation":
        return cls(task=d["task"], rows=d["rows"], verdict=d["verdict"], n_test=d["n_test"],
                   model_beats_baselines=d["model_beats_baselines"], notes=tuple(d.get("notes", ())),
                   paired=d.get("paired"))

    def table(self) -> str:
        """A fixed-width text table for the CLI: one line per metric, one column per model/baseline."""
        metrics = [k for k in self.rows[0] if k not in ("name", "description")]
        width = max(len(m) for m in metrics) + 2
        short = [r["name"].split(" (")[0] for r in self.rows]
        lines = [" " * width + "".join(f"{s:>30s}" for s in short)]
        lines += [f"{m:<{width}s}" + "".join(f"{_cell(r[m]):>30s}" for r in self.rows) for m in metrics]
        return "\n".join(lines)


def describe_model(result: TrainingResult) -> str:
    """What the chosen model is, in words: the one-standard-error rule may choose no trees at all."""
    n = result.model.params.n_trees
    what = (f"the chosen model: penalised {'logistic' if result.model.task == 'binary' else 'linear'} regression"
            + (" with arm terms" if result.model.design.arms else "") + " (no trees)" if n == 0
            else f"the chosen model: linear part + {n} boosted trees")
    if result.model.design.arms:
        what += ("; effect modelling (validated interactions)" if result.model.design.effect_modelling
                 else "; risk modelling (a common relative treatment effect)")
    return what + "; chosen by cross-validation with the one-standard-error rule"


def evaluate(result: TrainingResult) -> Evaluation:
    return _evaluate_dose(result) if result.spec.is_dose else _evaluate_arms(result)


def _evaluate_arms(result: TrainingResult) -> Evaluation:
    spec, test = result.spec, result.test_frame
    y, w = result.test_labels.y, result.test_labels.weight
    rows = []
    for name, model, desc in (("equipoise (linear + boosted trees)", result.model, describe_model(result)),
                              ("logistic regression", result.baseline, "baseline: main effects + arm, C=1")):
        p = model.predict(test)
        intercept, slope = M.calibration_intercept_slope(y, p, sample_weight=w)
        low, high = _slope_interval(y, p, w, seed=spec.seed)
        row = {"name": name, "description": desc, "auc": M.roc_auc(y, p, sample_weight=w),
               "brier": M.brier_score(y, p, sample_weight=w), "calibration_intercept": intercept,
               "calibration_slope": slope, "calibration_slope_ci_low": low, "calibration_slope_ci_high": high,
               "cv_calibration_slope": _cv_slope(result, baseline=model is result.baseline)}
        risks = {arm: model.predict(test, arm=arm) for arm in spec.arms}
        for arm in spec.arms:
            if arm == spec.treatment.reference:
                continue
            pair = test["arm"].isin([arm, spec.treatment.reference]).to_numpy()
            benefit = risks[spec.treatment.reference] - risks[arm]
            row[f"c_for_benefit[{arm} vs {spec.treatment.reference}]"] = M.c_for_benefit(
                benefit[pair], (test["arm"] == arm).to_numpy()[pair], y[pair], sample_weight=w[pair], seed=spec.seed)
        rows.append(row)
    m, b = rows
    strata = test["arm"].astype(str).to_numpy()
    paired = {"auc": _paired(lambda i, p: M.roc_auc(y[i], p[i], sample_weight=w[i]), result.model.predict(test),
                             result.baseline.predict(test), strata, seed=spec.seed),
              "brier": _paired(lambda i, p: M.brier_score(y[i], p[i], sample_weight=w[i]), result.model.predict(test),
                               result.baseline.predict(test), strata, seed=spec.seed)}
    wins = {k: _better(v, higher_is_better=BINARY_METRICS[k]) for k, v in paired.items()}
    beats = not any(v == "worse" for v in wins.values())
    benefit = [k for k in m if k.startswith("c_for_benefit")]
    better = sum(m[k] > b[k] for k in benefit)
    worse_cal = [f"{k.replace('_', ' ')} {m[k]:.2f} vs {b[k]:.2f}" for k, ideal in
                 (("calibration_slope", 1.0), ("calibration_intercept", 0.0)) if abs(m[k] - ideal) > abs(b[k] - ideal)]
    verdict = (_paired_verdict(paired, wins, "logistic regression", {"auc": "AUC", "brier": "Brier score"})
               + f" For treatment benefit (c-for-benefit) its point estimate is higher than the baseline's in {better} "
               f"of {len(benefit)} arm comparisons (too noisy here to call either better).")
    if worse_cal:
        verdict += " Its calibration is further from ideal than the baseline's (" + "; ".join(worse_cal) + ")."
    notes = (_calibration_goal(m, b),
             f"{result.test_labels.n_censored_before_horizon} test patients censored before the horizon are weighted out by "
             "inverse-probability-of-censoring weights (IPCW), never counted as non-events; AUC, Brier and "
             "calibration are IPCW-weighted.",
             PAIRED_NOTE,
             "c-for-benefit matches treated and reference patients by predicted benefit (van Klaveren 2018); "
             "with ~100 patients per arm in the test split it is very noisy.")
    return _finish("binary", rows, verdict, beats, len(test), notes, paired)


N_BOOT_PAIRED = 200
PAIRED_NOTE = ("'Better' is said only where the paired 95% bootstrap interval of the difference (the same test patients "
               "resampled for both, within arm for a trial) excludes zero; otherwise the two are not distinguishable.")


def _paired(metric, p_model: np.ndarray, p_base: np.ndarray, strata: np.ndarray | None, *, seed: int) -> dict:
    """Model minus baseline for ``metric(index, predictions)`` on the test split, with a paired bootstrap interval."""
    n = len(p_model)
    full = np.arange(n)
    point = float(metric(full, p_model) - metric(full, p_base))
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)] if strata is not None else [full]
    diffs = []
    for _ in range(N_BOOT_PAIRED):
        i = np.concatenate([rng.choice(g, size=g.size, replace=True) for g in groups])
        d = metric(i, p_model) - metric(i, p_base)
        if np.isfinite(d):
            diffs.append(d)
    lo, hi = (np.percentile(diffs, [2.5, 97.5]) if diffs else (np.nan, np.nan))
    return {"difference": point, "interval": [float(lo), float(hi)], "n_boot": len(diffs)}


def _better(paired: dict, *, higher_is_better: bool) -> str:
    """'better', 'worse' or 'not distinguishable', from the paired interval of model minus baseline."""
    lo, hi = paired["interval"]
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo <= 0 <= hi:
        return "not distinguishable"
    return "better" if (lo > 0) == higher_is_better else "worse"


def _paired_verdict(paired: dict, wins: dict, against: str, names: dict) -> str:
    parts = []
    for k, v in paired.items():
        lo, hi = v["interval"]
        parts.append(f"{names.get(k, k)} {_difference_text(k, v['difference'], lo, hi)}: {wins[k]}")
    head = {True: f"On the held-out test split the model is better than {against} on "
                  f"{', '.join(names.get(k, k) for k, v in wins.items() if v == 'better')}.",
            False: ""}[any(v == "better" for v in wins.values())]
    if any(v == "worse" for v in wins.values()):
        head += (f" It is worse than {against} on {', '.join(names.get(k, k) for k, v in wins.items() if v == 'worse')}."
                 " Weigh its numbers accordingly.")
    if not head:
        head = f"On the held-out test split the model and {against} cannot be told apart on any headline metric."
    return f"{head.strip()} Model minus {against}: " + "; ".join(parts) + "."


def _difference_text(key: str, difference: float, lo: float, hi: float) -> str:
    """A paired difference with its interval, one number of decimals for all three (never "+0.000" for a non-zero
    value): a share in percentage points, an error in mg/week, AUC and Brier score as they are."""
    if not (np.isfinite(difference) and np.isfinite(lo) and np.isfinite(hi)):
        return f"{difference:+.3f} (no interval)"
    if key.startswith("within_20"):
        d, a, b = estimate_interval(100 * difference, 100 * lo, 100 * hi, fewest=1)
        return f"{d} percentage points (95% interval {a} to {b})"
    if key.startswith("mae"):
        d, a, b = estimate_interval(difference, lo, hi, fewest=2)
        return f"{d} mg/week (95% interval {a} to {b})"
    d, a, b = estimate_interval(difference, lo, hi, fewest=3, most=5)
    return f"{d} (95% interval {a} to {b})"


SLOPE_GOAL = (0.8, 1.2)
N_BOOT_SLOPE = 200


def _slope_interval(y, p, w, *, seed: int) -> tuple[float, float]:
    """95% percentile bootstrap interval of the test-split calibration slope (resampling test patients)."""
    rng = np.random.default_rng(seed)
    slopes = []
    for _ in range(N_BOOT_SLOPE):
        i = rng.integers(0, len(y), len(y))
        if w[i].sum() > 0 and len(np.unique(y[i][w[i] > 0])) == 2:
            slopes.append(M.calibration_intercept_slope(y[i], p[i], sample_weight=w[i])[1])
    slopes = np.asarray(slopes)[np.isfinite(slopes)] if slopes else np.array([])
    return (float(np.percentile(slopes, 2.5)), float(np.percentile(slopes, 97.5))) if len(slopes) else (np.nan, np.nan)


def _cv_slope(result: TrainingResult, *, baseline: bool) -> float:
    """The out-of-fold calibration slope on the training split (the numbers the calibration choice saw)."""
    choice = result.info.get("calibration_method") or {}
    slopes = choice.get("cv_calibration_slope") or {}
    key = "logistic regression" if baseline else choice.get("method")
    return float(slopes.get(key, np.nan))


def _calibration_goal(m: dict, b: dict) -> str:
    """Is the test-split calibration slope within 0.8–1.2 and no further from 1 than logistic regression's?"""
    lo, hi = SLOPE_GOAL
    inside = lo <= m["calibration_slope"] <= hi
    closer = abs(m["calibration_slope"] - 1) <= abs(b["calibration_slope"] - 1)
    verdict = "met" if inside and closer else "NOT met"
    why = [] if inside else [f"slope outside {lo}–{hi}"]
    why += [] if closer else ["further from 1 than logistic regression's"]
    return (f"Calibration goal (test-split slope within {lo}–{hi} and no further from 1 than logistic regression's): "
            f"{verdict}{' (' + '; '.join(why) + ')' if why else ''}. Slope {m['calibration_slope']:.2f} (95% bootstrap "
            f"interval {m['calibration_slope_ci_low']:.2f}–{m['calibration_slope_ci_high']:.2f}) vs logistic regression "
            f"{b['calibration_slope']:.2f} ({b['calibration_slope_ci_low']:.2f}–{b['calibration_slope_ci_high']:.2f}); "
            f"out-of-fold on the training split {m['cv_calibration_slope']:.2f} vs {b['cv_calibration_slope']:.2f}.")


def _evaluate_dose(result: TrainingResult) -> Evaluation:
    test = result.test_frame
    y = result.test_labels.y
    preds = {
        "equipoise (linear + boosted trees)": (result.model.predict(test), describe_model(result)),
        "IWPC pharmacogenetic formula": (iwpc_doses(test, impute=result.iwpc_impute),
                                         "published coefficients (NEJM 2009), no fitting"),
        "fixed 35 mg/week": (np.full(len(test), FIXED_DOSE_MG_PER_WEEK), "the usual starting dose"),
    }
    rows = [{"name": name, "description": desc, "mae": M.mean_absolute_error(y, p),
             "within_20": M.within_fraction(y, p, tolerance=0.2), "mean_error": M.mean_error(y, p),
             **_race_gaps(test, y, p)}
            for name, (p, desc) in preds.items()]
    p_model = preds["equipoise (linear + boosted trees)"][0]
    paired, wins, names = {}, {}, {}
    for r in rows[1:]:
        p_base = preds[r["name"]][0]
        short = r["name"].split(" (")[0]
        for k, f, hib in (("mae", lambda i, p: M.mean_absolute_error(y[i], p[i]), False),
                          ("within_20", lambda i, p: M.within_fraction(y[i], p[i], tolerance=0.2), True)):
            key = f"{k} vs {short}"
            paired[key] = _paired(f, p_model, p_base, None, seed=result.spec.seed)
            wins[key] = _better(paired[key], higher_is_better=hib)
            names[key] = f"{'MAE' if k == 'mae' else 'share within 20%'} against {short}"
    beats = not any(v == "worse" for v in wins.values())
    verdict = _paired_verdict(paired, wins, "the baselines", names)
    n_imputed = int(test[["height_cm", "weight_kg"]].isna().any(axis=1).sum())
    notes = (PAIRED_NOTE.replace(", within arm for a trial", ""),
             f"For the IWPC formula, missing height or weight ({n_imputed} test patients) is filled with the "
             "training-split median.",
             "The IWPC formula was derived on most of these patients, including many in this test split, so its "
             "accuracy here is optimistic; the model never saw the test split.",
             *_race_gap_note(rows))
    return _finish("regression", rows, verdict, beats, len(test), notes, paired)


def _race_gap_note(rows: list[dict]) -> tuple[str, ...]:
    m, f = rows[0], rows[1]
    if "black_white_mae_gap" not in m:
        return ()
    met = abs(m["black_white_mae_gap"]) < abs(f["black_white_mae_gap"]) and m["mae"] < f["mae"]
    return (f"Race-gap goal (Black - White MAE gap below the IWPC formula's, overall MAE below the formula's): "
            f"{'met' if met else 'NOT met'}. Gap {m['black_white_mae_gap']:.2f} vs {f['black_white_mae_gap']:.2f} "
            f"mg/week, MAE {m['mae']:.2f} vs {f['mae']:.2f}; Asian - White gap {m['asian_white_mae_gap']:.2f} vs "
            f"{f['asian_white_mae_gap']:.2f} (negative: Asian patients' doses, lower on average, are predicted with "
            "smaller errors).",)


def _race_gaps(test, y, p) -> dict:
    """MAE of Black and of Asian patients minus that of White patients (mg/week), if the cohort records race."""
    if "race" not in test:
        return {}
    race, err = test["race"].astype(str).to_numpy(), np.abs(p - y)
    mae = {g: float(err[race == g].mean()) if (race == g).any() else np.nan
           for g in ("White", "Black or African American", "Asian")}
    return {"black_white_mae_gap": mae["Black or African American"] - mae["White"],
            "asian_white_mae_gap": mae["Asian"] - mae["White"]}


def _finish(task, rows, verdict, beats, n, notes, paired=None) -> Evaluation:
    rows = [{k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in r.items()} for r in rows]
    if not beats:
        warnings.warn(verdict, BaselineWinsWarning, stacklevel=3)
    return Evaluation(task=task, rows=rows, verdict=verdict, model_beats_baselines=beats, n_test=n, notes=notes,
                      paired=paired)


def _cell(v) -> str:
    if isinstance(v, float):
        return "nan" if np.isnan(v) else f"{v:.3f}"
    return str(v)
