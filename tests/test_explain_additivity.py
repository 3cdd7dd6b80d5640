"""SHAP additivity on each scale, and LightGBM's TreeSHAP checked against the shap package."""

import warnings

import numpy as np
import pytest
import shap

from core.modeling.heldout import held_out_records
from core.explain.explanation import explain_dose
from core.reporting.patient_report import predict_patient


def _reports(bundle, k=15):
    records = held_out_records(bundle)[:k]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [predict_patient(bundle, {f: v for f, v in r.items() if f != "patient_id"}) for r in records]


@pytest.mark.parametrize("cohort", ["actg175", "colon"])
def test_each_arm_and_the_difference_add_up_on_the_log_odds_scale(bundles, cohort):
    bundle = bundles(cohort)
    for report in _reports(bundle):
        probs = {a.arm: a.probability for a in report.arms}
        for arm, expl in report.arm_explanations.items():
            assert expl.scale == "log-odds"
            assert expl.base_value + expl.shap.sum() == pytest.approx(expl.output, abs=1e-9)
            assert 1 / (1 + np.exp(-expl.output)) == pytest.approx(probs[arm], abs=1e-12)
        diff = report.difference_explanation
        fav, versus = report.comparison["favoured"], report.comparison["versus"]
        logit = {a: report.arm_explanations[a].output for a in (fav, versus)}
        assert diff.base_value == pytest.approx(0.0, abs=1e-12)
        assert diff.base_value + diff.shap.sum() == pytest.approx(logit[fav] - logit[versus], abs=1e-9)
        assert report.comparison["difference"] == pytest.approx(probs[fav] - probs[versus], abs=1e-12)
        # the favoured arm really has the lowest risk of the (bad) outcome
        assert probs[fav] == min(probs.values())


def test_dose_explanation_adds_up_in_mg_per_week(bundles):
    bundle = bundles("warfarin")
    for report in _reports(bundle):
        expl = report.explanation
        assert expl.scale == "mg/week"
        assert expl.base_value + expl.shap.sum() == pytest.approx(report.dose["mg_per_week"], abs=1e-9)


def test_tree_contributions_match_the_shap_package(bundles):
    # Independent check of LightGBM's pred_contrib: shap.TreeExplainer (path-dependent TreeSHAP).
    bundle = bundles("warfarin")
    model = bundle.model
    assert model.booster is not None
    from core.modeling.heldout import bundle_cohort

    frame = bundle_cohort(bundle).frame.head(40)
    x = model.design.tree_matrix(frame)
    ours = model.booster.predict(x, pred_contrib=True)
    theirs = shap.TreeExplainer(model.booster).shap_values(x)
    np.testing.assert_allclose(ours[:, :-1], theirs, atol=1e-6)


def test_linear_part_contribution_is_coefficient_times_centred_value(bundles):
    # With trees removed, a numeric feature's contribution is beta * (z - mean z), by hand.
    bundle = bundles("warfarin")
    model = bundle.model
    from dataclasses import replace

    from core.modeling.heldout import bundle_cohort

    linear = replace(model, booster=None)  # models are immutable
    frame = bundle_cohort(bundle).frame.head(5)
    expl = explain_dose(bundle.spec, linear, frame.iloc[[0]])
    z, groups = model.design.linear_matrix(frame.iloc[[0]])
    j = model.design.columns.index("weight_kg")
    cols = np.flatnonzero(groups == j)
    by_hand = float(((z[0, cols] - model.z_mean[cols]) * model.coef[cols]).sum())
    assert dict(zip(expl.features, expl.shap))["weight_kg"] == pytest.approx(by_hand, abs=1e-12)
