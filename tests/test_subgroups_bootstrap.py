"""The bootstrap: replicates equal metrics on materialised resamples, CIs are reproducible, and
planted biases are flagged on the right metric."""

import warnings

import numpy as np
import pandas as pd
import pytest

from core.fairness import _bootstrap
from core.evaluation import metrics as em
from core.fairness import audit_subgroups


def cohort(n=4000, seed=0, *, noisy_group=None, shift_group=None):
    """Binary cohort; optionally one race's scores are noisier or its risks overestimated."""
    rng = np.random.default_rng(seed)
    groups = pd.DataFrame({
        "race": rng.choice(["White", "Black", "Asian", "Other"], n, p=[0.5, 0.25, 0.15, 0.1]),
        "sex": rng.choice(["female", "male"], n),
    })
    risk = rng.normal(-1, 1.2, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype(int)
    noise = np.full(n, 0.3)
    shift = np.zeros(n)
    race = groups["race"].to_numpy()
    if noisy_group:
        noise[race == noisy_group] = 2.0
    if shift_group:
        shift[race == shift_group] = 1.0
    p = 1 / (1 + np.exp(-(risk + shift + rng.normal(0, noise))))
    return y, p, groups


def _audit(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return audit_subgroups(*args, **kwargs)


# --- the engine against materialised resamples ----------------------------------------------


def _engine_inputs(n, seed, *, weighted):
    y, p, groups = cohort(n, seed)
    race = pd.factorize(groups["race"], sort=True)[0]
    sex = pd.factorize(groups["sex"], sort=True)[0]
    partitions = [np.zeros(n, dtype=np.intp), race, sex]
    n_groups = [1, 4, 2]
    w = np.random.default_rng(seed).uniform(0.5, 2.0, n) if weighted else np.ones(n)
    w[::9] = 0 if weighted else 1
    starts = []
    for codes, count in zip(partitions, n_groups):
        for g in range(count):
            m = codes == g
            starts.append(em._calibration_fit(y[m].astype(float), p[m], w[m]))
    return y.astype(float), p, partitions, n_groups, np.array(starts), (w if weighted else None)


@pytest.mark.parametrize("weighted", [False, True])
def test_replicates_equal_metrics_on_materialised_resamples(weighted, monkeypatch):
    monkeypatch.setattr(_bootstrap, "EXACT_CALIBRATION_MAX_N", 10**9)  # exact refits everywhere
    n, n_boot = 600, 6
    y, p, partitions, n_groups, starts, w = _engine_inputs(n, 1, weighted=weighted)
    covered = (np.abs(y - p) < 0.5).astype(float)
    reps = _bootstrap.bootstrap_replicates(task="binary", y=y, pred=p, partitions=partitions,
                                           n_groups=n_groups, calibration_start=starts,
                                           n_boot=n_boot, seed=7, sample_weight=w, covered=covered,
                                           chunk_size=4)
    counts = _bootstrap.draw_counts(np.random.default_rng(7), n, n_boot)
    base = np.ones(n) if w is None else w
    for b in range(n_boot):
        gid = 0
        for codes, count in zip(partitions, n_groups):
            for g in range(count):
                m = codes == g
                # reference: each metric on the resample itself (patient i repeated counts[b, i] times)
                idx = np.repeat(np.flatnonzero(m), counts[b, m])
                yy, pp, ww = y[idx], p[idx], base[idx]
                assert reps["auc"][b, gid] == pytest.approx(em.roc_auc(yy, pp, sample_weight=ww), abs=1e-12)
                assert reps["brier"][b, gid] == pytest.approx(em.brier_score(yy, pp, sample_weight=ww))
                intercept, slope = em.calibration_intercept_slope(yy, pp, sample_weight=ww)
                assert reps["calibration_intercept"][b, gid] == pytest.approx(intercept, abs=1e-7)
                assert reps["calibration_slope"][b, gid] == pytest.approx(slope, abs=1e-7)
                assert reps["outcome_rate"][b, gid] == pytest.approx(np.average(yy, weights=ww))
                assert reps["mean_predicted"][b, gid] == pytest.approx(np.average(pp, weights=ww))
                assert reps["coverage"][b, gid] == pytest.approx(np.average(covered[idx], weights=ww))
                gid += 1


def test_regression_replicates_equal_metrics_on_materialised_resamples():
    n, n_boot = 500, 5
    rng = np.random.default_rng(2)
    y = rng.uniform(10, 60, n)
    pred = y * rng.uniform(0.7, 1.3, n)
    codes = rng.integers(0, 3, n)
    reps = _bootstrap.bootstrap_replicates(task="regression", y=y, pred=pred,
                                           partitions=[np.zeros(n, dtype=np.intp), codes],
                                           n_groups=[1, 3], calibration_start=np.full((4, 3), np.nan),
                                           n_boot=n_boot, seed=3)
    counts = _bootstrap.draw_counts(np.random.default_rng(3), n, n_boot)
    for b in range(n_boot):
        for gid, m in enumerate([np.ones(n, bool)] + [codes == g for g in range(3)]):
            idx = np.repeat(np.flatnonzero(m), counts[b, m])
            assert reps["mae"][b, gid] == pytest.approx(em.mean_absolute_error(y[idx], pred[idx]))
            assert reps["mean_error"][b, gid] == pytest.approx(em.mean_error(y[idx], pred[idx]))
            assert reps["within_20"][b, gid] == pytest.approx(em.within_fraction(y[idx], pred[idx]))
            assert reps["mean_outcome"][b, gid] == pytest.approx(y[idx].mean())


def test_large_group_calibration_approximation_is_far_below_the_bootstrap_spread(monkeypatch):
    """Above EXACT_CALIBRATION_MAX_N the refit is two Newton steps with a second-order score;
    compare it with exact refits on a 3,000-patient sample."""
    y, p, partitions, n_groups, starts, _ = _engine_inputs(3000, 4, weighted=False)
    kwargs = dict(task="binary", y=y, pred=p, partitions=partitions[:1], n_groups=[1],
                  calibration_start=starts[:1], n_boot=40, seed=0)
    monkeypatch.setattr(_bootstrap, "EXACT_CALIBRATION_MAX_N", 10**9)
    exact = _bootstrap.bootstrap_replicates(**kwargs)
    monkeypatch.setattr(_bootstrap, "EXACT_CALIBRATION_MAX_N", 0)
    approx = _bootstrap.bootstrap_replicates(**kwargs)
    for name in ("calibration_intercept", "calibration_slope"):
        spread = np.std(exact[name][:, 0])
        assert np.max(np.abs(approx[name][:, 0] - exact[name][:, 0])) < 0.05 * spread


def test_chunking_does_not_change_the_replicates():  # beyond float rounding in BLAS
    y, p, partitions, n_groups, starts, _ = _engine_inputs(400, 5, weighted=False)
    kwargs = dict(task="binary", y=y, pred=p, partitions=partitions, n_groups=n_groups,
                  calibration_start=starts, n_boot=7, seed=11)
    one = _bootstrap.bootstrap_replicates(**kwargs, chunk_size=7)
    many = _bootstrap.bootstrap_replicates(**kwargs, chunk_size=2)
    for name in one:
        np.testing.assert_allclose(one[name], many[name], rtol=1e-12, atol=1e-15)


# --- intervals -----------------------------------------------------------------------------


def test_intervals_are_percentiles_of_materialised_resamples():
    y, p, groups = cohort(800, 6)
    audit = _audit(y, p, groups, n_boot=40, seed=3, intersections=False)
    counts = _bootstrap.draw_counts(np.random.default_rng(3), y.size, 40)
    member = (groups["race"] == "Black").to_numpy()
    aucs, diffs = [], []
    for c in counts:
        rest = em.roc_auc(y[~member], p[~member], sample_weight=c[~member])  # the complement, not overall
        aucs.append(em.roc_auc(y[member], p[member], sample_weight=c[member]))
        diffs.append(aucs[-1] - rest)
    entry = next(g for g in audit.groups if g.group == "Black").metrics["auc"]
    assert (entry.ci_low, entry.ci_high) == pytest.approx(tuple(np.percentile(aucs, [2.5, 97.5])))
    assert (entry.difference_ci_low, entry.difference_ci_high) == pytest.approx(
        tuple(np.percentile(diffs, [2.5, 97.5])))
    # the p-value: one-sided z with the bootstrap SD of the difference (reference: scipy.stats.norm.sf)
    from scipy.stats import norm

    rest_auc = em.roc_auc(y[~member], p[~member])
    assert entry.complement == pytest.approx(rest_auc)
    assert entry.difference == pytest.approx(entry.value - rest_auc)
    assert entry.p_value == pytest.approx(norm.sf(-entry.difference / np.std(diffs, ddof=1)))


def test_intervals_reproducible_by_seed_and_change_with_it():
    y, p, groups = cohort(1500, 7)
    first = _audit(y, p, groups, n_boot=50, seed=1).to_dict()
    assert _audit(y, p, groups, n_boot=50, seed=1).to_dict() == first
    other = _audit(y, p, groups, n_boot=50, seed=2).to_dict()
    assert other["overall"]["metrics"]["auc"]["value"] == first["overall"]["metrics"]["auc"]["value"]
    assert other["overall"]["metrics"]["auc"]["ci_low"] != first["overall"]["metrics"]["auc"]["ci_low"]


def test_interval_contains_point_estimate_and_narrows_with_n():
    small = _audit(*cohort(600, 8), n_boot=100)
    large = _audit(*cohort(6000, 8), n_boot=100)
    for audit in (small, large):
        for name, mv in audit.overall.items():
            assert mv.ci_low <= mv.value <= mv.ci_high, name
    width = lambda a: a.overall["auc"].ci_high - a.overall["auc"].ci_low  # noqa: E731
    assert width(large) < width(small) / 2


def test_no_bootstrap_gives_point_estimates_only():
    audit = _audit(*cohort(600, 9), n_boot=0)
    mv = audit.groups[0].metrics["auc"]
    assert mv.value is not None and mv.ci_low is None and mv.difference is not None
    assert not audit.flagged()


# --- planted biases ----------------------------------------------------------------------------


def test_noisier_scores_flag_lower_auc_for_that_group():
    y, p, groups = cohort(6000, 10, noisy_group="Other")
    audit = _audit(y, p, groups, n_boot=200, seed=0)
    flagged = set(audit.flagged())
    assert ("race", "Other", "auc") in flagged
    assert not any(f.metric == "auc" and f.group in ("White", "Black") for f in flagged)
    entry = next(g for g in audit.groups if (g.attribute, g.group) == ("race", "Other"))
    assert entry.metrics["auc"].difference_ci_high < 0


def test_overestimated_risks_flag_calibration_intercept_for_that_group():
    y, p, groups = cohort(6000, 11, shift_group="Asian")
    audit = _audit(y, p, groups, n_boot=200, seed=0)
    assert ("race", "Asian", "calibration_intercept") in set(audit.flagged())
    assert ("race", "White", "calibration_intercept") not in set(audit.flagged())


def test_outcome_measured_with_offset_flags_relative_metrics_never_mae_or_mean_error():
    rng = np.random.default_rng(12)
    n = 3000
    groups = pd.DataFrame({"race": rng.choice(["White", "Black", "Asian"], n, p=[0.6, 0.25, 0.15]),
                           "sex": rng.choice(["female", "male"], n)})
    dose = rng.uniform(20, 60, n)  # mg/week
    pred = dose + rng.normal(0, 4, n)
    dose = dose + np.where(groups["race"] == "Black", 8.0, 0.0)  # measured higher in one group
    audit = _audit(dose, pred, groups, task="regression", n_boot=200, seed=0)
    flagged = set(audit.flagged())
    assert {("race", "Black", "within_20"), ("race", "Black", "mape")} <= flagged
    assert not any(f.metric in ("mae", "mean_error") for f in flagged)  # reported, never flagged
    black = audit.group("race", "Black").metrics
    assert black["mae"].difference_ci_low > 0 and black["mean_error"].difference_ci_high < 0  # yet clearly worse
    assert black["mae"].p_value is None and black["mae"].correction is None
    assert not any(f.group == "White" for f in flagged)
