"""Leave-one-site-out validation on a small synthetic multi-site dose cohort: what each fold saw, and its numbers."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_error as sk_mae

from core.data.cohorts import cohort_from_frame, load_spec
from core.evaluation.sites import SiteValidation, score_site
from core.modeling import site_validation as SV
from core.modeling.boosted import BoostParams

SITES = {"1": 160, "2": 120, "3": 90, "4": 30}  # site 4 is below the 50-patient minimum
GRID = [BoostParams(linear_penalty=1.0, num_leaves=3, min_data_in_leaf=20, objective="huber", learning_rate=0.1)]


def _synthetic(seed: int = 0):
    """A warfarin-shaped cohort whose dose depends on genotype, weight and a site effect."""
    rng = np.random.default_rng(seed)
    site = np.concatenate([[s] * n for s, n in SITES.items()])
    n = len(site)
    race = rng.choice(["White", "Asian", "Black or African American"], n, p=[0.6, 0.25, 0.15])
    vk = rng.choice(["G/G", "A/G", "A/A"], n)
    cyp = rng.choice(["*1/*1", "*1/*2", "*1/*3"], n, p=[0.7, 0.2, 0.1])
    weight = rng.normal(80, 15, n).clip(40, 150)
    site_effect = pd.Series(site).map({"1": 0.0, "2": 6.0, "3": -4.0, "4": 2.0}).to_numpy()
    dose = (30 + 0.2 * (weight - 80) - 8 * (vk == "A/A") - 4 * (vk == "A/G") - 6 * (cyp != "*1/*1")
            + site_effect + rng.normal(0, 5, n)).clip(5, 100)
    raw = pd.DataFrame({
        "PharmGKB Subject ID": [f"P{i:04d}" for i in range(n)], "age_decade": rng.integers(3, 9, n),
        "sex": rng.choice(["female", "male"], n), "race": race, "height_cm": rng.normal(170, 10, n),
        "weight_kg": weight, "cyp2c9": cyp, "vkorc1_1639": vk, "amiodarone": rng.integers(0, 2, n) * (rng.random(n) < .1),
        "enzyme_inducer": 0, "aspirin": rng.integers(0, 2, n), "simvastatin": 0, "current_smoker": 0, "diabetes": 0,
        "heart_failure": 0, "valve_replacement": 0, "target_inr": 2.5, "dose_mg_per_week": dose,
    })
    return cohort_from_frame(load_spec("warfarin"), raw, source={"sha256": "synthetic"}), site


@pytest.fixture(scope="module")
def run():
    cohort, site = _synthetic()
    folds = {}

    def on_fit(name, result):
        folds[name] = result

    validation = SV.validate_by_site(cohort, site, grid=GRID, max_trees=20, on_fit=on_fit)
    return cohort, site, validation, folds


def test_every_site_with_50_patients_is_held_out_once_and_the_small_one_is_named(run):
    cohort, site, validation, folds = run
    assert [s.site for s in validation.sites] == ["1", "2", "3"] == list(folds)
    assert validation.skipped == ({"site": "4", "n": 30},)
    for s in validation.sites:
        assert s.n == SITES[s.site] and s.n_train == cohort.n - SITES[s.site]


def test_no_held_out_site_row_ever_enters_training(run, monkeypatch):
    cohort, site, validation, folds = run
    ids = cohort.frame["patient_id"].to_numpy()
    for name, result in folds.items():
        held = np.flatnonzero(site == name)
        assert np.array_equal(np.flatnonzero(result.test_mask), held)            # the test split is the site
        train_ids = set(result.train_frame["patient_id"])
        assert train_ids.isdisjoint(ids[held]) and len(train_ids) == cohort.n - len(held)
        assert set(result.test_frame["patient_id"]) == set(ids[held])


def test_nothing_fitted_or_calibrated_ever_receives_a_held_out_patient(monkeypatch):
    """Spy on every function that learns from rows: tuning, the final fit and the conformal calibration."""
    import core.modeling.training as T

    cohort, site = _synthetic(seed=1)
    seen: list[tuple[str, set]] = []
    current = {}

    def spy(name, fn, frame_arg):
        def wrapped(*args, **kwargs):
            seen.append((current["site"], set(args[frame_arg]["patient_id"])))
            return fn(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(T, "tune", spy("tune", T.tune, 1))
    monkeypatch.setattr(T, "fit_boosted", spy("fit", T.fit_boosted, 1))
    monkeypatch.setattr(SV, "fit_dose_conformal", spy("conformal", SV.fit_dose_conformal, 1))
    original_train = SV.train

    def train(c, *, test_mask, **kw):
        current["site"] = site[np.flatnonzero(test_mask)[0]]
        return original_train(c, test_mask=test_mask, **kw)

    monkeypatch.setattr(SV, "train", train)
    SV.validate_by_site(cohort, site, grid=GRID, max_trees=10)
    ids = cohort.frame["patient_id"].to_numpy()
    assert len(seen) == 3 * 3  # tune, fit, calibrate per held-out site
    for held_site, used in seen:
        assert used and used.isdisjoint(ids[site == held_site])


def test_metrics_match_sklearn_on_the_predictions(run):
    cohort, site, validation, folds = run
    all_y, all_p = [], []
    for s in validation.sites:
        result = folds[s.site]
        y = result.test_frame["dose_mg_per_week"].to_numpy()
        p = result.model.predict(result.test_frame)
        assert s.mae == pytest.approx(sk_mae(y, p), rel=1e-12)
        assert s.mean_error == pytest.approx(np.mean(p - y), rel=1e-12)
        assert s.within_20 == pytest.approx(np.mean(np.abs(p - y) <= 0.2 * y))
        all_y.append(y), all_p.append(p)
    y, p = np.concatenate(all_y), np.concatenate(all_p)
    summary = validation.summary()
    assert summary["pooled_mae"] == pytest.approx(sk_mae(y, p), rel=1e-12)
    assert summary["median_mae"] == pytest.approx(np.median([sk_mae(folds[s].test_frame["dose_mg_per_week"],
                                                                    folds[s].model.predict(folds[s].test_frame))
                                                             for s in folds]))
    assert summary["worst_site"]["site"] == max(validation.sites, key=lambda r: r.mae).site
    assert summary["n_patients"] == 370


def test_score_site_coverage_and_formula_against_direct_computation():
    rng = np.random.default_rng(3)
    y = rng.uniform(10, 60, 200)
    pred = y + rng.normal(0, 5, 200)
    low, high = pred - 6, pred + 6
    low[:20] = high[:20] = np.nan  # no interval for these
    formula = y + rng.normal(0, 7, 200)
    formula[-5:] = np.nan
    r = score_site("9", y, pred, low, high, formula, n_train=1000)
    ok = slice(20, None)
    assert r.n_with_interval == 180
    assert r.coverage == pytest.approx(np.mean((y[ok] >= low[ok]) & (y[ok] <= high[ok])))
    assert r.iwpc_formula_mae == pytest.approx(sk_mae(y[:-5], formula[:-5]))
    assert r.model_beats_formula == (r.mae < r.iwpc_formula_mae)


def test_the_result_round_trips_through_json(run):
    validation = run[2]
    doc = json.loads(json.dumps(validation.to_dict(), allow_nan=False))
    assert SiteValidation.from_dict(doc).to_dict() == doc
    assert set(doc["sites"][0]) >= {"site", "n", "mae", "within_20", "mean_error", "coverage", "iwpc_formula_mae"}


def test_cli_prints_one_json_object_with_sites_and_summary(monkeypatch):
    import core.data.cohorts as C
    import core.modeling.training as T
    from core.cli import main

    cohort, site = _synthetic(seed=2)
    monkeypatch.setattr(C, "load_cohort", lambda name: cohort)
    monkeypatch.setattr(C, "project_sites", lambda c: site)
    monkeypatch.setattr(T, "default_grid", lambda task: (GRID, 10))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", "--cohort", "warfarin", "--by-site"])
    assert code == 0, err.getvalue()
    doc = json.loads(out.getvalue())
    assert [s["site"] for s in doc["sites"]] == ["1", "2", "3"]
    assert doc["summary"]["worst_site"]["site"] in {"1", "2", "3"}
    assert "site 3 (3 of 3)" in err.getvalue()  # progress on standard error, not in the JSON


@pytest.mark.parametrize("argv, message", [
    (["validate", "--cohort", "warfarin"], "needs --by-site"),
    (["validate", "--cohort", "nope", "--by-site"], "Unknown cohort 'nope'"),
    (["validate", "--cohort", "actg175", "--by-site"], "records no site per patient"),
])
def test_cli_refuses_what_it_cannot_validate(argv, message, capsys):
    from core.cli import main

    assert main(argv) == 2
    assert message in capsys.readouterr().err
