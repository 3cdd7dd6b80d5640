"""What if: sliders, changed predictions, counterfactuals and ICE curves, checked against predict_patient."""

import dataclasses
import itertools
import json
import re
import warnings

import numpy as np
import pytest

from core import PatientValidationError
from core.modeling.heldout import bundle_cohort, held_out_records
from core.reporting.patient_report import predict_patient
from core.data.template import patient_template
from core._params import MSG_PARAMETER
from core.explain import counterfactual, ice_curve, slider_specs, what_if
from core.explain.counterfactual import (
    MSG_DOSE_TARGET_FOR_ARMS,
    MSG_DOSE_TARGET_NEEDED,
    IN_RANGES,
    MSG_NO_ACTIONABLE,
    MSG_NOT_FOUND_ARMS,
)

COHORTS = ("actg175", "colon", "warfarin")


def typical(bundle, **changes):
    return patient_template(bundle.spec, bundle_cohort(bundle).frame)["patient"] | changes


def report(bundle, record):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return predict_patient(bundle, record).to_dict()


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def probabilities(rep):
    return {a["arm"]: a["probability"] for a in rep["arms"]}


def plain_json(result):
    return json.loads(json.dumps(result.to_dict(), allow_nan=False))


def with_actionable(bundle, **how):
    """The bundle with some features' ``actionable`` replaced; the model is unchanged."""
    features = tuple(dataclasses.replace(f, actionable=how.get(f.name, f.actionable)) for f in bundle.spec.features)
    return dataclasses.replace(bundle, spec=dataclasses.replace(bundle.spec, features=features))


# --- sliders ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cohort", COHORTS)
def test_sliders_start_at_the_patients_values_and_stay_within_limits(bundles, cohort):
    bundle = bundles(cohort)
    record = typical(bundle)
    sliders = slider_specs(bundle, record)
    assert [s.feature for s in sliders] == bundle.spec.feature_names
    for s in sliders:
        f = bundle.spec.feature(s.feature)
        assert s.value == record[s.feature] and s.start == s.value and not s.missing
        if f.is_numeric:
            assert f.limits[0] <= s.min <= s.start <= s.max <= f.limits[1]
            assert (s.min, s.max) == (min(f.plausible[0], s.value), max(f.plausible[1], s.value))
            assert s.step > 0 and (s.step == 1 if f.integer else True)
            assert s.training_range is not None and s.training_range[0] <= s.training_range[1]
        elif f.type == "binary":
            assert list(s.options) == ([0, 1] if f.required else [None, 0, 1]) and s.start in s.options
        else:
            assert list(s.options) == ([] if f.required else [None]) + list(f.categories) and s.start in s.options
        if None in s.options:
            assert s.option_labels[0] == "unknown"
    plain_json(sliders[0])


def test_a_value_outside_the_plausible_range_widens_the_slider_but_never_beyond_the_limits(bundles):
    bundle = bundles("actg175")
    weight = next(s for s in slider_specs(bundle, typical(bundle, weight_kg=290.0)) if s.feature == "weight_kg")
    assert (weight.min, weight.max, weight.start) == (35.0, 290.0, 290.0)
    assert weight.max <= weight.limits[1] == 300.0


def test_immutable_features_are_locked_and_actionable_ones_are_not(bundles):
    for cohort in ("actg175", "warfarin"):
        bundle = bundles(cohort)
        sliders = {s.feature: s for s in slider_specs(bundle, typical(bundle))}
        for s in sliders.values():
            assert s.locked == (not bundle.spec.feature(s.feature).actionable) == (not s.actionable)
            assert bool(s.lock_reason) == s.locked and bool(s.allowed_change) == s.actionable
    actg = {s.feature: s for s in slider_specs(bundles("actg175"), typical(bundles("actg175")))}
    assert actg["sex"].locked and actg["race"].locked and actg["hemophilia"].locked and actg["weight_kg"].locked
    assert actg["weight_kg"].lock_reason == "Not a treatment lever for this decision."
    assert actg["hemophilia"].lock_reason == "Past history cannot be changed now."
    warf = {s.feature: s for s in slider_specs(bundles("warfarin"), typical(bundles("warfarin")))}
    assert warf["cyp2c9"].locked and warf["vkorc1_1639"].locked and not warf["amiodarone"].locked
    assert warf["cyp2c9"].lock_reason == "A genotype does not change."
    assert warf["amiodarone"].option_labels == ("no", "yes")  # required: no "unknown"
    assert warf["amiodarone"].allowed_change == "may be stopped, not started"
    assert warf["amiodarone"].help == "May be stopped, not started."


@pytest.mark.parametrize("feature", ["diabetes", "heart_failure", "valve_replacement", "aspirin", "cyp2c9"])
def test_an_unknown_option_value_stays_unknown_never_no(bundles, feature):
    bundle = bundles("warfarin")
    s = next(s for s in slider_specs(bundle, typical(bundle, **{feature: None})) if s.feature == feature)
    assert s.missing and s.value is None and s.start is None
    assert s.options[0] is None and s.option_labels[0] == "unknown"
    assert dict(zip(s.options, s.option_labels))[s.start] == "unknown"
    known = next(s for s in slider_specs(bundle, typical(bundle, **{feature: s.options[1]})) if s.feature == feature)
    assert known.start == known.options[1] and None in known.options  # optional: can be set back to unknown


def test_a_missing_value_gives_a_missing_slider_that_still_has_a_start(bundles):
    bundle = bundles("warfarin")
    height = next(s for s in slider_specs(bundle, typical(bundle, height_cm=None)) if s.feature == "height_cm")
    assert height.missing and height.value is None
    assert height.min <= height.start <= height.max


# --- what if ------------------------------------------------------------------------------------


def test_changing_an_actionable_feature_reports_the_same_deltas_as_two_direct_predictions(bundles):
    bundle = bundles("actg175")
    record = typical(bundle)
    result = quiet(what_if, bundle, record, {"weight_kg": 120.0})
    before, after = report(bundle, record), report(bundle, record | {"weight_kg": 120.0})
    moved = [(c.feature, c.old, c.new, c.actionable) for c in result.changes]
    assert moved == [("weight_kg", record["weight_kg"], 120.0, False)]  # what if explores; weight is no lever
    p0, p1 = probabilities(before), probabilities(after)
    assert p0 != p1
    for d in result.arm_deltas:
        assert d.before == pytest.approx(p0[d.arm], abs=1e-12)
        assert d.after == pytest.approx(p1[d.arm], abs=1e-12)
        assert d.delta == pytest.approx(p1[d.arm] - p0[d.arm], abs=1e-12)
    assert result.favoured_before == before["comparison"]["favoured"]
    assert result.favoured_after == after["comparison"]["favoured"]
    assert result.favoured_changed == (result.favoured_before != result.favoured_after)
    changes = {i.quantity: i for i in result.interval_changes}
    assert set(changes) == set(bundle.spec.arms) | {"difference"}
    assert list(changes["ZDV"].after) == after["arms"][0]["interval"]
    assert "weight were 120 kg instead of 74 kg" in result.summary
    out = plain_json(result)
    assert out["modified"]["patient"]["weight_kg"] == 120.0 and out["baseline"]["patient"] == before["patient"]


def test_a_dose_what_if_reports_the_dose_delta(bundles):
    bundle = bundles("warfarin")
    record = typical(bundle)
    result = quiet(what_if, bundle, record, {"amiodarone": 1})
    before, after = report(bundle, record)["dose"], report(bundle, record | {"amiodarone": 1})["dose"]
    assert result.dose_delta.delta == pytest.approx(after["mg_per_week"] - before["mg_per_week"], abs=1e-9)
    assert result.dose_delta.delta != 0 and not result.arm_deltas
    assert [i.quantity for i in result.interval_changes] == ["dose"]
    assert result.changes[0].text == "“Taking amiodarone” were yes instead of no"


def test_no_change_is_reported_as_none(bundles):
    bundle = bundles("colon")
    record = typical(bundle)
    result = quiet(what_if, bundle, record, {"age_years": record["age_years"]})
    assert result.changes == () and all(d.delta == 0 for d in result.arm_deltas) and not result.favoured_changed
    assert result.summary == "No feature was changed: these are the patient's own predictions."


def test_values_outside_the_training_range_are_flagged(bundles):
    bundle = bundles("actg175")
    flagged = quiet(what_if, bundle, typical(bundle), {"weight_kg": 250.0}).outside_training
    assert [(o.feature, o.value, o.unit) for o in flagged] == [("weight_kg", 250.0, "kg")]
    lo, hi = flagged[0].training_range
    assert lo < 250.0 and hi < 250.0
    assert flagged[0].message.startswith("Weight = 250 kg lies outside the training range")
    assert quiet(what_if, bundle, typical(bundle), {"weight_kg": 80.0}).outside_training == ()


@pytest.mark.parametrize("changes, message", [
    ({"weight_kg": 700}, "Weight must be a number from 20 to 300 kg. Got 700 instead."),
    ({"sex": "other"}, "Sex must be female or male. Got 'other' (text) instead."),
    ({"weigth_kg": 70}, "Unknown field 'weigth_kg' for cohort 'actg175'."),
    ({"age_years": None}, "Age is required"),
])
def test_invalid_what_if_values_raise_the_validation_error(bundles, changes, message):
    bundle = bundles("actg175")
    with pytest.raises(PatientValidationError, match=re.escape(message)):
        quiet(what_if, bundle, typical(bundle), changes)


# --- counterfactual -----------------------------------------------------------------------------


def test_the_smallest_point_flip_is_minimal_and_touches_only_the_lever(effect_bundles):
    bundle = with_actionable(effect_bundles("actg175"), weight_kg="any")
    for rec in held_out_records(bundle):
        record = {k: v for k, v in rec.items() if k != "patient_id"}
        result = quiet(counterfactual, bundle, record)
        if result.within_uncertainty or result.found:
            break
    else:
        pytest.fail("no held-out actg175 patient has a weight change that flips the favoured arm")
    (change,) = result.changes or result.uncertain_changes
    new_record = record | {"weight_kg": change.new}
    before, after = report(bundle, record), report(bundle, new_record)
    assert result.favoured_before == before["comparison"]["favoured"]
    assert after["comparison"]["favoured"] == result.favoured_after != before["comparison"]["favoured"]
    assert change.feature == "weight_kg" and change.old == record["weight_kg"]
    assert re.fullmatch(r"weight were [0-9.]+ kg instead of [0-9.]+ kg", change.text)
    # the grid value (whole kilograms) one kilogram closer to the patient's weight does not flip it
    old, new = record["weight_kg"], change.new
    closer = new - np.sign(new - old)
    if np.sign(closer - old) == np.sign(new - old):
        nearer = report(bundle, record | {"weight_kg": closer})
        assert nearer["comparison"]["favoured"] == before["comparison"]["favoured"]
    plain_json(result)


def test_no_counterfactual_is_reported_clearly(bundles):
    actg = with_actionable(bundles("actg175"), weight_kg="any")
    result = quiet(counterfactual, actg, typical(actg))  # weight never flips this patient's favoured arm
    assert not result.found and not result.within_uncertainty and result.changes == () and result.record is None
    assert result.message == MSG_NOT_FOUND_ARMS.format(features="“Weight”", ranges=IN_RANGES)
    assert result.message == "No allowed change to “Weight” within their plausible ranges changes the favoured arm."
    assert result.n_candidates > 50 and result.effect is None

    for cohort in ("colon", "actg175"):  # the bundled specs: nothing is a lever beyond the arm itself
        bundle = bundles(cohort)
        result = quiet(counterfactual, bundle, typical(bundle))
        assert not result.found and result.searched == () and result.n_candidates == 0
        assert result.message == MSG_NO_ACTIONABLE.format(lever="treatment arm", where="The Patient page compares the "
                                                                                          "arms.")
        assert "actionable" not in result.message and cohort not in result.message
        plain_json(result)


@pytest.mark.parametrize("target, stopped", [(5.0, "amiodarone"), (-5.0, "enzyme_inducer")])
def test_a_dose_change_is_reached_by_a_stop_and_verified_by_re_prediction(bundles, target, stopped):
    bundle = bundles("warfarin")
    record = typical(bundle, amiodarone=1, enzyme_inducer=1)
    result = quiet(counterfactual, bundle, record, dose_change_mg_per_week=target)
    assert result.found or result.within_uncertainty
    (change,) = result.changes or result.uncertain_changes
    assert (change.feature, change.old, change.new) == (stopped, 1, 0)
    before = report(bundle, record)["dose"]["mg_per_week"]
    after = report(bundle, record | {stopped: 0})["dose"]["mg_per_week"]
    assert result.dose_before == pytest.approx(before) and result.dose_after == pytest.approx(after)
    assert result.effect.after == pytest.approx(after)
    assert (after - before >= target) if target > 0 else (after - before <= target)


def test_pairs_are_searched_only_when_no_single_change_suffices_matching_brute_force(bundles):
    # the machinery, not the spec: every co-medication made a lever (the spec keeps only amiodarone and inducers)
    bundle = with_actionable(bundles("warfarin"), aspirin="stop", simvastatin="stop", current_smoker="stop")
    bundle.__dict__["conformal"] = None  # no interval: every reached target is reported within uncertainty
    actionable = [f.name for f in bundle.spec.features if f.actionable]
    record = typical(bundle, **{n: 1 for n in actionable})  # every lever can be stopped
    base = report(bundle, record)["dose"]["mg_per_week"]
    dose = lambda names: report(bundle, record | {n: 0 for n in names})["dose"]["mg_per_week"] - base  # noqa: E731
    best_single = max(dose((n,)) for n in actionable)
    best_pair = max(dose(p) for p in itertools.combinations(actionable, 2))
    target = (best_single + best_pair) / 2
    assert best_pair > best_single > 0
    single = quiet(counterfactual, bundle, record, dose_change_mg_per_week=target, max_features=1)
    assert not single.found and not single.within_uncertainty and single.message.endswith("(max_features=1).")
    pair = quiet(counterfactual, bundle, record, dose_change_mg_per_week=target, max_features=2)
    assert pair.within_uncertainty and len(pair.uncertain_changes) == 2
    assert all((c.old, c.new) == (1, 0) for c in pair.uncertain_changes)
    assert dose(tuple(c.feature for c in pair.uncertain_changes)) >= target


@pytest.mark.parametrize("cohort, kwargs, message", [
    ("actg175", {"dose_change_mg_per_week": 5}, MSG_DOSE_TARGET_FOR_ARMS.format(cohort="actg175", got=5)),
    ("warfarin", {}, MSG_DOSE_TARGET_NEEDED.format(cohort="warfarin")),
    ("warfarin", {"dose_change_mg_per_week": 0}, MSG_PARAMETER.format(name="dose_change_mg_per_week", owner="counterfactual",
        expected="a finite, non-zero number (mg/week) or None", got=0)),
    ("actg175", {"max_features": 3}, MSG_PARAMETER.format(name="max_features", owner="counterfactual",
                                                          expected="1 or 2", got=3)),
])
def test_bad_counterfactual_parameters_are_refused(bundles, cohort, kwargs, message):
    bundle = bundles(cohort)
    with pytest.raises(ValueError, match=re.escape(message)):
        counterfactual(bundle, typical(bundle), **kwargs)


# --- ICE ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("cohort, feature", [("actg175", "weight_kg"), ("actg175", "art_history"),
                                             ("colon", "age_years"), ("colon", "obstruction")])
def test_the_ice_curve_at_the_patients_value_equals_the_report(bundles, cohort, feature):
    bundle = bundles(cohort)
    record = typical(bundle)
    curve = ice_curve(bundle, record, feature)
    assert curve.grid[curve.current_index] == record[feature] == curve.current_value
    assert curve.scale == f"probability of {bundle.spec.outcome.label}"
    probs = probabilities(report(bundle, record))
    for arm, values in curve.curves.items():
        assert values[curve.current_index] == pytest.approx(probs[arm], abs=1e-9)
        assert len(values) == len(curve.grid)
    assert curve.favoured[curve.current_index] == report(bundle, record)["comparison"]["favoured"]
    f = bundle.spec.feature(feature)
    if f.is_numeric:
        assert list(curve.grid) == sorted(curve.grid)
        assert (curve.grid[0], curve.grid[-1]) == f.plausible
    else:
        assert list(curve.grid) == ([0, 1] if f.type == "binary" else list(f.categories))
    plain_json(curve)


def test_the_dose_ice_curve_matches_re_prediction_along_the_grid(bundles):
    bundle = bundles("warfarin")
    record = typical(bundle)
    curve = ice_curve(bundle, record, "weight_kg", n_points=5)
    assert curve.scale == "mg/week" and set(curve.curves) == {"dose"} and curve.favoured == ()
    for value, dose in zip(curve.grid, curve.curves["dose"]):
        assert dose == pytest.approx(report(bundle, record | {"weight_kg": value})["dose"]["mg_per_week"], abs=1e-9)
    assert curve.grid[curve.current_index] == record["weight_kg"]


@pytest.mark.parametrize("feature, kwargs, message", [
    ("height_cm", {}, "Cohort 'actg175' has no feature 'height_cm'. Features: age_years, sex, race, weight_kg,"),
    ("weight_kg", {"n_points": 1}, MSG_PARAMETER.format(name="n_points", owner="ice_curve",
                                                        expected="an int in the range [2, 1000]", got=1)),
])
def test_bad_ice_parameters_are_refused(bundles, feature, kwargs, message):
    bundle = bundles("actg175")
    with pytest.raises(ValueError, match=re.escape(message)):
        ice_curve(bundle, typical(bundle), feature, **kwargs)
