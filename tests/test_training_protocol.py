"""The held-out split is fixed and nothing fitted ever sees it."""

import dataclasses

import numpy as np

from core.data.cohorts import load_cohort
from core.modeling.boosted import ARM_FEATURE
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


def test_inputs_are_baseline_features_only():
    for name in ("actg175", "colon", "warfarin"):
        cohort = load_cohort(name)
        spec = cohort.spec
        from core.modeling.boosted import Design

        design = Design.fit(spec, cohort.frame)
        inputs = set(design.columns) - {ARM_FEATURE}
        assert inputs == set(spec.feature_names)
        o = spec.outcome
        forbidden = set(spec.excluded_columns) | {o.column, o.time_column, o.event_column} - {""}
        assert not inputs & forbidden
