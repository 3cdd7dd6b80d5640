"""Time the subgroup audit against fairlearn's MetricFrame bootstrap on the same synthetic data.

    python benchmarks/bench_audit.py                  # 1,000,000 patients, 200 resamples
    python benchmarks/bench_audit.py --quick          # 20,000 patients, 50 resamples
    python benchmarks/bench_audit.py --n 50000 --fairlearn-boot 200   # time fairlearn fully

Prints one JSON object. Both sides compute the same metrics (AUC, Brier, calibration intercept and
slope, outcome rate, mean prediction) for the same groups (race, sex, race x sex, and overall) with
the same number of whole-sample bootstrap resamples. fairlearn gets three MetricFrames (race, sex,
race+sex), with sklearn's roc_auc_score and brier_score_loss and core.metrics' calibration fit
(fast numpy Newton, one fit per metric). fairlearn is timed without and with ``--fairlearn-boot``
resamples (default 3) and its time is extrapolated linearly to ``--n-boot`` (reported as
"fairlearn_extrapolated_from"); its cost per resample is constant, so this is accurate.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.evaluation import metrics as em  # noqa: E402
from core.fairness import audit_subgroups  # noqa: E402

RACES = ["White", "Black", "Hispanic", "Asian", "Other"]
RACE_SHARES = [0.6, 0.13, 0.15, 0.07, 0.05]


def synthetic_cohort(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    groups = pd.DataFrame({"race": rng.choice(RACES, n, p=RACE_SHARES),
                           "sex": rng.choice(["female", "male"], n)})
    risk = rng.normal(-1.2, 1.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype(np.int8)
    noise = np.where(groups["race"].to_numpy() == "Other", 0.8, 0.3)  # planted: noisier for one group
    score = np.round(1 / (1 + np.exp(-(risk + rng.normal(0, noise)))), 4)
    return y, score, groups


def _fairlearn_metrics():
    from sklearn.metrics import brier_score_loss, roc_auc_score

    # one fit per metric (calibration_intercept_slope would fit both models for each)
    def cal_intercept(y_true, y_pred):
        x, y = em._logit(np.asarray(y_pred, float)), np.asarray(y_true, float)
        return em.fit_logistic(x, y, np.ones_like(x), slope=False)[0]

    def cal_slope(y_true, y_pred):
        x, y = em._logit(np.asarray(y_pred, float)), np.asarray(y_true, float)
        return em.fit_logistic(x, y, np.ones_like(x), slope=True)[1]

    return {"auc": roc_auc_score, "brier": brier_score_loss, "calibration_intercept": cal_intercept,
            "calibration_slope": cal_slope, "outcome_rate": lambda t, p: float(np.mean(t)),
            "mean_predicted": lambda t, p: float(np.mean(p))}


def run_fairlearn(y, score, groups, n_boot: int, seed: int):
    """Three MetricFrames (race, sex, race x sex); returns (seconds, frames)."""
    from fairlearn.metrics import MetricFrame

    metrics = _fairlearn_metrics()
    kwargs = {} if n_boot == 0 else {"n_boot": n_boot, "ci_quantiles": [0.025, 0.975],
                                     "random_state": seed}
    start = time.perf_counter()
    frames = {name: MetricFrame(metrics=metrics, y_true=y, y_pred=score, sensitive_features=features,
                                **kwargs)
              for name, features in (("race", groups["race"]), ("sex", groups["sex"]),
                                     ("race x sex", groups[["race", "sex"]]))}
    return time.perf_counter() - start, frames


def compare_point_estimates(audit, frames) -> float:
    """Largest absolute difference between our and fairlearn's point estimates (all groups)."""
    worst = 0.0
    for name, frame in frames.items():
        table = frame.by_group
        for row in audit.groups:
            if row.attribute != name:
                continue
            key = tuple(row.group.split(" x ")) if " x " in name else row.group
            for metric, mv in row.metrics.items():
                if mv.value is not None:
                    worst = max(worst, abs(mv.value - float(table.loc[key, metric])))
        for metric, mv in audit.overall.items():
            worst = max(worst, abs(mv.value - float(frame.overall[metric])))
    return worst


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fairlearn-boot", type=int, default=3,
                        help="resamples to time fairlearn on before extrapolating linearly to "
                             "--n-boot (default 3; --fairlearn-boot N equal to --n-boot times it fully)")
    parser.add_argument("--quick", action="store_true", help="20,000 patients, 50 resamples")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.n_boot = 20_000, 50
    k = max(1, min(args.fairlearn_boot, args.n_boot))

    y, score, groups = synthetic_cohort(args.n, args.seed)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        audit = audit_subgroups(y, score, groups, n_boot=args.n_boot, seed=args.seed)
        ours = time.perf_counter() - start
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_point, frames = run_fairlearn(y, score, groups, 0, args.seed)
        t_boot, _ = run_fairlearn(y, score, groups, k, args.seed)
    per_resample = max(t_boot - t_point, 0.0) / k
    fairlearn_s = t_point + per_resample * args.n_boot

    result = {
        "n": args.n,
        "n_boot": args.n_boot,
        "groups": len(audit.groups),
        "metrics": list(audit.metrics),
        "audit_seconds": round(ours, 3),
        "fairlearn_seconds": round(fairlearn_s, 3),
        "fairlearn_seconds_per_resample": round(per_resample, 4),
        "speedup": round(fairlearn_s / ours, 1),
        "point_estimates_max_abs_diff": compare_point_estimates(audit, frames),
        "flagged": [f"{f.attribute}={f.group}: {f.metric}" for f in audit.flagged()],
        "peak_rss_mib_after_audit": round(peak_rss_mib, 1),
        "python": platform.python_version(),
    }
    if k < args.n_boot:
        result["fairlearn_extrapolated_from"] = k
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
