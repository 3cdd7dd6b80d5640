"""Numbers typed by hand are read strictly, by one reader in core/data (issue 25, record integrity): a decimal
comma is a decimal ("12,5" is 12.5, never 125), an ambiguous comma or any other text is refused with a message
naming the field in clinical words, integers are shown as integers, and a typed patient that a reload could not
keep is said to be gone instead of being replaced by a test patient."""

from __future__ import annotations

import re

import pytest

from _apps import APP, open_page, rendered
from streamlit.testing.v1 import AppTest

from core import PatientValidationError
from core.data import load_spec
from core.data.numbers import NumberTextError, number_text, parse_number
from core.data.template import patient_template
from core.data.validation import validate_patient

CD8 = "CD8 count at baseline (cells/µL)"


@pytest.mark.parametrize("text, integer, expected", [
    ("12,5", False, 12.5), ("12.5", False, 12.5), (" 72,5 ", False, 72.5), ("-3", True, -3), ("\u22123", True, -3),
    ("+4", True, 4), ("40.0", True, 40), ("0,125", False, 0.125), (",5", False, 0.5), ("1250", True, 1250),
    ("", False, None), ("   ", True, None),
])
def test_a_number_is_read_as_typed(text, integer, expected):
    value = parse_number(text, what=CD8, integer=integer)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("text, integer, message", [
    ("abc", False, f"{CD8} must be a number, such as 12.5 (a decimal comma, 12,5, is read the same way). "
                   "Got 'abc' instead."),
    ("1,250", False, f"{CD8}: '1,250' could be read as 1250 or as 1.250. Type it without a thousands separator "
                     "(1250) or with a decimal point (1.250)."),
    ("12,5", True, f"{CD8} must be a whole number. Got '12,5' instead."),
    ("1e3", False, "Got '1e3' instead"), ("1_000", False, "Got '1_000' instead"), ("1 000", False, "Got '1 000'"),
    ("12,5,1", False, "must be a number"), ("1.234,5", False, "must be a number"), ("12 mg", False, "must be a number"),
    ("nan", False, "must be a number"), ("inf", False, "must be a number"), ("9" * 400, False, "must be a number"),
])
def test_text_that_is_not_unambiguously_a_number_is_refused_naming_the_field(text, integer, message):
    with pytest.raises(NumberTextError, match=re.escape(message)):
        parse_number(text, what=CD8, integer=integer)


@pytest.mark.parametrize("value, integer, shown", [(-3, True, "-3"), (-3.0, True, "-3"), (40.0, False, "40"),
                                                   (72.5, False, "72.5"), (None, False, ""), ("12,5", False, "12,5")])
def test_a_number_is_written_back_as_people_write_it(value, integer, shown):
    assert number_text(value, integer=integer) == shown


def _actg(**changes) -> dict:
    record = {k: v for k, v in patient_template(load_spec("actg175"))["patient"].items() if v is not ...}
    return record | changes


def test_validation_reads_typed_text_with_the_same_reader():
    spec = load_spec("actg175")
    assert validate_patient(spec, _actg(weight_kg="72,5")).values["weight_kg"] == 72.5
    assert validate_patient(spec, _actg(cd8_cells_per_ul="1250")).values["cd8_cells_per_ul"] == 1250
    with pytest.raises(PatientValidationError) as info:
        validate_patient(spec, _actg(cd8_cells_per_ul="12,5", cd4_cells_per_ul="abc"))
    assert {e.field: e.message for e in info.value.errors} == {
        "cd4_cells_per_ul": "CD4 count at baseline (cells/µL) must be a number, such as 12.5 (a decimal comma, 12,5, "
                            "is read the same way). Got 'abc' instead.",
        "cd8_cells_per_ul": f"{CD8} must be a whole number. Got '12,5' instead."}


def _type(at: AppTest, **typed) -> AppTest:
    at.sidebar.radio(key="w.source").set_value("New patient (form)").run()
    from core import service

    start = service.typical_patient(service.open_bundle(service.bundle_path("actg175")))
    for name, value in start.items():
        if value is None:
            continue
        if name in load_spec("actg175").feature_names and load_spec("actg175").feature(name).is_numeric:
            at.sidebar.text_input(key=f"form.actg175.{name}").input(typed.pop(name, number_text(value)))
        else:
            at.sidebar.selectbox(key=f"form.actg175.{name}").set_value(value)
    at.sidebar.button[0].click().run()
    return at


def test_the_form_reads_a_decimal_comma_and_refuses_text_with_a_message(bundle_root):
    at = _type(open_page("pages/patient.py", "actg175"), weight_kg="72,5", cd8_cells_per_ul="12,5")
    assert not at.exception
    errors = [rendered(e.value) for e in at.error]
    assert f"{CD8} must be a whole number. Got '12,5' instead." in errors  # refused, never read as 125
    assert at.session_state["eq.record"]["actg175"] is None and not at.metric
    assert at.sidebar.text_input(key="form.actg175.cd8_cells_per_ul").value == "12,5"  # kept as typed

    at.sidebar.text_input(key="form.actg175.cd8_cells_per_ul").input("abc")
    at.sidebar.button[0].click().run()
    assert any(f"{CD8} must be a number" in rendered(e.value) and "Got 'abc'" in rendered(e.value) for e in at.error)

    at.sidebar.text_input(key="form.actg175.cd8_cells_per_ul").input("1250")
    at.sidebar.button[0].click().run()
    assert not at.error, [e.value for e in at.error]
    record = at.session_state["eq.record"]["actg175"]
    assert record["weight_kg"] == 72.5 and record["cd8_cells_per_ul"] == 1250


def test_an_integer_from_a_link_is_shown_as_an_integer(bundle_root):
    from core import service
    from core.cds import encode_record

    record = service.typical_patient(service.open_bundle(service.bundle_path("actg175"))) | {"age_years": -3}
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["cohort"], at.query_params["record"] = "actg175", encode_record(record)
    at.run()
    assert not at.exception
    assert at.sidebar.text_input(key="form.actg175.age_years").value == "-3"  # never "-3.00"


def test_a_typed_patient_lost_on_reload_is_said_to_be_gone_not_replaced(bundle_root):
    at = _type(open_page("pages/patient.py", "actg175"))
    assert at.session_state["eq.record"]["actg175"] is not None and at.query_params["entry"] == "form"
    again = AppTest.from_file(APP, default_timeout=120)  # a reload: a new session, with the same address
    again.query_params.update({"cohort": "actg175", "entry": "form"})
    again.switch_page("pages/patient.py")
    again.run()
    assert not again.exception
    assert again.session_state["eq.source"] == "New patient (form)"
    assert again.session_state["eq.record"].get("actg175") is None  # no test patient put in its place
    notice = "The patient typed on the form before the page was reloaded could not be restored"
    assert any(notice in rendered(w.value) for w in again.main.warning)  # on the main page
    assert any(notice in rendered(w.value) for w in again.sidebar.warning)
