"""Semi-synthetic trials and doses with a known truth, built on a bundled cohort's real covariates.

The covariates are real (every patient of the cohort, as recorded, missing values included); the treatment
is re-randomised 1:1 to ``control`` and ``new``, and the outcome is drawn from a model we choose, so every
patient's true risk under each arm — and the true difference — is known. Scenarios (Morris, White & Crowther,
Stat Med 2019: the data-generating mechanisms):

* ``null`` — identical arms: the true difference is 0 for every patient;
* ``homogeneous`` — a common odds ratio of 0.6 for ``new`` (absolute benefit varies only with baseline risk);
* ``heterogeneous`` — the log odds ratio varies with one covariate (0.6 at its mean, ×e^{±0.35} per SD);
* ``censored`` — the homogeneous trial as time to event (exponential times, hazard ratio 0.6, uniform
  censoring; about a fifth censored before the horizon): the truth is the risk by the horizon.

The prognostic part is a fixed linear score of the covariates (coefficients drawn once from ``TRUTH_SEED``
and scaled so that its SD is ``PROGNOSTIC_SD`` on the log-odds scale; a missing value contributes 0), with the
control arm's mean risk ``BASE_RISK``. A dose simulation (:func:`simulate_doses`) draws a stable weekly dose
from a known function of the warfarin covariates with multiplicative noise that grows at high doses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from ..data.cohorts import load_cohort

SCENARIOS = ("null", "homogeneous", "heterogeneous", "censored")
TRUTH_SEED = 24
PROGNOSTIC_SD = 0.8
BASE_RISK = 0.35
ODDS_RATIO = 0.6
HETEROGENEITY = 0.35       # change of the log odds ratio per SD of the modifying covariate
HORIZON = 1000.0           # days (censored scenario)
ARMS = ("control", "new")


@dataclass(frozen=True)
class SimulatedCohort:
    """A CSV-ready frame, its spec (JSON-ready dict) and the truth for every patient."""

    frame: pd.DataFrame
    spec: dict
    truth: pd.DataFrame  # index patient_id; arm cohorts: risk_control, risk_new, difference; doses: dose
    scenario: str
    seed: int


def _spec_doc(name: str) -> dict:
    text = resources.files("core.data.cohorts").joinpath(f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


def _covariates(base: str) -> tuple[pd.DataFrame, dict]:
    cohort = load_cohort(base)
    doc = _spec_doc(base)
    names = [f["name"] for f in doc["features"]]
    frame = cohort.frame[names].copy().reset_index(drop=True)
    for f in doc["features"]:
        if f["type"] == "binary":
            frame[f["name"]] = frame[f["name"]].astype("Float64").astype("Int64")
        elif f["type"] in ("categorical", "genotype"):
            frame[f["name"]] = frame[f["name"]].astype(object)
    return frame, doc


def prognostic_score(frame: pd.DataFrame, features: list[dict], *, sd: float = PROGNOSTIC_SD) -> np.ndarray:
    """The known linear score: standardised numeric/binary values and category indicators, fixed coefficients."""
    rng = np.random.default_rng(TRUTH_SEED)
    cols = []
    for f in features:
        x = frame[f["name"]]
        if f["type"] in ("numeric", "binary"):
            v = pd.to_numeric(x, errors="coerce").astype(float).to_numpy()
            m, s = np.nanmean(v), np.nanstd(v) or 1.0
            cols.append(np.nan_to_num((v - m) / s, nan=0.0))
        else:
            for c in f["categories"][1:]:
                cols.append((x.astype(object) == c).to_numpy(float))
    z = np.column_stack(cols)
    beta = rng.normal(0.0, 1.0, z.shape[1])
    score = z @ beta
    score = (score - score.mean()) / score.std()
    return sd * score


def _modifier(frame: pd.DataFrame, features: list[dict]) -> np.ndarray:
    """The standardised first numeric covariate (clipped at ±2.5 SD): the heterogeneous scenario's modifier."""
    f = next(f for f in features if f["type"] == "numeric")
    v = pd.to_numeric(frame[f["name"]], errors="coerce").astype(float).to_numpy()
    z = (v - np.nanmean(v)) / (np.nanstd(v) or 1.0)
    return np.clip(np.nan_to_num(z, nan=0.0), -2.5, 2.5)


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def simulate_trial(base: str, scenario: str, seed: int) -> SimulatedCohort:
    """A two-arm randomised trial on ``base``'s real covariates (see the module doc)."""
    if scenario not in SCENARIOS:
        raise ValueError(f"The 'scenario' must be one of {list(SCENARIOS)}. Got {scenario!r} instead.")
    frame, doc = _covariates(base)
    n = len(frame)
    rng = np.random.default_rng(seed)
    lp = prognostic_score(frame, doc["features"])
    log_or = np.zeros(n) if scenario == "null" else np.full(n, np.log(ODDS_RATIO))
    if scenario == "heterogeneous":
        log_or = log_or + HETEROGENEITY * _modifier(frame, doc["features"])
    arm = np.where(rng.permutation(n) < n // 2, "new", "control")
    frame.insert(0, "patient_id", [f"sim{i + 1}" for i in range(n)])
    frame["arm"] = arm
    if scenario == "censored":
        # exponential event times: hazard exp(a + lp [+ log HR]); `a` sets the control arm's mean risk by the horizon
        a = brentq(lambda a: np.mean(1 - np.exp(-np.exp(a + lp) * HORIZON)) - BASE_RISK, -30, 10)
        rate0, rate1 = np.exp(a + lp), np.exp(a + lp + log_or)
        risk0, risk1 = 1 - np.exp(-rate0 * HORIZON), 1 - np.exp(-rate1 * HORIZON)
        t = rng.exponential(1.0 / np.where(arm == "new", rate1, rate0))
        c = rng.uniform(0.3 * HORIZON, 3.0 * HORIZON, n)
        frame["time_days"] = np.round(np.minimum(t, c), 3)
        frame["event"] = (t <= c).astype(int)
        outcome = {"type": "time_to_event", "label": "Simulated event within 1000 days", "time_column": "time_days",
                   "event_column": "event", "horizon": HORIZON, "time_unit": "days", "higher_is_worse": True}
    else:
        a = brentq(lambda a: np.mean(_expit(a + lp)) - BASE_RISK, -30, 30)
        risk0, risk1 = _expit(a + lp), _expit(a + lp + log_or)
        frame["event"] = (rng.uniform(size=n) < np.where(arm == "new", risk1, risk0)).astype(int)
        outcome = {"type": "binary", "label": "Simulated event", "column": "event", "higher_is_worse": True}
    spec = {"name": f"sim_{base}_{scenario}_{seed}", "title": f"Simulated trial on {base} covariates ({scenario})",
            "patient_id": "patient_id", "study_design": "Simulated randomized controlled trial (2 arms)",
            "source": f"simulated outcomes on the real covariates of the bundled {base} cohort",
            "citation": "core.simulation", "licence": "as the bundled cohort",
            "treatment": {"type": "arms", "column": "arm", "arms": list(ARMS), "reference": "control",
                          "randomized": True},
            "outcome": outcome, "protected": doc.get("protected", []), "features": doc["features"],
            "seed": int(seed) + 1}
    truth = pd.DataFrame({"risk_control": risk0, "risk_new": risk1, "difference": risk1 - risk0},
                         index=frame["patient_id"])
    return SimulatedCohort(frame, spec, truth, scenario, seed)


# --- doses -----------------------------------------------------------------------------------------

DOSE_NOISE_SD = 0.22    # SD of the multiplicative (log-scale) noise at the median dose
DOSE_NOISE_SLOPE = 0.10  # extra log-scale SD per unit of log(dose / median): wider at high doses


def true_dose(frame: pd.DataFrame) -> np.ndarray:
    """A known dose function of the warfarin covariates (mg/week): IWPC-like genotype and clinical effects,
    with a non-linear age effect; missing values take a neutral level."""
    def num(name, fill):
        return pd.to_numeric(frame[name], errors="coerce").astype(float).fillna(fill).to_numpy()

    def cat(name):
        return frame[name].astype(object).to_numpy()

    age, height, weight = num("age_decade", 6), num("height_cm", 168), num("weight_kg", 78)
    vk, cyp, race = cat("vkorc1_1639"), cat("cyp2c9"), cat("race")
    s = (5.6 - 0.26 * age - 0.02 * np.maximum(age - 6, 0) ** 2 + 0.0118 * height + 0.0134 * weight
         - 0.86 * (vk == "A/G") - 1.70 * (vk == "A/A")
         - 0.52 * (cyp == "*1/*2") - 0.94 * (cyp == "*1/*3") - 1.06 * (cyp == "*2/*2") - 1.93 * (cyp == "*2/*3")
         - 2.33 * (cyp == "*3/*3") - 0.11 * (race == "Asian") - 0.28 * (race == "Black or African American")
         + 1.18 * num("enzyme_inducer", 0) - 0.55 * num("amiodarone", 0))
    return np.clip(s, 1.0, None) ** 2


def simulate_doses(seed: int) -> SimulatedCohort:
    """Doses drawn around :func:`true_dose` on the IWPC cohort's real covariates (see the module doc)."""
    frame, doc = _covariates("warfarin")
    rng = np.random.default_rng(seed)
    mu = true_dose(frame)
    sd = DOSE_NOISE_SD + DOSE_NOISE_SLOPE * np.abs(np.log(mu / np.median(mu)))
    dose = mu * np.exp(rng.normal(0.0, sd) - sd ** 2 / 2)
    frame.insert(0, "patient_id", [f"sim{i + 1}" for i in range(len(frame))])
    frame["dose_mg_per_week"] = np.round(dose, 2)
    spec = {k: doc[k] for k in ("treatment", "outcome", "protected", "features")}
    spec.update({"name": f"sim_warfarin_dose_{seed}", "title": "Simulated doses on IWPC covariates",
                 "patient_id": "patient_id", "study_design": "Simulated observational cohort (dose)",
                 "source": "simulated doses on the real covariates of the bundled IWPC cohort",
                 "citation": "core.simulation", "licence": "as the bundled cohort", "seed": int(seed) + 1})
    truth = pd.DataFrame({"dose": mu, "sd_log": sd}, index=frame["patient_id"])
    return SimulatedCohort(frame, spec, truth, "dose", seed)
