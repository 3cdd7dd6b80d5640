"""Every dashboard page, driven headlessly with Streamlit's AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from pathlib import Path

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = {"pages/patient.py": "Patient", "pages/what_if.py": "What if", "pages/subgroups.py": "Subgroups",
         "pages/model_card.py": "Model card"}


@pytest.fixture(scope="module")
def bundle_root(bundle_dirs, monkeypatch_module):
    for name in ("actg175", "colon", "warfarin"):
        root = bundle_dirs(name).parent
    monkeypatch_module.setenv("EQUIPOISE_BUNDLE_DIR", str(root))
    return root


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def open_page(page: str, cohort: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(page)
    at.run()
    if cohort:
        at.sidebar.selectbox(key="w.cohort").set_value(cohort)
        at.run()
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.info] + [e.value for e in at.warning]
    parts += [e.value for e in at.error] + [e.value for e in at.caption]
    return "\n".join(map(str, parts))


@pytest.mark.parametrize("cohort", ["actg175", "colon", "warfarin"])
@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_for_each_cohort(bundle_root, page, cohort):
    at = open_page(page, cohort)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == PAGES[page]
    assert at.session_state["eq.cohort"] == cohort


def use_form(at: AppTest, **values) -> AppTest:
    at.sidebar.radio(key="w.source").set_value("New patient (form)")
    at.run()
    cohort = at.session_state["eq.cohort"]
    for name, value in values.items():
        widget = at.sidebar.number_input(key=f"form.{cohort}.{name}") if isinstance(value, (int, float)) \
            else at.sidebar.selectbox(key=f"form.{cohort}.{name}")
        widget.set_value(value)
    at.sidebar.button[0].click()
    at.run()
    return at


def test_bad_form_value_shows_the_fields_error_and_no_prediction(bundle_root):
    at = use_form(open_page("pages/patient.py"), weight_kg=700)
    assert not at.exception
    message = "The 'weight_kg' field must be a number in the range [20, 300] kg. Got 700 instead."
    assert message in [e.value for e in at.error]
    assert not at.get("plotly_chart") and not at.metric  # nothing predicted for a refused patient


def test_patient_in_small_group_sees_the_warning_banner(bundle_root):
    at = use_form(open_page("pages/patient.py"), sex="female", age_years=55)
    assert not at.exception
    banners = [w.value for w in at.warning]
    assert any("Underrepresented group" in b and "female x ≥50" in b and "training patients" in b for b in banners)


def test_patient_page_shows_every_arm_interval_and_the_difference(bundle_root):
    at = open_page("pages/patient.py")
    assert any("Among patients like this" in i.value for i in at.info)
    assert "95% interval" in texts(at) and "stays favoured in" in texts(at)
    assert len(at.get("plotly_chart")) >= 4  # arms, difference, icon array, explanation(s)


def test_moving_a_what_if_slider_changes_the_displayed_prediction(bundle_root):
    at = open_page("pages/what_if.py")
    before = [m.value for m in at.metric]
    (weight,) = [s for s in at.slider if s.label.startswith("Weight")]
    assert weight.disabled  # body weight is not a treatment lever in ACTG 175: locked until unlocked
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


def test_immutable_features_are_locked_until_unlocked(bundle_root):
    at = open_page("pages/what_if.py")
    (race,) = [s for s in at.selectbox if s.label.startswith("Race")]
    assert race.disabled
    at.toggle[0].set_value(True)
    at.run()
    (race,) = [s for s in at.selectbox if s.label.startswith("Race")]
    assert not race.disabled


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
