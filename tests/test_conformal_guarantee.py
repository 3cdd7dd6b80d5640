"""The split-conformal guarantee, checked by simulation on exchangeable data, and the dose pipeline's use of it.

Guarantee (Vovk et al. 2005; Lei et al. 2018): with a model fitted without the calibration rows and
calibration and test rows exchangeable, 1 − α <= P(covered) <= 1 − α + 1/(n + 1) (continuous scores).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from core.uncertainty.conformal import MondrianConformalRegressor, conformal_rank

ALPHA = 0.1


def _direct_quantile(scores: np.ndarray, coverage: float) -> float:
    """The conformal quantile from its textbook form: the ceil((n+1)(1-α))/n empirical quantile,
    i.e. the smallest score whose empirical CDF reaches it (numpy method="inverted_cdf"); independent of conformal_rank."""
    n = len(scores)
    level = math.ceil((n + 1) * coverage - 1e-9) / n
    return math.inf if level > 1 else float(np.quantile(scores, level, method="inverted_cdf"))


@pytest.mark.parametrize("n", [9, 10, 19, 20, 37, 100, 250])
@pytest.mark.parametrize("coverage", [0.8, 0.9, 0.95])
def test_rank_rule_matches_the_direct_formula(n, coverage):
    rng = np.random.default_rng(n)
    scores = rng.exponential(size=n)
    cr = MondrianConformalRegressor(coverage=coverage, min_group_size=1).calibrate(scores, np.zeros(n))
    assert cr.quantile_marginal_ == _direct_quantile(scores, coverage)
    k = conformal_rank(n, coverage)
    assert k == math.ceil((n + 1) * coverage - 1e-9)


def _simulate(rng, n: int):
    x = rng.uniform(0, 10, size=(n, 2))
    noise = rng.standard_t(4, size=n) * (1 + 0.3 * x[:, 0])  # heavy-tailed and heteroscedastic
    return x, 20 + 3 * x[:, 0] - 2 * x[:, 1] + noise


@pytest.mark.parametrize("n_cal", [20, 99])
def test_split_conformal_covers_at_least_nominal_on_exchangeable_data(n_cal):
    """Many repetitions: fit on one sample, calibrate on a second, test on a third (all from one population).
    Mean coverage must lie within [1 − α, 1 − α + 1/(n + 1)] up to Monte Carlo error."""
    rng = np.random.default_rng(7)
    reps, n_test, covered = 600, 200, []
    for _ in range(reps):
        x_fit, y_fit = _simulate(rng, 100)
        x_cal, y_cal = _simulate(rng, n_cal)
        x_te, y_te = _simulate(rng, n_test)
        model = LinearRegression().fit(x_fit, y_fit)  # never sees the calibration rows
        cr = MondrianConformalRegressor(coverage=1 - ALPHA, min_group_size=1).calibrate(y_cal, model.predict(x_cal))
        res = cr.predict_interval(model.predict(x_te))
        covered.append(np.mean((res.low <= y_te) & (y_te <= res.high)))
    mean = float(np.mean(covered))
    mc_se = float(np.std(covered, ddof=1) / math.sqrt(reps))
    assert mean >= 1 - ALPHA - 3 * mc_se, (mean, mc_se)
    assert mean <= 1 - ALPHA + 1 / (n_cal + 1) + 3 * mc_se, (mean, mc_se)


def test_mondrian_covers_nominal_within_every_group():
    rng = np.random.default_rng(11)
    sd = {"a": 1.0, "b": 5.0}
    reps, per_group = 500, {"a": 60, "b": 25}
    covered = {g: [] for g in sd}
    for _ in range(reps):
        def draw(counts):
            groups = np.concatenate([[g] * k for g, k in counts.items()])
            mu = rng.normal(30, 5, size=len(groups))
            return groups, mu, mu + rng.normal(size=len(groups)) * np.array([sd[g] for g in groups])
        g_cal, mu_cal, y_cal = draw(per_group)
        g_te, mu_te, y_te = draw({"a": 100, "b": 100})
        cr = MondrianConformalRegressor(coverage=1 - ALPHA, min_group_size=1).calibrate(y_cal, mu_cal, groups=g_cal)
        res = cr.predict_interval(mu_te, groups=g_te)
        hit = (res.low <= y_te) & (y_te <= res.high)
        for g in sd:
            covered[g].append(hit[g_te == g].mean())
    for g, values in covered.items():
        mean, se = np.mean(values), np.std(values, ddof=1) / math.sqrt(reps)
        assert 1 - ALPHA - 3 * se <= mean <= 1 - ALPHA + 1 / (per_group[g] + 1) + 3 * se, (g, mean, se)


def test_calibrating_on_the_rows_the_model_was_fitted_on_undercovers():
    """Why the calibration part must be held out: in-sample residuals of a flexible model are too small.
    (This is the failure the held-out calibration part prevents; the test can fail if the rule were wrong.)"""
    rng = np.random.default_rng(3)
    covered = []
    for _ in range(200):
        x, y = _simulate(rng, 40)
        x_te, y_te = _simulate(rng, 200)
        design = lambda a: np.column_stack([a, a ** 2, np.sin(a), np.cos(3 * a)])  # noqa: E731
        model = LinearRegression().fit(design(x), y)
        cr = MondrianConformalRegressor(coverage=1 - ALPHA, min_group_size=1).calibrate(y, model.predict(design(x)))
        res = cr.predict_interval(model.predict(design(x_te)))
        covered.append(np.mean((res.low <= y_te) & (y_te <= res.high)))
    assert np.mean(covered) < 1 - ALPHA - 0.02


# --- the dose bundle -----------------------------------------------------------------------------


def test_dose_bundle_states_split_conformal_and_its_guarantee(bundles):
    b = bundles("warfarin")
    method = b.uncertainty.interval_method
    assert method["method"].startswith("split-conformal, Mondrian by predicted-dose band × race")
    assert ">= 90% within each cell" in method["guarantee"]
    # every cell has at least 30 calibration patients, and the cells partition the calibration part
    assert min(method["cells"].values()) >= 30 and sum(method["cells"].values()) == method["n_calibration"]
    assert method["n_calibration"] == b.training.n_calibration == b.conformal.n_marginal_
    assert b.training.n_fit + b.training.n_calibration == b.training.n_train
    cov = b.uncertainty.test_coverage
    assert cov["guarantee"] == method["guarantee"] and cov["method"] == method["method"]
    assert sum(g["n"] for g in b.conformal.to_dict()["fitted"]["groups"]) == b.training.n_calibration


def test_dose_model_never_sees_the_calibration_part(monkeypatch):
    """Changing the calibration patients' doses leaves the model identical (the guarantee's condition (a))."""
    import dataclasses

    import core.modeling.training as T
    from core.data.cohorts import load_cohort

    cohort = load_cohort("warfarin")
    test = T.split_test(cohort, T.labels_for(cohort))
    cal = T.split_calibration(cohort, cohort.frame[~test].reset_index(drop=True), T.labels_for(cohort, ~test))
    # both splits are drawn from the original outcomes; pin them so that only the outcomes change below
    monkeypatch.setattr(T, "split_test", lambda c, labels: test)
    monkeypatch.setattr(T, "split_calibration", lambda c, frame, labels: cal)
    train_rows = np.flatnonzero(~test)
    col = cohort.spec.outcome.column

    def changed(rows):
        frame = cohort.frame.copy()
        frame.loc[rows, col] = frame.loc[rows, col] * 3 + 10
        return T.train(dataclasses.replace(cohort, frame=frame), grid=grid, max_trees=40)

    grid = T.default_grid("regression")[0][:1]  # one setting: what is tested is which rows the fit sees
    base = T.train(cohort, grid=grid, max_trees=40)
    probe = cohort.frame.head(100)
    np.testing.assert_array_equal(base.model.predict(probe), changed(train_rows[cal]).model.predict(probe))
    # ...while changing 200 fitting rows does change it, so this test can fail
    assert not np.allclose(base.model.predict(probe), changed(train_rows[~cal][:200]).model.predict(probe))
