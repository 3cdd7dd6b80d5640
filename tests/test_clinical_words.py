"""Every code name a person could see has clinical words: refusals, model-card and audit tables, subgroup
labels, monitoring alerts, training conditions, the no-lever message. Checked against the specs themselves
(each feature's label and unit) and against a plain regular expression for code names."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from core import PatientValidationError
from core.data.cohorts import load_spec
from core.data.template import patient_template
from core.data.validation import validate_patient
from core.explain.counterfactual import no_actionable_message
from core.reporting import tables, words

COHORTS = ("actg175", "colon", "warfarin")
CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\w\[[^\]]*\]")  # snake_case, or name[detail]
SHARE = re.compile(r"(?<![\d.+\-−])0\.\d{4,}")  # a share written as 0.4741


def _codes(text: str) -> list[str]:
    return CODE.findall(str(text))


@pytest.mark.parametrize("cohort", COHORTS)
def test_a_missing_field_is_named_by_its_label_with_its_allowed_values_in_words(cohort):
    spec = load_spec(cohort)
    for f in spec.features:
        record = {k: v for k, v in patient_template(spec)["patient"].items() if v is not ...}
        record[f.name] = None
        if not f.required:
            continue
        with pytest.raises(PatientValidationError) as info:
            validate_patient(spec, record)
        (error,) = info.value.errors
        assert error.field == f.name
        assert error.message.startswith(f"{f.label} is required: "), error.message
        assert not _codes(error.message), error.message
        if f.type == "binary":
            assert error.message.endswith("is required: yes or no.")
        elif f.unit:
            assert error.message.endswith(f" {f.unit}."), error.message


@pytest.mark.parametrize("field, value, message", [
    ("symptomatic", None, "Symptomatic HIV infection is required: yes or no."),
    ("symptomatic", 2, "Symptomatic HIV infection must be yes or no. Got 2 instead."),
    ("cd4_cells_per_ul", 5000, "CD4 count at baseline must be a whole number from 0 to 3000 cells/µL. Got 5000 instead."),
    ("prior_non_zdv_art", "maybe", "Prior non-zidovudine antiretroviral therapy must be yes or no. Got 'maybe' (text) "
                                   "instead."),
    ("art_history", "long", "Antiretroviral history must be naive, 1-52 weeks or >52 weeks. Got 'long' (text) instead."),
])
def test_refusals_read_in_clinical_words(field, value, message):
    spec = load_spec("actg175")
    record = {k: v for k, v in patient_template(spec)["patient"].items() if v is not ...}
    record[field] = value
    with pytest.raises(PatientValidationError, match=re.escape(message)):
        validate_patient(spec, record)


def test_an_unusual_value_is_named_by_its_label():
    spec = load_spec("actg175")
    record = {k: v for k, v in patient_template(spec)["patient"].items() if v is not ...}
    record["weight_kg"] = 200
    with pytest.warns(Warning):
        patient = validate_patient(spec, record)
    (note,) = [w for w in patient.warnings if w["kind"] == "implausible_value"]
    assert note["message"].startswith("Weight 200 kg is outside the plausible range 35 to 160 kg")


@pytest.mark.parametrize("name, label", [
    ("auc", "Discrimination (AUC; 0.5 is chance, 1 is perfect)"),
    ("c_for_benefit[Lev vs Obs]", "Benefit ranking (c-for-benefit; 0.5 is chance), Lev vs Obs"),
    ("calibration_slope_ci_high", "Calibration slope, upper end of the 95% interval"),
    ("cv_calibration_slope", "Calibration slope, cross-validated on the training patients"),
    ("black_white_mae_gap", "Black − White gap in mean absolute error (mg/week)"),
    ("some_new_metric", "Some new metric"),  # a name without a label still reads as words
])
def test_metric_labels(name, label):
    assert words.metric_label(name) == label


@pytest.mark.parametrize("share, text", [(0.4741, "47.4%"), (0.05361596009975062, "5.4%"), (1.0, "100.0%"),
                                         (0.0, "0.0%"), (None, "—"), (float("nan"), "—")])
def test_shares_are_percentages(share, text):
    assert words.percent(share) == text


@pytest.mark.parametrize("cohort, name, label", [
    ("actg175", "age_band", "Age band"), ("actg175", "race", "Race"), ("warfarin", "race x age_band", "Race × age band"),
    ("colon", "sex x age_band", "Sex × age band"),
])
def test_attribute_labels(cohort, name, label):
    assert words.attribute_label(load_spec(cohort), name) == label


def test_every_bundled_attribute_and_intersection_has_words():
    for cohort in COHORTS:
        spec = load_spec(cohort)
        names = [p.name for p in spec.protected]
        for a in names + [f"{a} x {b}" for a in names for b in names if a < b]:
            assert not _codes(words.attribute_label(spec, a)), a


def _performance() -> dict:
    model = {"name": "equipoise (linear + boosted trees)", "description": "the model", "auc": 0.7386, "brier": 0.1269,
             "c_for_benefit[ZDV+ddI vs ZDV]": 0.5796, "calibration_intercept": -0.0357, "calibration_slope": 1.2083,
             "calibration_slope_ci_low": 0.8358, "calibration_slope_ci_high": 1.6358, "cv_calibration_slope": 1.06}
    base = {**model, "name": "logistic regression", "description": "baseline", "auc": 0.7396}
    return {"rows": [model, base]}


def test_the_performance_table_has_labels_and_the_slope_with_its_interval():
    rows = tables.performance_rows(_performance())
    text = " ".join(f"{k} {v}" for r in rows for k, v in r.items())
    assert not _codes(text) and not SHARE.findall(text), text
    slope = next(r for r in rows if r["Measure"].startswith("Calibration slope (1"))
    assert slope["Equipoise model"] == "1.208 (0.836 to 1.636)"
    assert len(rows) == 6  # the interval's ends are not rows of their own
    assert next(r for r in rows if r["Measure"].startswith("Calibration intercept"))["Equipoise model"] == "−0.036"


def test_the_dose_table_writes_shares_as_percentages():
    row = {"name": "fixed 35 mg/week", "description": "d", "mae": 13.109, "within_20": 0.30544, "mean_error": 3.4,
           "black_white_mae_gap": -0.679, "asian_white_mae_gap": 1.915}
    (r_mae, r_within, *_rest) = tables.performance_rows({"rows": [row]})
    assert r_within == {"Measure": "Share within 20% of the actual dose", "Fixed 35 mg/week": "30.5%"}
    assert r_mae["Fixed 35 mg/week"] == "13.1"


def test_the_population_table_in_words():
    population = [{"attribute": "age_band", "group": "≥50", "n": 86, "share": 0.05361596009975062, "test_n": 37,
                   "test_share": 0.0691588785046729, "underrepresented": False}]
    (row,) = tables.population_rows(population, load_spec("actg175"))
    assert row == {"Group": "Age band", "Value": "≥50", "Training patients": "86 (5.4%)", "Test patients": "37 (6.9%)",
                   "Few in training": ""}


def test_the_subgroup_table_has_no_code_names_and_percent_for_shares():
    audit = {"groups": [{"attribute": "race x age_band", "group": "white x ≥50", "n": 40, "train_n": 67,
                         "train_share": 0.0418, "metrics": {"coverage": {
                             "value": 0.927, "ci_low": 0.883, "ci_high": 0.964, "complement": 0.893, "difference": 0.035,
                             "difference_ci_low": -0.01, "difference_ci_high": 0.075, "p_value": 0.73,
                             "p_adjusted": 1.0, "flagged": False}}}]}
    (row,) = tables.subgroup_rows(audit, load_spec("warfarin"), "coverage", attributes=["race x age_band"])
    text = " ".join(f"{k} {v}" for k, v in row.items())
    assert not _codes(text) and not SHARE.findall(text), text
    assert row["Interval coverage"] == "92.7% (88.3% to 96.4%)"
    assert row["Gap (group − rest)"] == "+3.5 (−1.0 to +7.5) points"
    assert row["Group"] == "Race × age band" and row["Training patients"] == "67 (4.2%)"


def test_version_rows_say_unsigned_in_words():
    rows = tables.version_rows({"bundle_id": "colon-1", "signed_by": {"signed": False, "text": "unsigned"},
                                "versions": {"numpy": "2"}})
    assert {"Item": "Signature", "Value": "not signed (no signing key is configured here)"} in rows
    assert "unsigned" not in str(rows)


class _Entry:
    def __init__(self, **body):
        self.body, self.seq, self.hash = body, body["seq"], "ab" * 32

    def __getattr__(self, name):
        return self.__dict__["body"][name]


def test_audit_entries_read_as_a_table_with_details():
    entry = _Entry(seq=7, time="2026-12-08T00:03:15.490514Z", kind="patient_report", user="dr", role="board_chair",
                   page="Patient", patient_ref="4aad651c2581ff", bundle={"id": "actg175-0bec", "sha256": "x"},
                   warnings=[{"kind": "outside_evidence", "severity": "low", "message": "m"}],
                   details={"cohort": "actg175", "what_if_changes": {"weight_kg": "70"}})
    (row,) = tables.audit_entry_rows([entry])
    assert row["What"] == "Patient report shown" and row["Time (UTC)"] == "2026-12-08 00:03:15"
    assert row["Warnings"] == "outside the trial's evidence (low)"
    details = tables.entry_detail_rows(entry, {"summary": {}, "arms": []})
    text = " ".join(f"{r['Item']} {r['Value']}" for r in details)
    assert not _codes(text), text


def test_no_lever_message_says_the_arm_is_the_only_lever():
    for cohort in ("actg175", "colon"):
        message = no_actionable_message(load_spec(cohort))
        assert message.startswith("The choice of treatment arm is the only lever in this decision")
        assert cohort not in message and "actionable" not in message


def test_monitoring_drift_alerts_name_the_feature_by_its_label():
    from core.monitoring import monitor

    rng = np.random.default_rng(0)
    n = 400
    train = pd.DataFrame({"age_years": rng.normal(40, 5, n)})
    frame = pd.DataFrame({"when": ["2026-01-05"] * n, "y": rng.integers(0, 2, n), "p": rng.uniform(0, 1, n),
                          "sex": rng.choice(["female", "male"], n), "age_years": rng.normal(70, 5, n)})
    result = monitor(frame, time_column="when", window="month", label="y", score="p", attributes=["sex"],
                     train_frame=train, features={"age_years": True}, n_boot=20, labels={"age_years": "Age"})
    (alert,) = [a for a in result.alerts() if a["kind"] == "drift"]
    assert alert["message"].startswith("The distribution of Age has shifted") and "age_years" not in alert["message"]


def test_training_conditions_in_words():
    assert words.condition_label("decide_first") == "decide first, then advice"
    assert words.condition_label("advice_first") == "advice first (for comparison)"


# --- the pages, headless (AppTest): every table, caption and text of the model card and subgroups ---------------


def _page_text(at) -> str:
    parts = [str(e.value) for kind in ("markdown", "caption", "info", "warning", "error", "title", "subheader")
             for e in at.get(kind)]
    for frame in at.dataframe:
        df = frame.value
        parts += [str(c) for c in df.columns] + [str(v) for v in df.to_numpy().ravel()]
    return "\n".join(parts)


@pytest.mark.parametrize("cohort", COHORTS)
@pytest.mark.parametrize("page", ["pages/model_card.py", "pages/subgroups.py"])
def test_the_model_card_and_subgroup_pages_show_no_code_names_or_raw_shares(bundle_root, cohort, page):
    from tests._apps import open_page, rendered

    at = open_page(page, cohort)
    assert not at.exception, [e.value for e in at.exception]
    text = rendered(_page_text(at))
    assert len(text) > 500
    codes = [c for c in _codes(text) if not re.search(re.escape(c) + r"[./]", text)]  # a file name is a file name
    assert not codes, codes
    assert not SHARE.findall(text), SHARE.findall(text)


@pytest.mark.parametrize("delta, text", [(0.0, None), (0.04, None), (-0.04, None), (0.05, "+0.1 points"),
                                         (0.9, "+0.9 points"), (-2.26, "−2.3 points".replace("−", "-"))])
def test_a_zero_change_has_no_arrow(delta, text):
    assert words.change_text(delta, "points") == text


def test_slider_values_are_shown_at_the_features_precision():
    from core.explain.sliders import _decimals, _slider

    spec = load_spec("actg175")
    weight = _slider(spec.feature("weight_kg"), 49.44, None)
    assert f"{weight.step:.{weight.decimals}f}" == f"{weight.step:g}" and weight.decimals <= 2
    assert weight.start == 49.44  # the value itself is kept: only its display is rounded (no invented change)
    assert [_decimals(s) for s in (0.5, 0.05, 1, 2, 10, 0.25)] == [1, 2, 0, 0, 0, 2]
    assert _slider(spec.feature("age_years"), 61, None).decimals == 0
