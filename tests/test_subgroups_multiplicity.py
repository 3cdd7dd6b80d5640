"""Flags: each group against the rest, one-sided p-values, Holm/BH across every test of the audit.

References: statsmodels.stats.multitest.multipletests (the corrections), scipy.stats.norm (the z test),
scikit-learn (the complement's metrics)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_percentage_error, roc_auc_score
from statsmodels.stats.multitest import multipletests

from core.fairness import audit_subgroups
from core.fairness._significance import FLAG_METRICS, HIGH_P_ADJUSTED, LARGE_GAP, adjust, flag_severity


def _audit(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return audit_subgroups(*args, **kwargs)


def dose_cohort(n=4000, seed=0, *, n_noise_groups=12, worse=None):
    """Doses with 20% relative noise; three attributes of pure-noise labels (12 groups each, so
    3*12 groups + 3*144 intersections: several hundred tests); optionally one group of ``a`` with 3x the error."""
    rng = np.random.default_rng(seed)
    groups = pd.DataFrame({name: rng.choice([f"{name}{k}" for k in range(n_noise_groups)], n)
                           for name in ("a", "b", "c")})
    dose = rng.uniform(15, 80, n)
    rel = rng.normal(0, 0.15, n)
    if worse is not None:
        rel = np.where(groups["a"] == worse, rel * 3, rel)
    return dose, dose * (1 + rel), groups


def _tested(audit):
    return [(g.attribute, g.group, name, mv) for g in audit.groups for name, mv in g.metrics.items() if mv.tested]


def test_pure_noise_groups_give_no_flags_after_correction_but_some_before():
    dose, pred, groups = dose_cohort(seed=1)
    holm = _audit(dose, pred, groups, task="regression", n_boot=200, seed=0, intersections=False)
    raw = _audit(dose, pred, groups, task="regression", n_boot=200, seed=0, intersections=False,
                 correction="none")
    m = holm.settings["n_tests"]
    assert m == 3 * 12 * 2 and len(_tested(holm)) == m  # within_20 and mape for every group
    assert holm.flagged() == []
    # without correction about alpha * m tests fall below alpha by chance (binomial sd ~ 2.6)
    below = raw.settings["n_below_alpha_uncorrected"]
    assert below == len(raw.flagged()) == holm.settings["n_below_alpha_uncorrected"]
    assert 0 < below <= 0.05 * m + 4 * np.sqrt(0.05 * 0.95 * m)


@pytest.mark.parametrize("correction", ["holm", "fdr_bh"])
def test_the_truly_worse_group_is_flagged_and_no_noise_group_is(correction):
    dose, pred, groups = dose_cohort(seed=2, worse="a3")
    audit = _audit(dose, pred, groups, task="regression", n_boot=200, seed=0, correction=correction)
    assert audit.settings["n_tests"] > 300  # intersections included in the family
    flagged = set(audit.flagged())
    assert {("a", "a3", "within_20"), ("a", "a3", "mape")} <= flagged
    # every other flag involves the worse group (its intersections), never a pure-noise group alone
    assert all("a3" in f.group for f in flagged), flagged
    mv = audit.group("a", "a3").metrics["mape"]
    assert mv.correction == correction and mv.p_adjusted < 0.05 and mv.difference > 0


def test_noise_only_binary_audits_rarely_flag_anything_after_correction():
    """Holm keeps the chance of any false flag per audit at most alpha = 5%: over 8 pure-noise audits
    (~60 tests each) at most 2 may flag anything (P(3 or more) < 1% if the rate is 5%), while the
    uncorrected per-test rate stays near alpha (the p-values are calibrated)."""
    with_flags, below, tests = 0, 0, 0
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        n = 3000
        groups = pd.DataFrame({"a": rng.choice(list("ABCDEFGH"), n), "b": rng.choice(list("PQRS"), n)})
        risk = rng.normal(-1, 1.2, n)
        y = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype(int)
        p = 1 / (1 + np.exp(-(risk + rng.normal(0, 0.4, n))))
        audit = _audit(y, p, groups, n_boot=100, seed=seed, intersections=False)
        assert audit.settings["flag_metrics"] == list(FLAG_METRICS["binary"][:3])  # no interval: no coverage
        assert not any(mv.tested for g in audit.groups for name, mv in g.metrics.items() if name == "brier")
        with_flags += bool(audit.flagged())
        below += audit.settings["n_below_alpha_uncorrected"]
        tests += audit.settings["n_tests"]
    assert tests == 8 * 12 * 3
    assert with_flags <= 2
    assert below / tests < 0.05 + 3 * np.sqrt(0.05 * 0.95 / tests)


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_adjusted_p_values_match_statsmodels(method):
    dose, pred, groups = dose_cohort(seed=4, worse="a1")
    audit = _audit(dose, pred, groups, task="regression", n_boot=100, seed=0, intersections=False,
                   correction=method)
    rows = _tested(audit)
    p = np.array([mv.p_value for *_, mv in rows])
    reference = multipletests(p, alpha=0.05, method=method)
    np.testing.assert_allclose([mv.p_adjusted for *_, mv in rows], reference[1], rtol=1e-12, atol=1e-15)
    assert [mv.flagged for *_, mv in rows] == list(reference[0])
    assert all(mv.p_adjusted >= mv.p_value for *_, mv in rows)


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
@pytest.mark.parametrize("seed", range(4))
def test_adjust_matches_statsmodels_with_ties_and_extremes(method, seed):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(size=40), rng.uniform(0, 1e-4, 5), [0.5, 0.5, 1.0, 0.0]])
    rng.shuffle(p)
    np.testing.assert_allclose(adjust(p, method), multipletests(p, method=method)[1], rtol=1e-12, atol=1e-15)
    assert np.all(adjust(p, method) >= p)


def test_a_group_is_compared_with_the_rest_not_with_overall():
    rng = np.random.default_rng(5)
    n = 3000
    groups = pd.DataFrame({"race": rng.choice(["White", "Black"], n, p=[0.8, 0.2])})
    y = rng.uniform(15, 80, n)
    pred = y * (1 + rng.normal(0, np.where(groups["race"] == "White", 0.25, 0.1), n))
    audit = _audit(y, pred, groups, task="regression", n_boot=100, seed=0)
    white = (groups["race"] == "White").to_numpy()
    mv = audit.group("race", "White").metrics["mape"]
    assert mv.complement == pytest.approx(mean_absolute_percentage_error(y[~white], pred[~white]))
    assert mv.value == pytest.approx(mean_absolute_percentage_error(y[white], pred[white]))
    assert mv.difference == pytest.approx(mv.value - mv.complement)
    # the large group is far worse than the rest, though close to the overall value that it dominates
    assert abs(mv.value - audit.overall["mape"].value) < mv.difference / 3
    assert ("race", "White", "mape") in set(audit.flagged())
    black = audit.group("race", "Black").metrics["mape"]
    assert black.complement == pytest.approx(mv.value) and black.p_value > 0.5 and not black.flagged


def test_complement_auc_matches_sklearn():
    rng = np.random.default_rng(6)
    n = 2000
    groups = pd.DataFrame({"sex": rng.choice(["female", "male"], n), "site": rng.choice(list("XYZ"), n)})
    y = rng.integers(0, 2, n)
    p = np.clip(0.5 + (y - 0.5) * rng.uniform(0, 0.8, n), 0.01, 0.99)
    audit = _audit(y, p, groups, n_boot=30, seed=0)
    member = ((groups["sex"] == "female") & (groups["site"] == "Y")).to_numpy()
    mv = audit.group("sex x site", "female x Y").metrics["auc"]
    assert mv.complement == pytest.approx(roc_auc_score(y[~member], p[~member]))


def test_scale_growing_error_is_reported_but_never_flags_for_doses():
    """A group needing high doses has larger errors in mg/week at the same relative accuracy."""
    rng = np.random.default_rng(7)
    n = 4000
    high = rng.random(n) < 0.3
    groups = pd.DataFrame({"race": np.where(high, "High", "Low")})
    dose = np.where(high, rng.uniform(50, 90, n), rng.uniform(15, 40, n))
    pred = dose * (1 + rng.normal(0, 0.15, n))
    audit = _audit(dose, pred, groups, task="regression", n_boot=200, seed=0)
    mae = audit.group("race", "High").metrics["mae"]
    assert mae.difference_ci_low > 0 and not mae.tested and not mae.flagged
    assert audit.flagged() == []


def test_flags_carry_their_test_in_the_json():
    dose, pred, groups = dose_cohort(seed=2, worse="a3")
    raw = _audit(dose, pred, groups, task="regression", n_boot=100, seed=0, intersections=False).to_dict()
    flags = [m for g in raw["groups"] for m in g["metrics"].values() if m.get("flagged")]
    assert flags and all({"p_value", "p_adjusted", "correction"} <= set(m) for m in flags)
    assert all(m["p_adjusted"] < raw["settings"]["alpha"] and m["correction"] == "holm" for m in flags)


def test_severity_is_high_only_for_a_large_strongly_significant_gap():
    large = LARGE_GAP["within_20"]
    assert flag_severity("within_20", large, HIGH_P_ADJUSTED / 2) == "high"
    assert flag_severity("within_20", large / 2, 1e-12) == "medium"
    assert flag_severity("within_20", 2 * large, 0.01) == "medium"
    assert flag_severity("unknown_metric", 10.0, 0.0) == "medium"


@pytest.mark.parametrize("params, match", [
    ({"correction": "bonferroni"}, "The 'correction' parameter of audit_subgroups must be one of"),
    ({"alpha": 1.5}, "The 'alpha' parameter of audit_subgroups must be a float in the open interval"),
    ({"flag_metrics": ["mean_outcome"]}, "The 'flag_metrics' parameter of audit_subgroups must be None or"),
])
def test_bad_test_parameters_are_refused(params, match):
    dose, pred, groups = dose_cohort(200)
    with pytest.raises(ValueError, match=match):
        audit_subgroups(dose, pred, groups, task="regression", n_boot=0, **params)
