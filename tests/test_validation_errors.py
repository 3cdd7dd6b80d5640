import re

import pytest

from core import ImplausibleValueWarning, PatientValidationError
from core.data.cohorts import load_spec
from core.data.template import patient_template
from core.data.validation import validate_patient

ACTG = load_spec("actg175")
WARFARIN = load_spec("warfarin")


def actg(**changes):
    record = dict(patient_template(ACTG)["patient"])
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"weight_kg": 700}, "weight_kg", "Weight must be a number from 20 to 300 kg. Got 700 instead."),
        ({"weight_kg": "heavy"}, "weight_kg", "Weight (kg) must be a number, such as 12.5 (a decimal comma, 12,5, is read the same way). Got 'heavy' instead."),
        ({"age_years": 34.5}, "age_years", "Age must be a whole number from 12 to 100 years. Got 34.5 instead."),
        ({"age_years": -3}, "age_years", "Age must be a whole number from 12 to 100 years. Got -3 instead."),
        ({"cd4_cells_per_ul": float("inf")}, "cd4_cells_per_ul", "CD4 count at baseline must be a whole number from 0 to 3000 cells/µL. Got inf instead."),
        ({"race": "purple"}, "race", "Race must be white or non-white. Got 'purple' (text) instead."),
        ({"symptomatic": 2}, "symptomatic", "Symptomatic HIV infection must be yes or no. Got 2 instead."),
        ({"sex": None}, "sex", "Sex is required: female or male."),
        ({"karnofsky_score": ...}, "karnofsky_score", "Karnofsky performance score is required: a whole number from 0 to 100 points (0–100)."),
        ({"weigth_kg": 70}, "weigth_kg", "Unknown field 'weigth_kg' for cohort 'actg175'."),
        ({"age_years": True}, "age_years", "Got True (true/false) instead."),
    ],
)
def test_refused_values_name_field_value_range_and_unit(changes, field, message):
    with pytest.raises(PatientValidationError, match=re.escape(message)) as info:
        validate_patient(ACTG, actg(**changes))
    assert [e.field for e in info.value.errors] == [field]


def test_every_bad_field_is_reported_not_just_the_first():
    with pytest.raises(PatientValidationError) as info:
        validate_patient(ACTG, actg(weight_kg=700, race="purple", age_years="old"))
    assert sorted(e.field for e in info.value.errors) == ["age_years", "race", "weight_kg"]


def test_implausible_value_is_used_and_warned():
    with pytest.warns(ImplausibleValueWarning, match="weight_kg"):
        patient = validate_patient(ACTG, actg(weight_kg=200))
    assert patient.values["weight_kg"] == 200.0
    (warning,) = [w for w in patient.warnings if w["kind"] == "implausible_value"]
    assert warning["field"] == "weight_kg" and warning["plausible"] == [35.0, 160.0]
    assert "Weight 200 kg is outside the plausible range 35 to 160 kg" in warning["message"]


@pytest.mark.parametrize("raw, expected", [(1, 1), ("yes", 1), ("0", 0), (False, 0), (1.0, 1)])
def test_binary_spellings(raw, expected):
    assert validate_patient(ACTG, actg(symptomatic=raw)).values["symptomatic"] == expected


def test_optional_genotype_may_be_missing_and_is_reported():
    record = dict(patient_template(WARFARIN)["patient"], vkorc1_1639=None)
    patient = validate_patient(WARFARIN, record)
    assert patient.values["vkorc1_1639"] is None
    assert "vkorc1_1639" in patient.missing
    assert any(w["kind"] == "missing_value" and w["field"] == "vkorc1_1639" for w in patient.warnings)


def test_validated_record_round_trips():
    patient = validate_patient(ACTG, actg(weight_kg="71.5", symptomatic="yes"))
    again = validate_patient(ACTG, patient.to_record())
    assert again.values == patient.values
