"""Every dashboard page, driven headlessly with Streamlit's AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests._apps import APP, open_page, rendered

PAGES = {"pages/patient.py": "Patient", "pages/what_if.py": "What if", "pages/subgroups.py": "Subgroups",
         "pages/model_card.py": "Model card"}


def texts(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.info] + [e.value for e in at.warning]
    parts += [e.value for e in at.error] + [e.value for e in at.caption]
    return "\n".join(map(rendered, parts))


@pytest.mark.parametrize("cohort", ["actg175", "colon", "warfarin"])
@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_for_each_cohort(bundle_root, page, cohort):
    at = open_page(page, cohort)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == PAGES[page]
    assert at.session_state["eq.cohort"] == cohort


def use_form(at: AppTest, typical: bool = True, **values) -> AppTest:
    """Fill the form (from the cohort's typical patient unless ``typical`` is False, then ``values``) and submit."""
    at.sidebar.radio(key="w.source").set_value("New patient (form)")
    at.run()
    cohort = at.session_state["eq.cohort"]
    from core import service

    bundle = service.open_bundle(service.bundle_path(cohort))
    if typical:
        start = service.typical_patient(bundle)
        values = {k: v for k, v in start.items() if v is not None} | values
    for name, value in values.items():
        if bundle.spec.feature(name).is_numeric:  # typed as text, read strictly by core
            at.sidebar.text_input(key=f"form.{cohort}.{name}").input(service.number_text(value))
        else:
            at.sidebar.selectbox(key=f"form.{cohort}.{name}").set_value(value)
    at.sidebar.button[0].click()
    at.run()
    return at


def test_bad_form_value_shows_the_fields_error_and_no_prediction(bundle_root):
    at = use_form(open_page("pages/patient.py"), weight_kg=700)
    assert not at.exception
    message = "Weight must be a number from 20 to 300 kg. Got 700 instead."
    assert message in [rendered(e.value) for e in at.error]
    assert not at.get("plotly_chart") and not at.metric  # nothing predicted for a refused patient


def test_patient_in_small_group_sees_the_warning_banner(bundle_root):
    at = use_form(open_page("pages/patient.py"), sex="female", age_years=55)
    assert not at.exception
    banners = [rendered(w.value) for w in list(at.warning) + list(at.info)]
    assert any("Few patients like this" in b and "sex and age band: female, ≥50" in b and "training patients" in b
               for b in banners)


def test_patient_page_headline_names_the_options_and_every_pair_has_an_interval(bundle_root):
    at = open_page("pages/patient.py")
    headline = rendered(at.markdown[0].value).removeprefix("#### ")
    assert "similar estimated risks" in headline or "clearly so against every other arm" in headline
    (pairs,) = [d for d in at.dataframe if "95% interval" in d.value.columns]
    assert len(pairs.value) == 6  # every pair of the four ACTG 175 arms
    assert all(" to " in v for v in pairs.value["95% interval"])
    assert len(at.get("plotly_chart")) >= 3  # arms, icon array, explanation(s)


def test_outside_the_training_data_gives_no_number_anywhere_on_the_page(bundle_root):
    at = use_form(open_page("pages/patient.py"), weight_kg=250)
    assert not at.exception
    headline = rendered(at.markdown[0].value).removeprefix("#### ")
    assert headline.startswith("Insufficient evidence") and "%" not in headline
    assert "Why no number is shown" in texts(at)
    assert not at.get("plotly_chart") and not at.metric  # no risks, no icon array


def test_a_new_patient_form_starts_unknown_and_keeps_what_was_typed(bundle_root):
    at = open_page("pages/patient.py")
    at.sidebar.radio(key="w.source").set_value("New patient (form)")
    at.run()
    fields = [w for w in list(at.sidebar.text_input) + list(at.sidebar.selectbox) if w.key.startswith("form.")]
    assert fields and all(w.value in (None, "") for w in fields)  # nothing invented for a new patient
    at = use_form(at, weight_kg=700)
    at.switch_page("pages/what_if.py")
    at.run()
    at.switch_page("pages/patient.py")
    at.run()
    assert at.sidebar.text_input(key="form.actg175.weight_kg").value == "700"  # refused input kept as typed


def test_upload_source_without_a_file_shows_no_patient(bundle_root):
    at = open_page("pages/patient.py")
    at.sidebar.radio(key="w.source").set_value("Row of an uploaded CSV")
    at.run()
    assert not at.exception
    assert not at.get("plotly_chart") and "Choose a patient" in texts(at)


@pytest.mark.parametrize("page", list(PAGES))
def test_deep_link_opens_the_named_held_out_patient(bundle_root, page):
    from core import service

    ids = [r["patient_id"] for r in service.held_out_patients(service.open_bundle(service.bundle_path("colon")))]
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["cohort"], at.query_params["patient"] = "colon", ids[5]
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception
    assert at.session_state["eq.cohort"] == "colon"
    assert at.session_state["eq.label"]["colon"] == f"Test patient {ids[5]}"


def test_deep_link_to_an_unknown_patient_says_so(bundle_root):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["cohort"], at.query_params["patient"] = "colon", "no-such-patient"
    at.run()
    assert not at.exception
    assert any("not a held-out test patient" in rendered(w.value) for w in at.sidebar.warning)


def test_moving_a_what_if_slider_changes_the_displayed_prediction(bundle_root):
    at = open_page("pages/what_if.py")
    before = [m.value for m in at.metric]
    # body weight is not a treatment lever in ACTG 175: not offered in plan mode, only when exploring the model
    assert not [s for s in at.slider if s.label.startswith("Weight")]
    at.toggle[0].set_value(True)
    at.run()
    (weight,) = [s for s in at.slider if s.label.startswith("Weight")]
    assert not weight.disabled
    weight.set_value(weight.value + 40 if weight.value + 40 <= weight.max else weight.min)
    at.run()
    assert not at.exception
    after = [m.value for m in at.metric]
    assert after != before
    assert any("points" in str(m.delta) and m.delta != "+0.0 points" for m in at.metric)


def test_plan_mode_says_the_arm_is_the_only_lever_and_explore_mode_moves_every_value(bundle_root):
    at = open_page("pages/what_if.py")
    assert not [s for s in at.selectbox if s.label.startswith("Race")] and not at.slider  # no page of locked widgets
    (note,) = [i.value for i in at.info if "only lever" in i.value]
    assert "choice of treatment arm is the only lever" in rendered(note)
    at.toggle[0].set_value(True)
    at.run()
    (race,) = [s for s in at.selectbox if s.label.startswith("Race")]
    assert not race.disabled
    assert any("not advice" in c.value for c in at.caption)


def test_two_sessions_never_see_each_others_patient(bundle_root):
    a, b = open_page("pages/patient.py"), open_page("pages/patient.py")
    ids = a.sidebar.selectbox(key="w.test_id").options
    a.sidebar.selectbox(key="w.test_id").set_value(ids[1])
    a.run()
    b.sidebar.selectbox(key="w.test_id").set_value(ids[2])
    b.run()
    a.run()
    assert ids[1] in a.caption[0].value and ids[2] not in a.caption[0].value
    assert ids[2] in b.caption[0].value and ids[1] not in b.caption[0].value


def test_selected_patient_stays_selected_across_pages(bundle_root):
    at = open_page("pages/patient.py")
    ids = at.sidebar.selectbox(key="w.test_id").options
    at.sidebar.selectbox(key="w.test_id").set_value(ids[3])
    at.run()
    at.switch_page("pages/what_if.py")
    at.run()
    assert at.sidebar.selectbox(key="w.test_id").value == ids[3]
    assert at.session_state["eq.label"]["actg175"] == f"Test patient {ids[3]}"


def test_switching_the_source_never_leaves_the_previous_patient_on_screen(bundle_root):
    at = open_page("pages/patient.py")
    assert at.get("plotly_chart")  # a held-out patient is shown
    at.sidebar.radio(key="w.source").set_value("New patient (form)")
    at.run()
    assert not at.get("plotly_chart") and "Choose a patient" in texts(at)
    at = use_form(at)  # a valid form patient is shown ...
    assert at.get("plotly_chart") and "New patient (form)" in texts(at)
    at.sidebar.radio(key="w.source").set_value("Row of an uploaded CSV")
    at.run()  # ... and gone once the source changes, before any upload
    assert not at.get("plotly_chart") and "New patient (form)" not in rendered(at.caption[0].value)


def test_an_ehr_link_carrying_inputs_opens_the_patient_on_the_form(bundle_root):
    from core import service
    from core.cds import encode_record

    record = service.typical_patient(service.open_bundle(service.bundle_path("warfarin")))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["cohort"], at.query_params["record"] = "warfarin", encode_record(record)
    at.run()
    assert not at.exception
    assert at.session_state["eq.source"] == "New patient (form)" and at.get("plotly_chart")
    assert at.session_state["eq.record"]["warfarin"] == service.validate(
        service.open_bundle(service.bundle_path("warfarin")), record).to_record()
    assert "record" not in at.query_params  # the address keeps no patient data
    bad = AppTest.from_file(APP, default_timeout=120)
    bad.query_params["cohort"], bad.query_params["record"] = "warfarin", "not-a-record"
    bad.run()
    assert not bad.exception and any("cannot be read" in rendered(w.value) for w in bad.sidebar.warning)
