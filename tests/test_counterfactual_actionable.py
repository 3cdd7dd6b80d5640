"""Counterfactuals on held-out patients only propose what a clinician could do: never start a drug, never move a
non-actionable feature, never change an unknown value, never go against the declared direction."""

import dataclasses
import warnings

import pytest

from core.explain import counterfactual
from core.modeling.heldout import held_out_records

N_PATIENTS = 100


def with_actionable(bundle, **how):
    """The bundle with some features' ``actionable`` replaced; the model is unchanged."""
    features = tuple(dataclasses.replace(f, actionable=how.get(f.name, f.actionable)) for f in bundle.spec.features)
    return dataclasses.replace(bundle, spec=dataclasses.replace(bundle.spec, features=features))


def results(bundle, **kwargs):
    for rec in held_out_records(bundle)[:N_PATIENTS]:
        record = {k: v for k, v in rec.items() if k != "patient_id"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield record, counterfactual(bundle, record, **kwargs)


def check_allowed(spec, record, result) -> int:
    """Assert every proposed (or within-uncertainty) change is allowed; return how many there were."""
    proposed = (*result.changes, *result.uncertain_changes)
    for c in proposed:
        f = spec.feature(c.feature)
        assert f.actionable, f"{c.feature} is not actionable but was changed"
        assert record[c.feature] is not None and c.old == record[c.feature], "an unknown value was changed"
        assert not (f.role == "medication" and (c.old, c.new) == (0, 1)), f"{c.feature} was started"
        assert f.allows_change(c.old, c.new), f"{c.feature}: {c.old} -> {c.new} breaks {f.actionable!r}"
    if result.record is not None:  # the changed record differs from the patient's in exactly the listed changes
        assert {k for k in spec.feature_names if result.record[k] != record[k]} == {c.feature for c in result.changes}
    return len(proposed)


@pytest.mark.parametrize("cohort, kwargs", [
    ("actg175", {}), ("colon", {}),
    ("warfarin", {"dose_change_mg_per_week": -5.0}), ("warfarin", {"dose_change_mg_per_week": 5.0}),
])
def test_no_counterfactual_on_held_out_patients_starts_a_drug_or_changes_a_non_actionable_feature(bundles, cohort,
                                                                                                  kwargs):
    bundle = bundles(cohort)
    proposed = searched = 0
    for record, result in results(bundle, **kwargs):
        proposed += check_allowed(bundle.spec, record, result)
        searched += result.n_candidates
        assert all(not f.actionable or f.name in result.searched for f in bundle.spec.features)
    if cohort == "warfarin":
        # stopping is possible for patients on a co-medication or smoking: the check saw real candidates
        assert searched > 0
    else:
        assert searched == 0 and proposed == 0  # nothing in ACTG 175 or colon is a lever beyond the arm itself


@pytest.mark.parametrize("direction", ["decrease", "increase"])
def test_a_numeric_lever_moves_only_in_its_declared_direction(effect_bundles, direction):
    bundle = with_actionable(effect_bundles("actg175"), weight_kg=direction)
    proposed = 0
    for record, result in results(bundle):
        proposed += check_allowed(bundle.spec, record, result)
        for c in (*result.changes, *result.uncertain_changes):
            assert (c.new < c.old) if direction == "decrease" else (c.new > c.old)
    assert proposed > 0  # some weight change tips the point estimate for some patient: the check is not vacuous


def test_stop_never_starts_even_when_starting_would_reach_the_target(bundles):
    bundle = bundles("warfarin")
    record = next(r for r, _ in results(bundle, dose_change_mg_per_week=-5.0)
                  if all(r[n] == 0 for n in ("amiodarone", "enzyme_inducer", "aspirin", "simvastatin")))
    record = record | {"current_smoker": 0}
    free = with_actionable(bundle, amiodarone="start_or_stop")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = counterfactual(free, record, dose_change_mg_per_week=-5.0)
        stopped_only = counterfactual(bundle, record, dose_change_mg_per_week=-5.0)
    # amiodarone lowers the dose a lot: allowed to start it, the search would propose it ...
    assert [(c.feature, c.old, c.new) for c in (*started.changes, *started.uncertain_changes)] == [("amiodarone", 0, 1)]
    # ... but the bundled spec only allows stopping, and this patient takes nothing that could be stopped
    assert not stopped_only.found and not stopped_only.within_uncertainty and stopped_only.n_candidates == 0
    assert stopped_only.message.startswith("No allowed change applies to this patient (Taking amiodarone may be "
                                           "stopped, not started;")
