"""A crafted deep link (issue 26, part 4): ``/?cohort=warfarin&record=<{"weight_kg": "abc"}>`` used to raise
ValueError in the sidebar and break every page of the tab. Now the value is left empty on the form, a message
names the field in clinical words, and the session goes on (the next page opens)."""

from __future__ import annotations

import base64
import json

import pytest
from streamlit.testing.v1 import AppTest

from core.data import load_spec
from core.data import link_values as L
from tests._apps import APP, rendered


@pytest.fixture(scope="module")
def warfarin_root(bundle_dirs):
    mp = pytest.MonkeyPatch()
    mp.setenv("EQUIPOISE_BUNDLE_DIR", str(bundle_dirs("warfarin").parent))
    yield
    mp.undo()


@pytest.mark.parametrize("record, values, problem", [
    ({"weight_kg": "abc"}, {}, L.NOT_A_NUMBER.format(label="Weight (kg)", value="'abc'")),
    ({"weight_kg": "72.5"}, {"weight_kg": 72.5}, None),
    ({"weight_kg": 72}, {"weight_kg": 72.0}, None),
    ({"weight_kg": True}, {}, L.NOT_A_NUMBER.format(label="Weight (kg)", value="True")),
    ({"weight_kg": "1e400"}, {}, L.NOT_A_NUMBER.format(label="Weight (kg)", value="'1e400'")),
    ({"weight_kg": 10**400}, {}, None),  # checked below: an integer too long to be a weight
    ({"weight_kg": [1, 2]}, {}, L.NOT_A_NUMBER.format(label="Weight (kg)", value="[1, 2]")),
    ({"weight_kg": None}, {}, None),  # unknown is allowed: the form shows it empty
    ({"sex": "male", "amiodarone": "1"}, {"sex": "male", "amiodarone": 1}, None),  # as the form offers it
    ({"sex": "robot"}, {}, L.NOT_A_CHOICE.format(label="Sex", value="'robot'", choices="female, male")),
    ({"amiodarone": 2}, {}, L.NOT_A_CHOICE.format(label="Taking amiodarone", value="2", choices="no, yes")),
    ({"shoe_size": 44}, {}, L.UNKNOWN.format(names="'shoe_size'")),
])
def test_link_values_keep_what_the_form_can_show_and_name_the_rest(record, values, problem):
    got, problems = L.link_form_values(load_spec("warfarin"), record)
    assert got == values
    if record.get("weight_kg") == 10**400:
        assert len(problems) == 1 and problems[0].startswith("The link gives Weight (kg) as 1000000")
    else:
        assert problems == (() if problem is None else (problem,))


def _warnings(at: AppTest) -> str:
    return " ".join(rendered(w.value) for w in at.sidebar.warning)


def test_a_link_with_text_for_a_number_shows_a_message_and_the_session_goes_on(warfarin_root):
    from core.cds import encode_record

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["cohort"], at.query_params["record"] = "warfarin", encode_record({"weight_kg": "abc"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "The link gives Weight (kg) as 'abc', which is not a number; it was left empty on the form" in _warnings(at)
    assert at.session_state["eq.source"] == "New patient (form)" and "record" not in at.query_params
    at.switch_page("pages/what_if.py").run()  # the next page of the same session works
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "What if"
    at.switch_page("pages/patient.py").run()
    assert not at.exception and at.title[0].value == "Patient"


def test_a_link_that_is_plain_base64_json_is_refused_with_a_message(warfarin_root):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["cohort"] = "warfarin"
    at.query_params["record"] = base64.urlsafe_b64encode(json.dumps({"weight_kg": "abc"}).encode()).decode()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "cannot be read" in _warnings(at)
