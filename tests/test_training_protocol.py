"""The held-out split is fixed and nothing fitted ever sees it."""

import dataclasses
import json

import numpy as np
import pytest

from core import SpecError
from core.data import CohortSpec, load_spec
from core.data.cohorts import load_cohort
from core.modeling import ARM_FEATURE
from core.modeling.training import labels_for, split_test, train



def _with_outcomes_changed(cohort, mask):
    frame = cohort.frame.copy()
    o = cohort.spec.outcome
    frame.loc[mask, o.event_column] = 1 - frame.loc[mask, o.event_column]
    frame.loc[mask, o.time_column] = frame.loc[mask, o.time_column] * 0.5 + 1
    return dataclasses.replace(cohort, frame=frame)


def test_split_is_fixed_by_seed_and_stratified_by_arm():
    cohort = load_cohort("colon")
    labels = labels_for(cohort)
    a, b = split_test(cohort, labels), split_test(cohort, labels)
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean() - cohort.spec.test_fraction) < 0.01
    share = cohort.frame.loc[a, "arm"].value_counts(normalize=True)
    overall = cohort.frame["arm"].value_counts(normalize=True)
    assert (share - overall).abs().max() < 0.02


def test_model_is_blind_to_test_split_outcomes_but_not_to_training_outcomes():
    cohort = load_cohort("colon")
    test = split_test(cohort, labels_for(cohort))
    probe = cohort.frame.head(60)
    base = train(cohort).model
    # The split is defined before the outcome change, so compare on the same split: change only test outcomes.
    changed_test = _with_outcomes_changed(cohort, test)
    assert np.array_equal(split_test(changed_test, labels_for(cohort)), test)
    blind = train_on_split(changed_test, test).model
    np.testing.assert_array_equal(base.predict(probe), blind.predict(probe))
    # ...while changing some training outcomes does change it (so this test can fail)
    some_train = (~test) & (np.arange(cohort.n) % 7 == 0)
    seen = train_on_split(_with_outcomes_changed(cohort, some_train), test).model
    assert not np.allclose(base.predict(probe), seen.predict(probe))


def train_on_split(cohort, test_mask):
    import core.modeling.training as T

    original = T.split_test
    T.split_test = lambda c, l: test_mask
    try:
        return train(cohort)
    finally:
        T.split_test = original


# Inputs measured before randomisation (or, for warfarin, before the stable dose was reached), written
# out from each study's data dictionary, independently of the cohort specs the model is trained from.
BASELINE_INPUTS = {
    "actg175": {"age_years", "sex", "race", "weight_kg", "karnofsky_score", "symptomatic", "cd4_cells_per_ul",
                "cd8_cells_per_ul", "hemophilia", "homosexual_activity", "iv_drug_use", "prior_non_zdv_art",
                "zdv_last_30_days", "prior_art_days", "art_history"},
    "colon": {"age_years", "sex", "obstruction", "perforation", "adherence", "positive_nodes", "differentiation",
              "extent", "surgery_to_registration"},
    "warfarin": {"age_decade", "sex", "race", "height_cm", "weight_kg", "cyp2c9", "vkorc1_1639", "amiodarone",
                 "enzyme_inducer", "aspirin", "simvastatin", "current_smoker", "diabetes", "heart_failure",
                 "valve_replacement", "target_inr"},
}
# Source columns measured after treatment started: CD4/CD8 at weeks 20/96, off-treatment, follow-up;
# colon recurrence/death times; the INR on and the value of the therapeutic dose itself.
POST_TREATMENT = {
    "actg175": {"cd420", "cd496", "cd820", "r", "offtrt", "cens", "days"},
    "colon": {"time1", "event1", "Stime", "event"},
    "warfarin": {"INR on Reported Therapeutic Dose of Warfarin", "Therapeutic Dose of Warfarin"},
}


@pytest.mark.parametrize("name", sorted(BASELINE_INPUTS))
def test_trained_model_inputs_are_the_documented_baseline_features(bundles, name):
    bundle = bundles(name)
    inputs = {f["name"] for f in bundle.model.design.features}  # what the saved model actually reads
    assert inputs == BASELINE_INPUTS[name]
    assert set(bundle.model.design.columns) - inputs <= {ARM_FEATURE}
    assert not inputs & POST_TREATMENT[name]
    # The spec names the post-treatment columns as excluded, so adding one as a feature is refused.
    assert POST_TREATMENT[name] <= set(bundle.spec.excluded_columns)


def test_a_spec_with_a_post_treatment_column_as_an_input_is_refused():
    raw = json.loads(load_spec("actg175").to_json())
    raw["features"].append({"name": "cd420", "label": "CD4 at week 20", "type": "numeric", "unit": "cells/µL",
                            "role": "biomarker", "limits": [0, 2000], "plausible": [0, 1500]})
    with pytest.raises(SpecError, match=r"\['cd420'\] are listed as excluded post-baseline columns"):
        CohortSpec.from_dict(raw)