"""SHAP additivity on each scale (exact Shapley values by brute force: test_explain_brute_force.py)."""

import math
import re
import warnings

import numpy as np
import pytest

from core.modeling.heldout import held_out_records
from core.data.cohorts import patient_frame
from core.explain.explanation import explain_dose
from core.modeling.design import ARM_FEATURE
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


@pytest.mark.parametrize("cohort", ["actg175", "colon"])
def test_each_arm_and_the_difference_add_up_in_percentage_points(bundles, cohort):
    # The headline's scale: rows + starting point == 100 x the model's predicted probability (and difference),
    # computed here from model.predict (independent of the contributions), for every held-out patient shown.
    bundle = bundles(cohort)
    for report in _reports(bundle, k=40):
        row = patient_frame(bundle.spec, [report.patient.values])
        predicted = {arm: float(bundle.model.predict(row, arm)[0]) for arm in bundle.spec.arms}
        for arm, expl in report.arm_explanations.items():
            plain = expl.plain
            assert plain.scale == "percentage points"
            assert plain.base_value + math.fsum(plain.values) == pytest.approx(100 * predicted[arm], abs=1e-9)
            assert plain.output == pytest.approx(100 * predicted[arm], abs=1e-9)
            assert plain.base_value == pytest.approx(100 / (1 + np.exp(-expl.base_value)), abs=1e-12)
            # same direction and proportions as the log-odds rows
            assert np.all(np.sign(plain.values) == np.sign(expl.shap))
        diff = report.difference_explanation.plain
        fav, versus = report.comparison["favoured"], report.comparison["versus"]
        assert diff.base_value == 0.0
        assert math.fsum(diff.values) == pytest.approx(100 * (predicted[fav] - predicted[versus]), abs=1e-9)
        assert diff.output == pytest.approx(100 * report.comparison["difference"], abs=1e-9)
        assert diff.treatment + diff.patient_features == pytest.approx(diff.output, abs=1e-9)
        arm_row = report.difference_explanation.features.index(ARM_FEATURE)
        assert diff.treatment == pytest.approx(diff.values[arm_row], abs=1e-12)
        doc = report.to_dict()["difference_explanation"]
        assert doc["plain"]["scale"] == "percentage points" and "points" in doc["plain"]["summary"]
        assert math.fsum(c["plain"] for c in doc["contributions"]) == pytest.approx(doc["plain"]["output"], abs=1e-9)


def test_rescaling_is_exact_when_the_log_odds_do_not_move():
    # When the two arms' log-odds are equal the factor is the derivative 100 p (1 - p); rows still add up.
    from core.explain.explanation import _factor

    assert _factor(0.0, 0.0, 0.0) == pytest.approx(25.0)
    assert _factor(5.0, 0.5, 1.0) == pytest.approx(10.0)


def test_dose_explanation_adds_up_in_mg_per_week(bundles):
    bundle = bundles("warfarin")
    for report in _reports(bundle):
        expl = report.explanation
        assert expl.scale == "mg/week"
        assert expl.base_value + expl.shap.sum() == pytest.approx(report.dose["mg_per_week"], abs=1e-9)
        assert expl.plain.scale == "mg/week"
        assert expl.plain.base_value + math.fsum(expl.plain.values) == pytest.approx(report.dose["mg_per_week"],
                                                                                     abs=1e-9)


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


# --- plain words ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cohort, feature, value, phrase", [
    ("actg175", "weight_kg", 68, "Weight 68 kg"),
    ("actg175", "weight_kg", 73.9368, "Weight 73.9 kg"),
    ("actg175", "age_years", 35, "Age 35 years"),
    ("actg175", "cd4_cells_per_ul", 1391, "CD4 count at baseline: 1,391 cells/µL"),
    ("actg175", "karnofsky_score", 90, "Karnofsky performance score 90 (scale 0–100)"),
    ("actg175", "symptomatic", 1, "Symptomatic HIV infection: yes"),
    ("actg175", "hemophilia", 0, "Hemophilia: no"),
    ("actg175", "sex", "male", "Sex: male"),
    ("actg175", "prior_art_days", 59, "Time on antiretroviral therapy before the trial: 59 days"),
    ("warfarin", "diabetes", 1, "Diabetes: yes"),
    ("warfarin", "diabetes", None, "Diabetes: unknown"),
    ("warfarin", "age_decade", 6, "Age 60–69 years"),
    ("warfarin", "age_decade", 4, "Age 40–49 years"),
    ("warfarin", "cyp2c9", "*1/*3", "CYP2C9 genotype: *1/*3"),
    ("warfarin", "target_inr", 2.5, "Target INR 2.5"),
    ("warfarin", "race", "Asian", "Race: Asian"),
    ("colon", "positive_nodes", 3, "Positive lymph nodes 3"),
    ("colon", "differentiation", "poor", "Tumour differentiation: poor"),
])
def test_clinical_phrase_names_the_feature_in_words_with_its_unit(cohort, feature, value, phrase):
    from core.data.cohorts import load_spec
    from core.explain.explanation import clinical_phrase

    assert clinical_phrase(load_spec(cohort).feature(feature), value) == phrase


CODE_NAME = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b|= [01]\b| x |\bdecades\b|log.odds")


@pytest.mark.parametrize("cohort", ["actg175", "colon", "warfarin"])
def test_every_row_of_a_real_report_is_phrased_without_code_names(bundles, cohort):
    bundle = bundles(cohort)
    for report in _reports(bundle, k=10):
        doc = report.to_dict()
        explanations = [doc["explanation"], *doc.get("arm_explanations", {}).values()]
        explanations += [doc["difference_explanation"]] if "difference_explanation" in doc else []
        for expl in explanations:
            texts = [c["phrase"] for c in expl["contributions"]] + [expl["plain"]["summary"]]
            for text in texts:
                assert not CODE_NAME.search(text), text
            if cohort != "warfarin":
                assert "-" not in expl["plain"]["summary"]  # real minus signs only
