"""Model card: calibration and decision curves checked against independent computations, and the card's facts."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve as sk_calibration_curve

from core import DataIntegrityError, SmallSubgroupWarning
from core.reporting.calibration import MIN_PER_BIN, MSG_BY, MSG_N_BINS, calibration_curve, quantile_bins
from core.reporting.decision_curve import MSG_THRESHOLDS, decision_curve
from core.modeling.heldout import MSG_TEST_SPLIT, bundle_cohort
from core.reporting.model_card import model_card
from core.data.cohorts import PATIENT_ID, protected_attributes
from core.modeling.training import labels_for

COHORTS = ("actg175", "colon", "warfarin")
ARM_COHORTS = ("actg175", "colon")


def _test_split(bundle):
    """The held-out test split rebuilt here, independently of core (frame, y, IPCW weight, train frame)."""
    cohort = bundle_cohort(bundle)
    mask = cohort.frame[PATIENT_ID].isin(bundle.test_patient_ids).to_numpy()
    labels = labels_for(cohort, mask)
    return (cohort.frame[mask].reset_index(drop=True), labels.y, labels.weight,
            cohort.frame[~mask].reset_index(drop=True))


def _by_quantile_bin(pred, n_bins):
    # pd.qcut (right-closed quantile bins) is the same partition as sklearn's quantile strategy.
    return pd.qcut(pred, n_bins, labels=False)


def _nan_to_none(obj):
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_nan_to_none(v) for v in obj]
    if isinstance(obj, float) and math.isnan(obj):
        return None
    return obj


# --- calibration curve -----------------------------------------------------------------------------


def test_quantile_bins_match_sklearn_when_unweighted(bundles):
    bundle = bundles("colon")
    frame, y, _, _ = _test_split(bundle)
    p = bundle.model.predict(frame)
    predicted, observed, n, n_known = quantile_bins(p, y, np.ones(len(y)), 10)
    # reference: sklearn.calibration.calibration_curve(y, p, n_bins=10, strategy="quantile")
    prob_true, prob_pred = sk_calibration_curve(y, p, n_bins=10, strategy="quantile")
    np.testing.assert_allclose(predicted, prob_pred, rtol=1e-12)
    np.testing.assert_allclose(observed, prob_true, rtol=1e-12)
    assert n.sum() == len(y) and (n_known == n).all()


@pytest.mark.parametrize("name", ARM_COHORTS)
def test_arm_calibration_is_ipcw_weighted_per_quantile_bin(bundles, name):
    bundle = bundles(name)
    frame, y, w, _ = _test_split(bundle)
    curves = calibration_curve(bundle, n_bins=10)
    assert [c["name"] for c in curves] == [r["name"] for r in bundle.evaluation.rows]
    for curve, model in zip(curves, (bundle.model, bundle.baseline)):
        p = model.predict(frame)  # risk under each patient's observed arm
        bins = _by_quantile_bin(p, 10)
        expected_obs = [np.average(y[bins == b], weights=w[bins == b]) for b in range(10)]
        np.testing.assert_allclose(curve["observed"], expected_obs, rtol=1e-10)
        np.testing.assert_allclose(curve["predicted"], [p[bins == b].mean() for b in range(10)], rtol=1e-10)
        assert curve["n"] == [int((bins == b).sum()) for b in range(10)]
        assert curve["n_known"] == [int(((bins == b) & (w > 0)).sum()) for b in range(10)]
        # the mean predictions agree with sklearn's (they do not depend on the weights)
        _, prob_pred = sk_calibration_curve(y, p, n_bins=10, strategy="quantile")
        np.testing.assert_allclose(curve["predicted"], prob_pred, rtol=1e-10)


def test_dose_calibration_is_mean_predicted_vs_mean_observed_dose(bundles):
    bundle = bundles("warfarin")
    frame, y, _, _ = _test_split(bundle)
    curves = calibration_curve(bundle, n_bins=10)
    assert [c["name"] for c in curves] == [r["name"] for r in bundle.evaluation.rows[:2]]
    p = bundle.model.predict(frame)
    bins = _by_quantile_bin(p, 10)
    np.testing.assert_allclose(curves[0]["predicted"], [p[bins == b].mean() for b in range(10)], rtol=1e-10)
    np.testing.assert_allclose(curves[0]["observed"], [y[bins == b].mean() for b in range(10)], rtol=1e-10)
    assert sum(curves[0]["n"]) == bundle.training.n_test
    assert 5 < min(curves[0]["predicted"]) < max(curves[0]["predicted"]) < 120  # mg/week, not a probability


@pytest.mark.parametrize("name, by", [("actg175", "race"), ("colon", "age_band"), ("warfarin", "race")])
def test_calibration_by_group_has_one_model_curve_per_group(bundles, name, by):
    bundle = bundles(name)
    frame, y, w, _ = _test_split(bundle)
    groups = protected_attributes(bundle.spec, frame)[by].astype(str).to_numpy()
    curves = calibration_curve(bundle, by=by)
    assert sorted(c["group"] for c in curves) == sorted(set(groups))
    assert sum(sum(c["n"]) for c in curves) == len(frame)
    p = bundle.model.predict(frame)
    for curve in curves:
        rows = groups == curve["group"]
        assert curve["name"] == f"{by.replace('_', ' ')} = {curve['group']}"  # words, not a code name
        n_bins = max(2, min(10, int((w[rows] > 0).sum()) // MIN_PER_BIN))
        assert len(curve["n"]) == n_bins
        bins = _by_quantile_bin(p[rows], n_bins)
        expected = [np.average(y[rows][bins == b], weights=w[rows][bins == b]) for b in range(n_bins)]
        np.testing.assert_allclose(curve["observed"], expected, rtol=1e-10)


def test_small_groups_get_no_curve_but_a_note_and_a_warning(bundles, monkeypatch):
    bundle = bundles("colon")
    monkeypatch.setattr("core.reporting.calibration.MIN_GROUP_N", 40)  # the <50 age band has 36 test patients
    with pytest.warns(SmallSubgroupWarning, match="age band = <50"):
        curves = calibration_curve(bundle, by="age_band")
    small = next(c for c in curves if c["group"] == "<50")
    assert small["predicted"] == small["observed"] == small["n"] == []
    assert "fewer than the 40" in small["note"]
    assert all(c["n"] for c in curves if c["group"] != "<50")


# --- decision curve --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ARM_COHORTS)
def test_decision_curve_reference_strategies_and_model(bundles, name):
    bundle = bundles(name)
    frame, y, w, _ = _test_split(bundle)
    dc = decision_curve(bundle)
    pts = np.asarray(dc["thresholds"])
    np.testing.assert_allclose(pts, np.arange(0.05, 0.61, 0.01), atol=1e-9)
    curves = {c["name"]: np.asarray(c["net_benefit"]) for c in dc["curves"]}
    prevalence = (w * y).sum() / w.sum()  # IPCW-weighted event rate of the test split
    assert dc["prevalence"] == pytest.approx(prevalence, rel=1e-12)
    assert (curves["treat none"] == 0).all()
    np.testing.assert_allclose(curves["treat all"], prevalence - (1 - prevalence) * pts / (1 - pts), rtol=1e-12)
    names = [r["name"] for r in bundle.evaluation.rows]
    for model, label in ((bundle.model, names[0]), (bundle.baseline, names[1])):
        p = model.predict(frame)
        for k in (0, 15, 40):
            pt = pts[k]
            tp = sum(wi for pi, yi, wi in zip(p, y, w) if pi >= pt and yi == 1)
            fp = sum(wi for pi, yi, wi in zip(p, y, w) if pi >= pt and yi == 0)
            assert curves[label][k] == pytest.approx(tp / w.sum() - fp / w.sum() * pt / (1 - pt), abs=1e-12)
    assert dc["model"] == dc["curves"][0]["net_benefit"] and dc["treat_all"] == curves["treat all"].tolist()
    assert dc["model_name"] == names[0] and dc["baseline_name"] == names[1]
    # flagging everyone (a threshold below every prediction) is treat-all
    low = decision_curve(bundle, thresholds=[min(bundle.model.predict(frame)) / 2])
    assert low["curves"][0]["net_benefit"][0] == pytest.approx(low["curves"][2]["net_benefit"][0], abs=1e-12)


def test_decision_curve_does_not_apply_to_a_dose(bundles):
    assert decision_curve(bundles("warfarin")) is None


@pytest.mark.parametrize("call, err_msg", [
    (lambda b: calibration_curve(b, n_bins=1), MSG_N_BINS.format(got=1)),
    (lambda b: calibration_curve(b, n_bins=2.5), MSG_N_BINS.format(got=2.5)),
    (lambda b: calibration_curve(b, n_bins=True), MSG_N_BINS.format(got=True)),
    (lambda b: calibration_curve(b, by="ethnicity"),
     MSG_BY.format(allowed=["sex", "age_band"], got="ethnicity")),
    (lambda b: decision_curve(b, thresholds=[0.0, 0.1]), MSG_THRESHOLDS.format(got="[0.0, 0.1]")),
    (lambda b: decision_curve(b, thresholds=[0.5, 1.0]), MSG_THRESHOLDS.format(got="[0.5, 1.0]")),
    (lambda b: decision_curve(b, thresholds=[]), MSG_THRESHOLDS.format(got="[]")),
    (lambda b: decision_curve(b, thresholds=[[0.1, 0.2]]), MSG_THRESHOLDS.format(got="[[0.1, 0.2]]")),
    (lambda b: decision_curve(b, thresholds="low"), MSG_THRESHOLDS.format(got="'low'")),
])
def test_bad_arguments_are_refused_with_a_clear_message(bundles, call, err_msg):
    with pytest.raises(ValueError, match=re.escape(err_msg)):
        call(bundles("colon"))


def test_a_test_split_that_cannot_be_rebuilt_is_refused(bundles):
    bundle = bundles("colon")
    broken = dataclasses.replace(bundle, training=dataclasses.replace(
        bundle.training, test_patient_ids=bundle.test_patient_ids + ["no-such-patient"]))
    message = MSG_TEST_SPLIT.format(bundle=bundle.bundle_id, expected=bundle.training.n_test + 1,
                                       found=bundle.training.n_test, cohort="colon")
    with pytest.raises(DataIntegrityError, match=re.escape(message)):
        model_card(broken)


# --- the card ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cards(bundles):
    made = {}

    def get(name):
        if name not in made:
            made[name] = model_card(bundles(name))
        return made[name]

    return get


@pytest.mark.parametrize("name", COHORTS)
def test_card_identifies_the_bundle_and_its_data(bundles, cards, name):
    bundle, card = bundles(name), cards(name)
    manifest = json.loads((bundle.path / "manifest.json").read_text())
    assert (card.cohort, card.bundle_id, card.sha256) == (name, bundle.bundle_id, bundle.sha256)
    assert card.version["bundle_id"] == bundle.bundle_id and card.version["sha256"] == bundle.sha256
    assert card.version["created_utc"] == manifest["created_utc"]
    assert card.version["versions"] == bundle.training.versions
    assert card.provenance["data_sha256"] == bundle.training.data_sha256
    assert (card.provenance["source"], card.provenance["citation"], card.provenance["licence"]) == (
        bundle.spec.source, bundle.spec.citation, bundle.spec.licence)
    assert card.provenance["exclusions"] == bundle.training.exclusions
    assert card.study_design["design"] == bundle.spec.study_design
    assert card.study_design["n_train"] + card.study_design["n_test"] == bundle.training.n_total


@pytest.mark.parametrize("name", COHORTS)
def test_card_lists_every_training_group(bundles, cards, name):
    bundle, card = bundles(name), cards(name)
    _, _, _, train = _test_split(bundle)
    expected = protected_attributes(bundle.spec, train)
    for attr in bundle.spec.protected:
        groups = card.population(attr.name)
        counts = expected[attr.name].astype(str).value_counts()
        assert {g.group: g.n for g in groups if g.n} == counts.to_dict()
        assert sum(g.n for g in groups) == bundle.training.n_train
        assert sum(g.share for g in groups) == pytest.approx(1.0)
        assert sum(g.test_n for g in groups) == bundle.training.n_test
    # the audit's training counts agree where it lists a group
    audited = {(g["attribute"], g["group"]): g["train_n"] for g in bundle.audit.to_dict()["groups"]}
    for g in card.training_population:
        if (g.attribute, g.group) in audited:
            assert audited[(g.attribute, g.group)] == g.n


@pytest.mark.parametrize("name", COHORTS)
def test_card_holds_performance_curves_and_intervals(bundles, cards, name):
    bundle, card = bundles(name), cards(name)
    assert card.performance["rows"] == bundle.evaluation.rows
    assert card.performance["verdict"] == bundle.evaluation.verdict
    assert card.performance["notes"] == list(bundle.evaluation.notes)
    assert list(card.calibration) == calibration_curve(bundle)
    assert set(card.calibration_by_group) == {p.name for p in bundle.spec.protected}
    if bundle.spec.is_dose:
        assert card.decision_curve is None
        assert card.interval_coverage["overall"] == bundle.uncertainty.test_coverage["overall"]
        assert card.interval_coverage["by_group"] == bundle.uncertainty.test_coverage["by_group"]
    else:
        assert card.decision_curve == decision_curve(bundle)
        assert card.interval_coverage["bins"] == bundle.uncertainty.test_check["bins"]


@pytest.mark.parametrize("name", COHORTS)
def test_limitations_follow_from_the_facts(bundles, cards, name):
    bundle, card = bundles(name), cards(name)
    text = " ".join(lim.message for lim in card.limitations)
    flagged = {(g["attribute"], g["group"]) for g in bundle.audit.to_dict()["groups"]
               if any(m.get("flagged") for m in g["metrics"].values())}
    for attribute, group in flagged:
        assert f"{attribute} = {group}" in text
    assert bool(card.limitations_of("flagged_group")) == bool(flagged)
    assert f"{bundle.training.n_test:,} patients" in card.limitations_of("test_split_size")[0].message
    for g in card.underrepresented():
        assert f"{g.attribute} = {g.group} ({g.n}," in text
    if bundle.spec.is_dose:
        assert "IWPC formula was derived on most" in card.limitations_of("optimistic_baseline")[0].message
        assert card.limitations_of("observational")
    else:
        censoring = card.limitations_of("censoring")[0].message
        n_censored, n_train = bundle.training.n_censored_before_horizon_train, bundle.training.n_train
        assert f"{n_censored:,} of {n_train:,} training" in censoring
        assert "c-for-benefit" in card.limitations_of("c_for_benefit_noise")[0].message
        m, b = bundle.evaluation.rows[:2]
        baseline_wins = [k for k in m if k.startswith("c_for_benefit") and b[k] > m[k]]
        baseline_wins += [k for k in ("auc",) if b[k] > m[k]] + [k for k in ("brier",) if b[k] < m[k]]
        if baseline_wins:
            assert card.limitations_of("baseline_better")


@pytest.mark.parametrize("name", COHORTS)
def test_card_states_facts_and_options_not_orders(cards, name):
    card = cards(name)
    texts = list(card.intended_use) + list(card.intended_users) + list(card.out_of_scope)
    texts += [lim.message for lim in card.limitations]
    for text in texts:
        assert not re.search(r"\b(must|should|do not|don't|never use|always use)\b", text, re.IGNORECASE), text
    assert any("never makes it" in t for t in card.intended_use)
    assert any(t.startswith("Paediatric use") for t in card.out_of_scope)
    assert any("Replacing clinical judgement" in t for t in card.out_of_scope)


@pytest.mark.parametrize("name", COHORTS)
def test_card_to_dict_is_plain_json(cards, name):
    doc = cards(name).to_dict()
    json.dumps(doc, allow_nan=False)                # non-finite numbers are already None
    json.dumps(_nan_to_none(doc), allow_nan=False)
    assert doc["sha256"] == cards(name).sha256
    assert {"intended_use", "out_of_scope", "provenance", "training_population", "performance", "calibration",
            "decision_curve", "interval_coverage", "limitations", "version"} <= set(doc)
    assert all(set(lim) == {"kind", "message"} for lim in doc["limitations"])
