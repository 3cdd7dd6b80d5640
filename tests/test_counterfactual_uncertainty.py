"""A counterfactual counts only beyond the uncertainty: the ensemble's interval for the new-vs-old difference
must exclude zero (arms), the new dose must leave the current interval (dose); otherwise "No change clearly
alters the comparison", with ``within_uncertainty`` True."""

import dataclasses
import warnings

import numpy as np
import pytest

from core.data.cohorts import patient_frame
from core.explain import counterfactual
from core.explain.counterfactual import MSG_CLEAR
from core.modeling.heldout import held_out_records
from core.reporting.patient_report import predict_patient
from core.uncertainty import ArmEnsemble, arm_uncertainty


def with_actionable(bundle, **how):
    features = tuple(dataclasses.replace(f, actionable=how.get(f.name, f.actionable)) for f in bundle.spec.features)
    return dataclasses.replace(bundle, spec=dataclasses.replace(bundle.spec, features=features))


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def report(bundle, record):
    return quiet(predict_patient, bundle, record).to_dict()


def narrow_intervals(bundle, factor=0.3):
    """The bundle with its dose intervals narrowed (conformal quantiles times ``factor``): for tests of how the
    search classifies a change beyond the interval. With only the established levers (amiodarone, inducers)
    and honest intervals, few held-out patients have a stop that moves the dose beyond its interval."""
    import copy

    cp = copy.deepcopy(bundle.conformal)
    cp.quantile_by_group_ = {g: q * factor for g, q in cp.quantile_by_group_.items()}
    out = dataclasses.replace(bundle)
    out.__dict__["conformal"] = cp
    return out


def first(bundle, predicate, n=200, **kwargs):
    for rec in held_out_records(bundle)[:n]:
        record = {k: v for k, v in rec.items() if k != "patient_id"}
        result = quiet(counterfactual, bundle, record, **kwargs)
        if predicate(result):
            return record, result
    pytest.fail("no held-out patient matches")


@pytest.fixture(scope="module")
def weight_case(effect_bundles):
    """ACTG 175 with weight made actionable (the old spec), on an effect-modelling model (under the bundled risk
    modelling no patient's favoured arm can change): the first patient whose favoured arm a weight change tips
    on the point estimate."""
    bundle = with_actionable(effect_bundles("actg175"), weight_kg="any")
    record, result = first(bundle, lambda r: r.within_uncertainty or r.found)
    return bundle, record, result


def test_a_weight_flip_within_the_ensembles_uncertainty_is_not_reported_as_found(weight_case):
    bundle, record, result = weight_case
    assert result.within_uncertainty and not result.found and result.changes == () and result.record is None
    assert result.message.startswith(MSG_CLEAR) and "includes zero: within the uncertainty" in result.message
    (change,) = result.uncertain_changes
    assert change.feature == "weight_kg" and change.old == record["weight_kg"]
    modified = record | {"weight_kg": change.new}
    effect = result.effect
    # the point estimate really flips ...
    assert report(bundle, record)["comparison"]["favoured"] == effect.arm_before == result.favoured_before
    assert report(bundle, modified)["comparison"]["favoured"] == effect.arm_after == result.favoured_after
    # ... but the ensemble interval of (new favoured - previously favoured), recomputed through the report's
    # own uncertainty code, includes zero
    spec = bundle.spec
    unc = arm_uncertainty(bundle.ensemble, patient_frame(spec, [modified]), spec.arms)
    interval = unc.difference_interval(effect.arm_after, effect.arm_before)
    assert effect.interval == pytest.approx(interval, abs=1e-12)
    assert effect.interval[0] <= 0 <= effect.interval[1]
    probs = {a["arm"]: a["probability"] for a in report(bundle, modified)["arms"]}
    assert effect.difference == pytest.approx(probs[effect.arm_after] - probs[effect.arm_before], abs=1e-9)
    assert result.to_dict()["effect"]["interval"] == list(effect.interval)


def test_the_same_flip_counts_when_the_ensemble_has_no_spread(weight_case):
    """With every member equal to the point model the interval is the point difference: the flip is clear."""
    bundle, record, uncertain = weight_case
    degenerate = dataclasses.replace(bundle)
    degenerate.__dict__["ensemble"] = ArmEnsemble(members=[bundle.model] * 5)  # the cached_property's slot
    result = quiet(counterfactual, degenerate, record)
    assert result.found and not result.within_uncertainty
    assert [(c.feature, c.new) for c in result.changes] == [(c.feature, c.new) for c in uncertain.uncertain_changes]
    d = result.effect.difference
    assert d < 0 and result.effect.interval == pytest.approx((d, d), abs=1e-9)
    assert report(bundle, result.record)["comparison"]["favoured"] == result.favoured_after != result.favoured_before
    assert result.message.startswith(f"The model's favoured arm would change from {result.favoured_before} to "
                                     f"{result.favoured_after} if weight were")


def test_a_dose_change_inside_the_current_interval_is_within_uncertainty(bundles):
    bundle = bundles("warfarin")
    record, result = first(bundle, lambda r: r.within_uncertainty, dose_change_mg_per_week=5.0)
    dose = report(bundle, record)["dose"]
    lo, hi = dose["interval"]
    assert not result.found and result.changes == () and result.message.startswith(MSG_CLEAR)
    assert result.effect.interval == pytest.approx((lo, hi)) and result.effect.level == dose["coverage"]
    assert result.effect.delta >= 5.0 and lo <= result.effect.after <= hi
    (change,) = result.uncertain_changes[:1]
    assert (change.old, change.new) == (1, 0)  # a stop, never a start
    after = report(bundle, record | {c.feature: c.new for c in result.uncertain_changes})["dose"]["mg_per_week"]
    assert after == pytest.approx(result.effect.after, abs=1e-9)


def test_a_dose_change_beyond_the_current_interval_is_found(bundles):
    bundle = narrow_intervals(bundles("warfarin"))
    record, result = first(bundle, lambda r: r.found, n=400, dose_change_mg_per_week=5.0)
    lo, hi = report(bundle, record)["dose"]["interval"]
    after = report(bundle, result.record)["dose"]["mg_per_week"]
    assert after == pytest.approx(result.dose_after) == pytest.approx(result.effect.after) and after > hi
    assert result.effect.interval == pytest.approx((lo, hi)) and not result.within_uncertainty


def test_without_an_interval_a_dose_change_cannot_be_told_apart_from_the_uncertainty(bundles):
    bundle = dataclasses.replace(bundles("warfarin"))
    bundle.__dict__["conformal"] = None
    record, result = first(bundle, lambda r: r.within_uncertainty or r.found, dose_change_mg_per_week=5.0)
    assert result.within_uncertainty and not result.found and result.effect.interval is None
    assert "has no interval (insufficient evidence)" in result.message
    assert np.isfinite(result.effect.after)
