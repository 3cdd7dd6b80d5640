"""The spec's ``actionable`` field: which changes a clinician can make, parsed and refused in one place."""

import json
import re
from pathlib import Path

import pytest

from core.data.spec import ACTIONABILITY, MSG_ACTIONABLE, MSG_ACTIONABLE_GENOTYPE, CohortSpec
from core._errors import SpecError

COHORT_DIR = Path(__file__).resolve().parents[1] / "core" / "data" / "cohorts"


def spec_with(feature: dict) -> CohortSpec:
    return CohortSpec.from_dict({
        "name": "toy", "patient_id": "id", "features": [feature],
        "treatment": {"type": "arms", "arms": ["A", "B"], "reference": "A"},
        "outcome": {"type": "binary", "column": "y"},
    })


BINARY = {"name": "aspirin", "type": "binary", "role": "medication"}
NUMBER = {"name": "weight_kg", "type": "numeric", "limits": [20, 300], "unit": "kg"}
CATEGORY = {"name": "stage", "type": "categorical", "categories": ["I", "II", "III"]}
GENOTYPE = {"name": "cyp2c9", "type": "genotype", "categories": ["*1/*1", "*1/*2"]}


@pytest.mark.parametrize("feature, given, expected", [
    (BINARY, "stop", "stop"), (BINARY, "start", "start"), (BINARY, "start_or_stop", "start_or_stop"),
    (BINARY, True, "stop"),          # backwards compatible and safe: `true` never starts a drug
    (NUMBER, True, "any"), (CATEGORY, True, "any"), (NUMBER, "decrease", "decrease"),
    (CATEGORY, "increase", "increase"),
    (BINARY, False, ""), (BINARY, None, ""), (GENOTYPE, False, ""),
])
def test_valid_actionability_is_parsed(feature, given, expected):
    f = spec_with({**feature, "actionable": given}).features[0]
    assert f.actionable == expected
    assert bool(f.actionable) == bool(expected)
    assert spec_with({**feature}).features[0].actionable == ""  # absent: not actionable
    assert CohortSpec.from_dict(json.loads(spec_with({**feature, "actionable": given}).to_json())).features[0] == f


@pytest.mark.parametrize("feature, given, message", [
    (BINARY, "decrease", MSG_ACTIONABLE.format(name="aspirin", type="binary",
                                               allowed=["stop", "start", "start_or_stop", True, False], got="decrease")),
    (BINARY, "yes", "The 'actionable' field of feature 'aspirin' (type 'binary') must be one of ['stop', 'start', "
                    "'start_or_stop', True, False]. Got 'yes' instead."),
    (NUMBER, "stop", "The 'actionable' field of feature 'weight_kg' (type 'numeric') must be one of ['decrease', "
                     "'increase', 'any', True, False]. Got 'stop' instead."),
    (NUMBER, 1, "The 'actionable' field of feature 'weight_kg' (type 'numeric') must be one of ['decrease', "
                "'increase', 'any', True, False]. Got 1 instead."),
    (GENOTYPE, True, MSG_ACTIONABLE_GENOTYPE.format(name="cyp2c9", got=True)),
    (GENOTYPE, "any", "The 'actionable' field of feature 'cyp2c9' must be false or absent: a genotype cannot change. "
                      "Got 'any' instead."),
])
def test_invalid_actionability_is_refused_naming_field_value_and_allowed_values(feature, given, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        spec_with({**feature, "actionable": given})


@pytest.mark.parametrize("feature, how, old, new, allowed", [
    (BINARY, "stop", 1, 0, True), (BINARY, "stop", 0, 1, False),
    (BINARY, "start", 0, 1, True), (BINARY, "start", 1, 0, False),
    (BINARY, "start_or_stop", 0, 1, True), (BINARY, "start_or_stop", 1, 0, True),
    (NUMBER, "decrease", 80, 70, True), (NUMBER, "decrease", 70, 80, False),
    (NUMBER, "increase", 70, 80, True), (NUMBER, "any", 80, 70, True),
    (CATEGORY, "decrease", "III", "I", True), (CATEGORY, "decrease", "I", "II", False),
    (CATEGORY, "increase", "I", "II", True),
    (BINARY, "stop", None, 0, False),    # an unknown value is never changed
    (NUMBER, "any", 70, None, False), (NUMBER, "any", 70, 70, False), (BINARY, False, 1, 0, False),
])
def test_allows_change_follows_the_declared_direction(feature, how, old, new, allowed):
    assert spec_with({**feature, "actionable": how}).features[0].allows_change(old, new) is allowed


def test_every_type_declares_its_allowed_values():
    assert set(ACTIONABILITY) == {"numeric", "categorical", "binary", "genotype"}
    assert ACTIONABILITY["genotype"] == ()


@pytest.mark.parametrize("path", sorted(COHORT_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_bundled_cohorts_never_let_a_drug_be_started_or_weight_be_a_lever(path):
    spec = CohortSpec.from_json(path)
    for f in spec.features:
        if f.role == "medication":
            assert f.actionable in ("", "stop"), f.name
        if f.type == "genotype" or f.role in ("demographic", "genomic", "biomarker"):
            assert not f.actionable, f.name
    if spec.name == "actg175":
        assert not spec.feature("weight_kg").actionable
        assert [f.name for f in spec.features if f.actionable] == []
    if spec.name == "warfarin":
        # only the established pharmacological levers (IWPC formula, CPIC): associations with aspirin,
        # simvastatin or smoking in this observational cohort are not identified as effects (issue 24)
        assert {f.name for f in spec.features if f.actionable} == {"amiodarone", "enzyme_inducer"}
