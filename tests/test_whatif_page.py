"""The What-if page: unknown values stay unknown, immutable features say why they are locked, and counterfactuals
are shown neutrally (never as a green success box)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests._apps import open_page, rendered


def what_if(cohort: str) -> AppTest:
    at = open_page("pages/what_if.py", cohort)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_missing_diabetes_heart_failure_and_valve_values_show_as_unknown_not_no(bundle_root):
    at = what_if("warfarin")  # the first held-out warfarin patient lacks all three
    at.toggle[0].set_value(True)  # none of them is a lever: they are widgets when exploring the model
    at.run()
    for label in ("Diabetes", "Heart failure", "Valve replacement"):
        (box,) = [s for s in at.selectbox if s.label.startswith(label)]
        assert box.options[0] == "unknown" and box.index == 0 and box.value == 0  # position 0: None, "unknown"
        assert "no" in box.options  # "no" is an option, not what is shown


def test_locked_features_say_why_and_levers_say_what_is_allowed(bundle_root):
    at = what_if("warfarin")
    captions = [rendered(c.value) for c in at.caption]  # as rendered (the text is escaped)
    assert "🔒 A genotype does not change: CYP2C9 genotype, VKORC1 −1639 G>A genotype (rs9923231)." in captions
    assert ("Taking amiodarone, Taking an enzyme inducer (carbamazepine, phenytoin, rifampin): may be stopped, not "
            "started (the search for the smallest change proposes only that).") in captions
    assert any(c.startswith("Searched only the changes a clinician could make: Taking amiodarone may be stopped, "
                            "not started;") for c in captions)
    assert not [s for s in at.selectbox if s.label.startswith("CYP2C9")]  # plan mode: only the levers are widgets
    assert [s.label for s in at.selectbox if s.label.startswith("Taking amiodarone")]


@pytest.mark.parametrize("cohort", ["actg175", "colon", "warfarin"])
def test_counterfactual_results_are_never_green(bundle_root, cohort):
    at = what_if(cohort)
    assert len(at.success) == 0
    shown = "\n".join(m.value for m in at.markdown)
    shown += "\n".join(i.value for i in at.info)
    assert "only lever" in shown or "allowed change" in shown.lower() or "No change clearly" in shown


def test_an_unknown_value_can_be_set_and_the_change_reads_from_unknown(bundle_root):
    at = what_if("warfarin")
    at.toggle[0].set_value(True)  # diabetes is not a lever: unlock to explore
    at.run()
    (box,) = [s for s in at.selectbox if s.label.startswith("Diabetes")]
    box.set_value(box.options.index("yes"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = "\n".join(m.value for m in at.markdown)
    assert "“Diabetes” were yes instead of unknown" in shown
