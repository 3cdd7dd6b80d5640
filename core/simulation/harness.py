"""Run a simulated cohort through the full own-data pipeline and score its intervals against the truth.

The path is the user's: the simulated CSV and spec are written to a folder and ``equipoise train --csv --spec``
builds a sealed bundle (the same protocol, tuning, ensemble, calibration and checks as every bundle); the held-out
test split is then reported by the batch report engine (the same one as ``equipoise predict``), and each report
is compared with the patient's known truth. Performance measures (Morris, White & Crowther, Stat Med 2019):

Arm trials, per test patient, for the difference ``new − control``:
* ``coverage`` — the 95% interval contains the true difference;
* ``clear`` — the headline's state is ``clear`` (one arm named as lower with every interval excluding zero);
* ``wrong_sign`` — a clear call favouring the arm whose true risk is higher (a false clear under the null
  counts as a clear call, not a wrong sign: the null has no sign);
* ``power`` — among patients whose true difference is at least 10 points, a clear call of the right arm.

Doses: coverage of the 90% prediction interval of a new stable dose drawn from the known distribution (the
expected coverage, computed exactly from the log-normal noise, not from one draw), by predicted-dose band and
by race, with the mean width.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from .trials import SimulatedCohort

POWER_DIFFERENCE = 0.10
DOSE_BANDS = ((0.0, 21.0, "below 21 mg/week"), (21.0, 49.0, "21–49 mg/week"), (49.0, np.inf, "49 mg/week or more"))


@dataclass(frozen=True)
class TrialRun:
    """One simulated trial through the pipeline: per-test-patient outcomes of the intervals and the headline."""

    scenario: str
    seed: int
    n_test: int
    coverage: float
    clear: float
    wrong_sign: float           # share of clear calls with the wrong sign (nan without clear calls or under the null)
    n_clear: int
    power: float                # nan when no test patient has a true difference ≥ 10 points
    n_power: int
    mean_width: float
    modelling: str
    model: str
    states: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class DoseRun:
    """One simulated dose cohort: expected interval coverage by band and by race, with counts and widths."""

    seed: int
    n_test: int
    coverage: float
    by_band: dict
    by_race: dict
    mean_width: float
    n_without_interval: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _train(sim: SimulatedCohort, work: Path):
    from .._csv import csv_text
    from ..cli import main
    from ..modeling.bundle import load_bundle

    csv, spec, out = work / "data.csv", work / "spec.json", work / "bundle"
    rows = [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in sim.frame.to_dict("records")]
    csv.write_text(csv_text(rows, list(sim.frame.columns)), encoding="utf-8")
    spec.write_text(json.dumps(sim.spec), encoding="utf-8")
    log = io.StringIO()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["train", "--csv", str(csv), "--spec", str(spec), "--out", str(out)])
    if code != 0:
        raise RuntimeError(f"training the simulated cohort failed:\n{log.getvalue()[-3000:]}")
    return load_bundle(out)


def _reports(bundle, sim: SimulatedCohort) -> tuple[list[dict], list[str]]:
    from ..scale.batch import report_columns_ignored, score_chunk

    ids = [str(i) for i in bundle.training.test_patient_ids]
    rows = sim.frame.set_index("patient_id").loc[ids].reset_index()
    features = [f.name for f in bundle.spec.features]
    records = [{k: (None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)) for k, v in r.items()}
               for r in rows[["patient_id", *features]].to_dict("records")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = score_chunk(bundle, records, first_row=0, explanations=False, id_column="patient_id",
                          ignore=report_columns_ignored(bundle.spec))
    return out, ids


def run_trial(sim: SimulatedCohort, *, workdir: str | Path | None = None) -> TrialRun:
    """Train on the simulated trial, report its test split, and score every report against the truth."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        bundle = _train(sim, Path(tmp))
        reports, ids = _reports(bundle, sim)
    truth = sim.truth.loc[ids]
    covered, clear, wrong, power_hit, widths, states = [], [], [], [], [], {}
    for rep, (_, t) in zip(reports, truth.iterrows()):
        state = rep["summary"]["state"]
        states[state] = states.get(state, 0) + 1
        pair = next(p for p in rep["pairwise"] if {p["a"], p["b"]} == {"control", "new"})
        sign = 1.0 if pair["a"] == "new" else -1.0          # orient as new − control
        lo, hi = sorted(sign * np.asarray(pair["interval"], dtype=float))
        d = float(t["difference"])
        covered.append(lo <= d <= hi)
        widths.append(hi - lo)
        is_clear = state == "clear"
        clear.append(is_clear)
        favoured = rep["summary"]["best_set"][0] if is_clear else None
        true_better = "new" if d < 0 else "control"
        if is_clear and sim.scenario != "null":
            wrong.append(favoured != true_better)
        if abs(d) >= POWER_DIFFERENCE:
            power_hit.append(is_clear and favoured == true_better)
    training = bundle.training
    chosen = training.chosen
    model = ("penalised logistic regression" if chosen.get("n_trees", 0) == 0
             else f"linear + {chosen['n_trees']} boosted trees")
    return TrialRun(sim.scenario, sim.seed, len(ids), float(np.mean(covered)), float(np.mean(clear)),
                    float(np.mean(wrong)) if wrong else float("nan"), int(np.sum(clear)),
                    float(np.mean(power_hit)) if power_hit else float("nan"), len(power_hit),
                    float(np.mean(widths)), getattr(training, "modelling", None) or "", model, states)


def _expected_coverage(lo, hi, truth: pd.DataFrame) -> np.ndarray:
    """P(lo ≤ dose ≤ hi) for a dose drawn from the known log-normal distribution of each patient."""
    mu, sd = truth["dose"].to_numpy(float), truth["sd_log"].to_numpy(float)
    m = np.log(mu) - sd ** 2 / 2
    with np.errstate(divide="ignore"):
        upper = norm.cdf((np.log(np.maximum(hi, 1e-12)) - m) / sd)
        lower = np.where(lo > 0, norm.cdf((np.log(np.maximum(lo, 1e-12)) - m) / sd), 0.0)
    return upper - lower


def run_doses(sim: SimulatedCohort, *, workdir: str | Path | None = None) -> DoseRun:
    """Train on the simulated doses, report the test split, and score interval coverage against the truth."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        bundle = _train(sim, Path(tmp))
        reports, ids = _reports(bundle, sim)
    truth = sim.truth.loc[ids]
    pred = np.array([r["dose"]["mg_per_week"] for r in reports], dtype=float)
    iv = [r["dose"].get("interval") for r in reports]
    has = np.array([i is not None for i in iv])
    lo = np.array([i[0] if i else np.nan for i in iv], dtype=float)
    hi = np.array([i[1] if i else np.nan for i in iv], dtype=float)
    cov = np.full(len(ids), np.nan)
    cov[has] = _expected_coverage(lo[has], hi[has], truth[has])
    race = sim.frame.set_index("patient_id").loc[ids, "race"].astype(str).to_numpy()
    band = np.select([pred < 21, pred < 49], [DOSE_BANDS[0][2], DOSE_BANDS[1][2]], DOSE_BANDS[2][2])

    def by(groups):
        return {g: {"n": int(((groups == g) & has).sum()), "coverage": float(np.nanmean(cov[(groups == g) & has]))
                    if ((groups == g) & has).any() else None} for g in sorted(set(groups))}

    return DoseRun(sim.seed, len(ids), float(np.nanmean(cov)), by(band), by(race),
                   float(np.nanmean((hi - lo)[has])), int((~has).sum()))


def summarise_trials(runs: list[TrialRun]) -> dict:
    """Mean over seeds of each measure with its Monte Carlo standard error, per scenario."""
    out = {}
    for scenario in sorted({r.scenario for r in runs}):
        rs = [r for r in runs if r.scenario == scenario]
        row = {"n_seeds": len(rs), "n_test_patients": int(sum(r.n_test for r in rs))}
        for k in ("coverage", "clear", "wrong_sign", "power", "mean_width"):
            v = np.array([getattr(r, k) for r in rs], dtype=float)
            v = v[np.isfinite(v)]
            row[k] = float(v.mean()) if len(v) else None
            row[k + "_mcse"] = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else None
        row["models"] = sorted({r.model for r in rs})
        row["modelling"] = sorted({r.modelling for r in rs})
        out[scenario] = row
    return out
