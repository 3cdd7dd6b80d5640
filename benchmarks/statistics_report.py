"""Honest-statistics numbers per cohort, printed as one JSON object (issue 8, point 8 and the ensemble's stability).

For each arm cohort (held-out test split, never used to choose anything):
- recalibration: the training-split cross-validated log-loss/Brier with and without the map and the decision,
  then the test split's calibration slope, intercept and Brier with the map always applied (the old protocol)
  and with the decision (the new one);
- ensemble stability: the members split into two halves; each patient's interval ends for every arm and every
  pairwise difference from each half; median / 90th percentile / max absolute disagreement in percentage
  points. For the old ensemble (40 refits, bootstrap percentiles) and the new one (100 refits, normal
  approximation), plus the new members with percentiles, so the method and the count are separated;
- training time: tuning + final fit, and the ensemble fit with 40 and with 100 refits (wall clock, one run).

For the dose cohort: the interval method and guarantee, the calibration-part size, and held-out test coverage
overall and per race group, with the model's MAE. Plus a simulation of the split-conformal guarantee on
exchangeable data (mean coverage over repetitions against 1 - alpha).

Usage: python benchmarks/statistics_report.py [--cohorts actg175,colon,warfarin] [--reps 400]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from dataclasses import replace

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

from core.data.cohorts import load_cohort  # noqa: E402
from core.evaluation import metrics as M  # noqa: E402
from core.modeling.training import train  # noqa: E402
from core.uncertainty.conformal import MondrianConformalRegressor  # noqa: E402
from core.uncertainty.dose_intervals import dose_coverage, fit_dose_conformal  # noqa: E402
from core.uncertainty.ensemble import N_MEMBERS, arm_interval_check, fit_ensemble  # noqa: E402
from core.uncertainty.stability import half_disagreement  # noqa: E402

OLD_MEMBERS = 40


def _calibration(model, result) -> dict:
    p = model.predict(result.test_frame)
    y, w = result.test_labels.y, result.test_labels.weight
    intercept, slope = M.calibration_intercept_slope(y, p, sample_weight=w)
    return {"calibration_slope": slope, "calibration_intercept": intercept, "brier": M.brier_score(y, p, sample_weight=w),
            "auc": M.roc_auc(y, p, sample_weight=w)}


def arm_cohort(name: str) -> dict:
    cohort = load_cohort(name)
    t0 = time.perf_counter()
    result = train(cohort)
    t_train = time.perf_counter() - t0
    rec = result.info["recalibration"]
    always = replace(result.model, calibration=tuple(rec["map_fitted"]))
    out = {"n_test": int(result.test_mask.sum()), "recalibration": {
        "decision": "kept" if rec["used"] else "not used", "training_split_cv": rec["cv"],
        "test_always_recalibrated (old)": _calibration(always, result),
        "test_as_decided (new)": _calibration(result.model, result)}}
    arms, lab = list(cohort.spec.arms), result.labels
    fits, timing = {}, {"train_tuning_and_final_fit_s": t_train}
    for n in (OLD_MEMBERS, N_MEMBERS):
        t0 = time.perf_counter()
        fits[n] = fit_ensemble(result.model, result.train_frame, lab.y, lab.weight, strata=lab.strata,
                               seed=cohort.spec.seed, n_members=n)
        timing[f"ensemble_{n}_refits_s"] = time.perf_counter() - t0
    test = result.test_frame
    out["stability_points"] = {
        f"old: {OLD_MEMBERS} refits, percentile": half_disagreement(fits[OLD_MEMBERS], test, arms, method="percentile").to_dict(),
        f"new members ({N_MEMBERS}), percentile": half_disagreement(fits[N_MEMBERS], test, arms, method="percentile").to_dict(),
        f"new: {N_MEMBERS} refits, normal approximation": half_disagreement(fits[N_MEMBERS], test, arms).to_dict(),
    }
    out["normal_vs_percentile_at_new_count"] = _method_gap(fits[N_MEMBERS], test, arms)
    check = arm_interval_check(fits[N_MEMBERS], result.model, test, result.test_labels.y, result.test_labels.weight)
    out["test_interval_check"] = {k: check[k] for k in ("method", "guarantee", "mean_interval_width",
                                                        "bins_with_observed_rate_inside")} | {"bins": len(check["bins"])}
    one = test.head(1)
    stacked = one.loc[one.index.repeat(len(arms))].reset_index(drop=True).assign(arm=arms)
    t0 = time.perf_counter()
    for _ in range(50):
        fits[N_MEMBERS].risks(stacked)
    timing["ensemble_risks_one_patient_ms"] = 1000 * (time.perf_counter() - t0) / 50
    out["timing"] = timing
    return out


def _method_gap(ensemble, frame, arms) -> dict:
    """How far the normal-approximation ends are from the percentile ends of the same members (points)."""
    import pandas as pd

    stacked = pd.concat([frame.assign(arm=a) for a in arms], ignore_index=True)
    r = ensemble.risks(stacked)
    normal = np.concatenate(replace(ensemble, method="normal").intervals(r, kind="risk"))
    pct = np.concatenate(replace(ensemble, method="percentile").intervals(r, kind="risk"))
    d = 100 * np.abs(normal - pct)
    return {"arm_ends_median_points": float(np.median(d)), "arm_ends_p90_points": float(np.quantile(d, 0.9))}


def dose_cohort(name: str) -> dict:
    cohort = load_cohort(name)
    t0 = time.perf_counter()
    result = train(cohort)
    t_train = time.perf_counter() - t0
    cal = result.calibration_rows
    cal_frame = result.train_frame[cal].reset_index(drop=True)
    cp = fit_dose_conformal(cohort.spec, cal_frame, result.labels.y[cal], result.model.predict(cal_frame))
    pred = result.model.predict(result.test_frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cov = dose_coverage(cp, cohort.spec, result.test_frame, pred, result.test_labels.y)
    y = result.test_labels.y
    return {"n_fit": result.info["n_fit"], "n_calibration": result.info["n_calibration"], "n_test": int(len(y)),
            "method": cov["method"], "guarantee": cov["guarantee"], "nominal": cov["nominal"],
            "test_coverage_overall": cov["overall"], "test_coverage_by_group": cov["by_group"],
            "mean_width_mg_per_week": cov["mean_width_mg_per_week"],
            "test_mae_mg_per_week": M.mean_absolute_error(y, pred), "test_within_20": M.within_fraction(y, pred),
            "timing": {"train_tuning_and_final_fit_s": t_train}}


def simulated_guarantee(reps: int, *, n_cal: int = 50, alpha: float = 0.1, seed: int = 0) -> dict:
    """Split-conformal on exchangeable data: the mean coverage over repetitions against 1 - alpha."""
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(seed)

    def draw(n):
        x = rng.uniform(0, 10, size=(n, 2))
        return x, 20 + 3 * x[:, 0] - 2 * x[:, 1] + rng.standard_t(4, size=n) * (1 + 0.3 * x[:, 0])

    cov = []
    for _ in range(reps):
        (xf, yf), (xc, yc), (xt, yt) = draw(100), draw(n_cal), draw(200)
        model = LinearRegression().fit(xf, yf)
        res = MondrianConformalRegressor(coverage=1 - alpha, min_group_size=1).calibrate(yc, model.predict(xc)) \
            .predict_interval(model.predict(xt))
        cov.append(np.mean((res.low <= yt) & (yt <= res.high)))
    return {"reps": reps, "n_calibration": n_cal, "nominal": 1 - alpha, "mean_coverage": float(np.mean(cov)),
            "monte_carlo_se": float(np.std(cov, ddof=1) / math.sqrt(reps)),
            "upper_bound": 1 - alpha + 1 / (n_cal + 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cohorts", default="actg175,colon,warfarin")
    ap.add_argument("--reps", type=int, default=400)
    args = ap.parse_args()
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in args.cohorts.split(","):
            out[name] = dose_cohort(name) if load_cohort(name).spec.is_dose else arm_cohort(name)
        out["simulated_split_conformal"] = simulated_guarantee(args.reps)
    out = {"summary": _summary(out), **out}
    print(json.dumps(out, indent=1, default=float))


def _summary(out: dict) -> dict:
    """The headline numbers per cohort, rounded (the details follow)."""
    r = lambda v, d=2: round(float(v), d)  # noqa: E731
    summary = {}
    for name, x in out.items():
        if "recalibration" in x:
            rec = x["recalibration"]
            summary[name] = {
                "recalibration": rec["decision"],
                "test slope/intercept/Brier old -> new": [
                    [r(rec[k]["calibration_slope"]), r(rec[k]["calibration_intercept"]), r(rec[k]["brier"], 4)]
                    for k in ("test_always_recalibrated (old)", "test_as_decided (new)")],
                "half disagreement, points (arm median/p90, difference median/p90)": {
                    k: [r(v["arm_ends"]["median_points"]), r(v["arm_ends"]["p90_points"]),
                        r(v["difference_ends"]["median_points"]), r(v["difference_ends"]["p90_points"])]
                    for k, v in x["stability_points"].items()},
                "seconds: ensemble 40 -> 100 refits": [r(x["timing"][f"ensemble_{OLD_MEMBERS}_refits_s"]),
                                                       r(x["timing"][f"ensemble_{N_MEMBERS}_refits_s"])]}
        elif "test_coverage_overall" in x:
            summary[name] = {"nominal": x["nominal"], "test_coverage": r(x["test_coverage_overall"]["coverage"], 3),
                             "by_group": {g["group"]: r(g["coverage"], 3) for g in x["test_coverage_by_group"]},
                             "mae": r(x["test_mae_mg_per_week"], 2)}
        elif "mean_coverage" in x:
            summary[name] = {"nominal": x["nominal"], "mean_coverage": r(x["mean_coverage"], 4),
                             "mc_se": r(x["monte_carlo_se"], 4)}
    return summary


if __name__ == "__main__":
    main()
