"""The CDS Hooks service, played by a test EHR: discovery, a patient-view call built from FHIR, feedback."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest

from core import service
from core.cds import decode_record

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from core.cds.app import create_app  # noqa: E402

RACE = {"White": "2106-3", "Black or African American": "2054-5", "Asian": "2028-9"}
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _obs(loinc, value, unit):
    return {"resourceType": "Observation", "status": "final", "effectiveDateTime": "2026-11-30",
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}


def _genotype(hgnc, text):
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "84413-4"}]},
            "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "48018-6"}]},
                           "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org", "code": hgnc}]}}],
            "valueCodeableConcept": {"text": text}}


def _med(code):
    return {"resourceType": "MedicationStatement", "status": "active", "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]}}


def _searchset(resources):
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def prefetch_for(record, *, weight_lb=False, meds=True):
    """A chart an EHR would send for ``record`` (a warfarin record)."""
    today = dt.date.today()
    age = 10 * int(record["age_decade"]) + 5
    patient = {"resourceType": "Patient", "id": "p1", "gender": record["sex"],
               "birthDate": today.replace(year=today.year - age).isoformat(),
               "extension": [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
                              "extension": [{"url": "ombCategory", "valueCoding": {
                                  "system": "urn:oid:2.16.840.1.113883.6.238",
                                  "code": RACE.get(record["race"], "2131-1")}}]}]}
    obs = []
    if record.get("weight_kg") is not None:
        obs.append(_obs("29463-7", record["weight_kg"] / 0.45359237, "[lb_av]") if weight_lb
                   else _obs("29463-7", record["weight_kg"], "kg"))
    if record.get("height_cm") is not None:
        obs.append(_obs("8302-2", record["height_cm"], "cm"))
    if record.get("cyp2c9"):
        obs.append(_genotype("HGNC:2623", record["cyp2c9"]))
    if record.get("vkorc1_1639"):
        obs.append(_genotype("HGNC:23663", record["vkorc1_1639"]))
    out = {"patient": patient, "observations": _searchset(obs)}
    if meds:
        drugs = [c for f, c in (("amiodarone", "703"), ("enzyme_inducer", "8183"), ("aspirin", "1191"),
                                ("simvastatin", "36567")) if record.get(f) == 1]
        out["medications"] = _searchset([_med(c) for c in drugs])
    return out


def call(prefetch):
    return {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"patientId": "p1", "userId": "Practitioner/1"}, "prefetch": prefetch}


@pytest.fixture(scope="module")
def client(bundle_root):  # cards and feedback, not authentication (tests/test_cds_auth.py): explicitly insecure
    return TestClient(create_app(dashboard_url="http://dash.example:8501", insecure_no_auth=True))


@pytest.fixture(scope="module")
def record(bundles):
    bundle = bundles("warfarin")
    r = next(r for r in service.held_out_patients(bundle) if r.get("cyp2c9") and r.get("weight_kg"))
    return {k: v for k, v in r.items() if k != "patient_id"}


def test_discovery_lists_one_patient_view_service_per_cohort(client):
    services = client.get("/cds-services").json()["services"]
    assert {s["id"] for s in services} == set(service.BUNDLED)
    for s in services:
        assert s["hook"] == "patient-view" and s["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert s["prefetch"]["medications"] == "MedicationStatement?patient={{context.patientId}}"


def test_card_dose_equals_predict_on_the_same_inputs_and_the_link_carries_them(client, bundles, record):
    seen = []
    stop = service.observe(seen.append)
    try:
        (card,) = client.post("/cds-services/warfarin", json=call(prefetch_for(record, weight_lb=True))).json()["cards"]
    finally:
        stop()
    link = card["links"][0]
    assert link["type"] == "absolute" and link["url"].startswith("http://dash.example:8501/?cohort=warfarin&record=")
    carried = decode_record(link["url"].split("record=")[1])
    assert "p1" not in link["url"]  # the inputs travel, not the EHR's patient identifier
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = service.predict(bundles("warfarin"), carried).to_dict()
    mapped = {k: carried[k] for k in ("sex", "race", "cyp2c9", "vkorc1_1639", "amiodarone", "age_decade")}
    assert mapped == {k: record[k] for k in mapped}
    assert carried["weight_kg"] == pytest.approx(record["weight_kg"], abs=1e-6)  # lb converted to kg
    if expected["summary"]["state"] == "estimate":
        assert f"{expected['dose']['mg_per_week']:.1f} mg/week" in card["summary"]
    assert len(card["summary"]) <= 140
    assert card["indicator"] == ("warning" if any(w["severity"] == "high" for w in expected["warnings"]) else "info")
    assert "Current smoker: unknown" in card["detail"]  # unmapped inputs stay unknown and are listed
    assert [e.kind for e in seen] == ["patient_report", "cds_card"]  # shown only after being observed


def test_without_a_medication_list_required_drugs_are_unknown_and_the_card_names_them(client, record):
    (card,) = client.post("/cds-services/warfarin", json=call(prefetch_for(record, meds=False))).json()["cards"]
    assert card["indicator"] == "info" and "amiodarone" in card["summary"] and "No estimate" in card["summary"]


@pytest.mark.parametrize("prefetch", [
    {},  # no patient
    {"patient": {"resourceType": "Observation"}},
    {"patient": {"resourceType": "Patient", "gender": 7}},
    {"patient": {"resourceType": "Patient"}, "observations": {"resourceType": "Bundle", "entry": [
        {"resource": {"resourceType": "Observation", "status": "nonsense", "code": {}}}]}},
])
def test_malformed_charts_get_a_clear_info_card_never_a_server_error(client, prefetch):
    r = client.post("/cds-services/warfarin", json=call(prefetch))
    assert r.status_code == 200
    (card,) = r.json()["cards"]
    assert card["indicator"] == "info" and card["summary"].startswith("No estimate")


def test_an_impossible_value_names_the_field(client, record):
    prefetch = prefetch_for(record)
    prefetch["observations"]["entry"].append({"resource": _obs("29463-7", 900, "kg") | {"effectiveDateTime": "2026-12-01"}})
    (card,) = client.post("/cds-services/warfarin", json=call(prefetch)).json()["cards"]
    assert card["indicator"] == "info" and "weight_kg" in card["summary"] and "300" in card["detail"]


def test_feedback_is_handed_to_the_observers(client):
    seen = []
    stop = service.observe(seen.append)
    try:
        r = client.post("/cds-services/warfarin/feedback", json={"feedback": [
            {"card": "c1", "outcome": "overridden", "overrideReason": {"reason": {"code": "patient-preference"}},
             "outcomeTimestamp": "2026-12-02T10:00:00Z"}]})
    finally:
        stop()
    assert r.status_code == 200 and r.json() == {"recorded": 1}
    (event,) = seen
    assert event.kind == "cds_feedback" and event.result["outcome"] == "overridden"
    assert client.post("/cds-services/warfarin/feedback", json={"feedback": [{"outcome": "maybe"}]}).status_code == 400


def test_cli_predict_from_fhir_matches_the_card(client, bundle_dirs, record, tmp_path):
    import contextlib
    import io
    import json

    from core.cli import main

    prefetch = prefetch_for(record)
    path = tmp_path / "chart.json"
    path.write_text(json.dumps(prefetch))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["predict", "--bundle", str(bundle_dirs("warfarin")), "--fhir", str(path)]) == 0
    rep = json.loads(out.getvalue())
    (card,) = client.post("/cds-services/warfarin", json=call(prefetch)).json()["cards"]
    assert decode_record(card["links"][0]["url"].split("record=")[1]) == rep["patient"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"patient": {"resourceType": "Observation"}}))
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        assert main(["predict", "--bundle", str(bundle_dirs("warfarin")), "--fhir", str(bad)]) == 2
    assert "resourceType 'Patient'" in err.getvalue()


def test_discovery_describes_each_service_and_asks_for_the_three_prefetch_templates(client):
    for s in client.get("/cds-services").json()["services"]:
        spec = service.load_cohort(s["id"]).spec
        assert s["title"] == f"Equipoise: {spec.title}" and "never orders" in s["description"]
        assert s["prefetch"] == {"patient": "Patient/{{context.patientId}}",
                                 "observations": "Observation?patient={{context.patientId}}",
                                 "medications": "MedicationStatement?patient={{context.patientId}}"}


def test_a_card_names_its_source_and_carries_the_decision_support_caveat(client, bundles, record):
    (card,) = client.post("/cds-services/warfarin", json=call(prefetch_for(record))).json()["cards"]
    assert card["source"] == {"label": "Equipoise (warfarin)",
                              "url": "http://dash.example:8501/model_card?cohort=warfarin"}
    disclaimer = service.predict(bundles("warfarin"), record).to_dict()["disclaimer"]
    assert disclaimer and service.inert_markdown(disclaimer) in card["detail"]


@pytest.mark.parametrize("text", ["<img src=x onerror=alert(1)>", "[see](https://evil.example/x)", "**1**/*3"])
def test_text_from_the_chart_reaches_the_card_inert(client, record, text):
    chart = prefetch_for(record)
    for entry in chart["observations"]["entry"]:
        if entry["resource"]["code"]["coding"][0]["code"] == "84413-4":
            entry["resource"]["valueCodeableConcept"]["text"] = text
    (card,) = client.post("/cds-services/warfarin", json=call(chart)).json()["cards"]
    assert text not in card["detail"]  # never as the EHR's Markdown renderer would act on it ...
    assert service.inert_markdown(text) in card["detail"]  # ... but shown, escaped, so the value is still seen
    assert service.inert_markdown(text).count("\\") >= 2


def _actg_chart(r, race_code):
    today = dt.date.today()
    born = today.replace(year=today.year - int(r["age_years"]))
    patient = {"resourceType": "Patient", "id": "p1", "gender": r["sex"], "birthDate": born.isoformat(),
               "extension": [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
                              "extension": [{"url": "ombCategory", "valueCoding": {
                                  "system": "urn:oid:2.16.840.1.113883.6.238", "code": race_code}}]}]}
    return {"patient": patient, "observations": _searchset([
        _obs("29463-7", r["weight_kg"] / 0.45359237, "[lb_av]"), _obs("24467-3", r["cd4_cells_per_ul"], "/uL")])}


@pytest.mark.parametrize("race_code, race", [("2106-3", "white"), ("2054-5", "non-white"), ("2028-9", "non-white"),
                                             ("ASKU", None), ("2131-1", None)])
def test_actg175_maps_age_sex_race_weight_and_cd4_and_leaves_the_rest_unknown(bundles, race_code, race):
    bundle = bundles("actg175")
    r = service.held_out_patients(bundle)[0]
    mapped = service.record_from_fhir(bundle, _actg_chart(r, race_code), on=dt.date.today()).record
    assert (mapped["age_years"], mapped["sex"], mapped["race"]) == (r["age_years"], r["sex"], race)
    assert mapped["weight_kg"] == pytest.approx(r["weight_kg"]) and mapped["cd4_cells_per_ul"] == r["cd4_cells_per_ul"]
    assert mapped["cd8_cells_per_ul"] is None and mapped["karnofsky_score"] is None  # no code we are sure of


def test_an_actg175_chart_without_the_history_gets_a_card_naming_what_is_missing(client, bundles):
    r = service.held_out_patients(bundles("actg175"))[0]
    (card,) = client.post("/cds-services/actg175", json=call(_actg_chart(r, "2106-3"))).json()["cards"]
    assert card["indicator"] == "info" and card["summary"].startswith("No estimate")
    assert "Karnofsky performance score" in card["detail"] and "age\\_years" not in card["detail"]  # by its label
