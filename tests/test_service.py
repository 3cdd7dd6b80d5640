"""core.service: the one entry point; every result it returns is handed to the observers first."""

from __future__ import annotations

import warnings

import pytest

from core import PatientValidationError, service
from core.reporting.patient_report import predict_patient


@pytest.fixture
def seen():
    events = []  # what is shown; a bundle trained on first use in the session is not what these tests watch
    stop = service.observe(lambda e: None if e.kind == service.BUNDLE_TRAINED else events.append(e))
    yield events
    stop()


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def test_predict_is_the_report_and_is_observed_once(bundles, seen):
    bundle = bundles("colon")
    record = service.held_out_patients(bundle)[0]
    pid = record["patient_id"]
    report = service.predict(bundle, record, patient_id=pid, ignore=("patient_id",))
    assert report.to_dict() == predict_patient(bundle, record, patient_id=pid, ignore=("patient_id",)).to_dict()
    assert [(e.kind, e.bundle_id, e.bundle_sha256, e.patient_id) for e in seen] == [
        (service.PATIENT_REPORT, bundle.bundle_id, bundle.sha256, pid)]
    assert seen[0].result is report


def test_every_record_of_many_is_reported_or_refused_and_observed(bundles, seen):
    bundle = bundles("colon")
    good = service.held_out_patients(bundle)[:3]
    bad = {**good[0], "age_years": 400, "patient_id": "bad-1"}
    results = list(service.predict_records(bundle, [good[0], bad, good[1], good[2]], id_column="patient_id",
                                           ignore=("patient_id",)))
    assert [r.row for r in results] == [1, 2, 3, 4]
    assert [r.refused is not None for r in results] == [False, True, False, False]
    assert results[1].to_dict()["errors"][0]["field"] == "age_years"
    assert results[0].to_dict()["row"] == 1 and "arms" in results[0].to_dict()
    assert [e.kind for e in seen] == [service.PATIENT_REPORT, service.REFUSED_RECORD,
                                      service.PATIENT_REPORT, service.PATIENT_REPORT]


def test_an_observer_that_fails_stops_the_result_from_being_returned(bundles):
    bundle = bundles("colon")
    record = service.held_out_patients(bundle)[0]

    def refuse(_event):
        raise RuntimeError("the log is unavailable")

    stop = service.observe(refuse)
    try:
        with pytest.raises(RuntimeError, match="the log is unavailable"):
            service.predict(bundle, record, ignore=("patient_id",))
    finally:
        stop()
    assert service.predict(bundle, record, ignore=("patient_id",)) is not None  # unsubscribed


def test_refused_input_raises_before_anything_is_observed(bundles, seen):
    bundle = bundles("colon")
    with pytest.raises(PatientValidationError, match="Age must be"):  # the field in clinical words
        service.predict(bundle, {"age_years": 400})
    assert seen == []


def test_exploration_and_population_views_are_observed(bundles, seen):
    bundle = bundles("warfarin")
    record = {k: v for k, v in service.held_out_patients(bundle)[0].items() if k != "patient_id"}
    specs = service.slider_specs(bundle, record)
    service.what_if(bundle, record, {specs[0].feature: specs[0].value})
    service.counterfactual(bundle, record, dose_change_mg_per_week=-5.0)
    service.effect_curve(bundle, record, "weight_kg")
    service.model_card(bundle)
    service.calibration_curve(bundle)
    assert service.subgroup_audit(bundle) is bundle.audit
    assert [e.kind for e in seen] == [service.WHAT_IF, service.COUNTERFACTUAL, service.EFFECT_CURVE,
                                      service.MODEL_CARD, service.CALIBRATION, service.SUBGROUP_AUDIT]
