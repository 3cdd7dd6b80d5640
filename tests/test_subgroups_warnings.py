"""A patient's group warnings: severity policy and plain clinical words (numbers stay in the fields)."""

import pytest

from core.fairness import GroupResult, MetricValue, RepresentationPolicy, SubgroupAudit
from core.fairness.patient_warnings import _group_warnings, group_label

JARGON = ("calibration", "brier", "c-for-benefit", "auc", "mape", "p-value", "holm", "intercept", "slope", "_")


def audit_with(metric, value, rest, *, p_adjusted, train_n=500, train_share=0.2, outcome_rate=0.30,
               mean_predicted=0.45):
    flagged = p_adjusted < 0.05
    mv = MetricValue(value, value - 0.1, value + 0.1, difference=value - rest, difference_ci_low=value - rest - 0.05,
                     difference_ci_high=value - rest + 0.05, flagged=flagged, complement=rest,
                     p_value=p_adjusted / 10, p_adjusted=p_adjusted, correction="holm")
    metrics = {metric: mv, "outcome_rate": MetricValue(outcome_rate), "mean_predicted": MetricValue(mean_predicted)}
    group = GroupResult("race x age_band", "Black x ≥50", 120, 0.2, metrics, train_n=train_n, train_share=train_share)
    overall = {metric: MetricValue(rest), "outcome_rate": MetricValue(0.3), "mean_predicted": MetricValue(0.3)}
    return SubgroupAudit(n=600, overall=overall, groups=(group,),
                         settings={"attributes": ["race", "age_band"], "intersections": True, "n_tests": 40})


def worse(audit):
    return [w for w in _group_warnings(audit, {"race": "Black", "age_band": "≥50"}, 2000, RepresentationPolicy())
            if w["kind"] == "worse_performance"]


@pytest.mark.parametrize("metric, value, rest, expected", [
    ("calibration_intercept", -0.8, 0.0, "on average they were too high (30% had the outcome, 45% was estimated)"),
    ("calibration_intercept", 0.8, 0.0, "on average they were too low"),
    ("calibration_slope", 0.5, 1.0, "its highest and lowest estimates were too extreme"),
    ("calibration_slope", 1.6, 1.0, "its estimates were too close together"),
    ("auc", 0.60, 0.75, "less able than for other patients to tell those who went on to have the outcome"),
    ("within_20", 0.30, 0.45, "within 20% of the dose finally needed for 30% of held-out test patients, against 45%"),
    ("mape", 0.40, 0.25, "off by 40% of the dose finally needed on average, against 25%"),
])
def test_worse_performance_message_in_plain_words_with_numbers_in_fields(metric, value, rest, expected):
    (w,) = worse(audit_with(metric, value, rest, p_adjusted=0.01))
    assert expected in w["message"]
    assert w["message"].startswith("For patients in the same group as this patient (race and age band: Black, ≥50), ")
    assert "allowing for the 40 comparisons" in w["message"]
    assert not any(term in w["message"].lower() for term in JARGON), w["message"]
    assert (w["metric"], w["value"], w["rest"], w["p_adjusted"], w["correction"]) == (metric, value, rest, 0.01, "holm")
    assert w["p_value"] == pytest.approx(0.001) and w["n_tests"] == 40 and w["severity"] == "medium"


@pytest.mark.parametrize("value, p_adjusted, severity", [
    (0.20, 1e-5, "high"),     # 25 points fewer within 20%, strongly significant
    (0.40, 1e-5, "medium"),   # a small gap, however significant
    (0.20, 0.01, "medium"),   # a large gap, only moderately significant
])
def test_worse_performance_severity(value, p_adjusted, severity):
    (w,) = worse(audit_with("within_20", value, 0.45, p_adjusted=p_adjusted))
    assert w["severity"] == severity


def test_unflagged_metric_gives_no_warning():
    assert worse(audit_with("within_20", 0.40, 0.45, p_adjusted=0.2)) == []


@pytest.mark.parametrize("train_n, share, severity", [(30, 0.2, "medium"), (400, 0.01, "low")])
def test_underrepresented_severity(train_n, share, severity):
    audit = audit_with("within_20", 0.4, 0.45, p_adjusted=0.5, train_n=train_n, train_share=share)
    (w,) = [w for w in _group_warnings(audit, {"race": "Black", "age_band": "≥50"}, 2000, RepresentationPolicy())
            if w["kind"] == "underrepresented" and w["attribute"] == "race x age_band"]
    assert w["severity"] == severity and w["train_n"] == train_n
    assert f"{train_n} of 2000 training patients" in w["message"] and "age_band" not in w["message"]


def test_group_label_has_no_code_names():
    assert group_label("race x age_band", "Black x ≥50") == "race and age band: Black, ≥50"
    assert group_label("sex", "female") == "sex: female"
