"""Subgroup c-for-benefit: one per active arm against the reference, arm-stratified bootstrap, checked
against an independent formulation of van Klaveren et al. (2018)."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from lifelines.utils import concordance_index

from core.evaluation.benefit import (MIN_PER_ARM, benefit_by_group, benefit_metric_name, stratified_resample)
from core.evaluation.metrics import c_for_benefit

ARMS = ("Ref", "A", "B")


class _Model:
    """Risks read from the frame: ``risk_<arm>`` columns (the model is not under test here)."""

    def predict(self, frame, arm):
        return frame[f"risk_{arm}"].to_numpy()


def trial(n_per_arm=150, seed=0):
    """A 3-arm trial with equal arm sizes within every group (so no arm is subsampled): arm A helps
    patients with high x, arm B is inert."""
    rng = np.random.default_rng(seed)
    sex = np.tile(np.repeat(["female", "male"], n_per_arm // 2), len(ARMS))
    arm = np.repeat(ARMS, n_per_arm)
    x = rng.uniform(0, 1, arm.size)
    base = 0.3 + 0.4 * x
    effect_a = 0.5 * x
    true = np.where(arm == "A", base - effect_a, base)
    y = (rng.random(arm.size) < true).astype(int)
    frame = pd.DataFrame({"arm": arm, "risk_Ref": base, "risk_A": base - effect_a,
                          "risk_B": base + rng.normal(0, 0.01, arm.size)})
    spec = SimpleNamespace(arms=ARMS, treatment=SimpleNamespace(reference="Ref"))
    return spec, frame, y, pd.DataFrame({"sex": sex})


def matched_pairs_c_for_benefit(benefit_t, y_t, benefit_r, y_r):
    """Independent formulation for equal arm sizes: pair the k-th lowest predicted benefit in each arm;
    observed pair benefit y_ref - y_treated; C = Harrell's concordance of predicted with observed pair
    benefit over pairs of pairs with unequal observed benefit (lifelines.utils.concordance_index, every
    "time" observed, prediction ties 1/2), cross-checked with a literal O(n^2) count."""
    t, r = np.argsort(benefit_t, kind="stable"), np.argsort(benefit_r, kind="stable")
    predicted = (benefit_t[t] + benefit_r[r]) / 2
    observed = y_r[r] - y_t[t]
    harrell = concordance_index(observed, predicted, np.ones_like(observed))
    concordant = comparable = 0.0
    for i in range(observed.size):
        for j in range(observed.size):
            if observed[i] > observed[j]:
                comparable += 1
                concordant += 1.0 if predicted[i] > predicted[j] else 0.5 if predicted[i] == predicted[j] else 0.0
    assert harrell == pytest.approx(concordant / comparable, abs=1e-12)
    return harrell


def test_one_metric_per_active_arm_each_matching_the_independent_formulation():
    spec, frame, y, groups = trial()
    out = benefit_by_group(spec, _Model(), frame, y, np.ones(len(y)), groups, n_boot=20, seed=0)
    assert set(out) == {benefit_metric_name("A", "Ref"), benefit_metric_name("B", "Ref")} == {
        "c_for_benefit[A vs Ref]", "c_for_benefit[B vs Ref]"}
    for arm in ("A", "B"):
        values = out[benefit_metric_name(arm, "Ref")]
        for key, mask in [("overall", np.ones(len(y), bool))] + [
                (("sex", s), (groups["sex"] == s).to_numpy()) for s in ("female", "male")]:
            t, r = mask & (frame["arm"] == arm).to_numpy(), mask & (frame["arm"] == "Ref").to_numpy()
            benefit = frame["risk_Ref"].to_numpy() - frame[f"risk_{arm}"].to_numpy()
            expected = matched_pairs_c_for_benefit(benefit[t], y[t], benefit[r], y[r])
            mv = values[key]
            assert mv.value == pytest.approx(expected, abs=1e-12), (arm, key)
            assert mv.ci_low <= mv.value <= mv.ci_high and not mv.compared and not mv.flagged
            assert f"{arm} vs Ref" in mv.note


def test_arms_are_not_pooled():
    spec, frame, y, groups = trial(1000, seed=1)
    out = benefit_by_group(spec, _Model(), frame, y, np.ones(len(y)), groups, n_boot=0)
    a, b = out["c_for_benefit[A vs Ref]"]["overall"].value, out["c_for_benefit[B vs Ref]"]["overall"].value
    treated = (frame["arm"] != "Ref").to_numpy()
    pooled_benefit = frame["risk_Ref"] - (frame["risk_A"] + frame["risk_B"]) / 2
    pooled = c_for_benefit(pooled_benefit.to_numpy(), treated, y)
    assert a > 0.55 and abs(b - 0.5) < 0.04  # the helpful arm discriminates benefit, the inert arm does not
    assert pooled not in (pytest.approx(a), pytest.approx(b))


def test_stratified_resample_keeps_every_arm_size_and_draws_within_arms():
    rng = np.random.default_rng(0)
    arm_t, arm_r = np.arange(0, 30), np.arange(100, 160)
    for _ in range(20):
        b = stratified_resample([arm_t, arm_r], rng)
        assert np.count_nonzero(b < 100) == 30 and np.count_nonzero(b >= 100) == 60
        assert set(b[:30]) <= set(arm_t) and set(b[30:]) <= set(arm_r)


def test_bootstrap_interval_narrows_with_more_patients_and_is_reproducible():
    spec, small, y_s, g_s = trial(60, seed=2)
    _, large, y_l, g_l = trial(600, seed=2)
    width = lambda mv: mv.ci_high - mv.ci_low  # noqa: E731
    one = benefit_by_group(spec, _Model(), small, y_s, np.ones(len(y_s)), g_s, n_boot=60, seed=3)
    again = benefit_by_group(spec, _Model(), small, y_s, np.ones(len(y_s)), g_s, n_boot=60, seed=3)
    big = benefit_by_group(spec, _Model(), large, y_l, np.ones(len(y_l)), g_l, n_boot=60, seed=3)
    key = "c_for_benefit[A vs Ref]"
    assert one[key]["overall"] == again[key]["overall"]
    assert width(big[key]["overall"]) < width(one[key]["overall"]) / 2


def test_too_few_known_outcomes_per_arm_is_insufficient_data():
    spec, frame, y, groups = trial(2 * MIN_PER_ARM, seed=4)
    w = np.ones(len(y))
    w[(frame["arm"] == "A").to_numpy() & (groups["sex"] == "female").to_numpy()] = 0  # unknown outcomes
    out = benefit_by_group(spec, _Model(), frame, y, w, groups, n_boot=5)["c_for_benefit[A vs Ref]"]
    assert out[("sex", "female")].insufficient_data
    assert out[("sex", "female")].reason.startswith(f"0 patients on A / {MIN_PER_ARM} on Ref")
    assert not out[("sex", "male")].insufficient_data


@pytest.mark.parametrize("cohort, n_active", [("actg175", 3), ("colon", 2)])
def test_bundle_audit_reports_c_for_benefit_per_active_arm(bundles, cohort, n_active):
    audit = bundles(cohort).audit
    reference = bundles(cohort).spec.treatment.reference
    names = [m for m in audit.overall if m.startswith("c_for_benefit")]
    assert len(names) == n_active and all(n.endswith(f" vs {reference}]") for n in names)
    assert "c_for_benefit" not in audit.overall  # no pooled metric
    assert not any(g.metrics[n].flagged for g in audit.groups for n in names)
