"""to_dict / from_dict (pure JSON, no pickle) and groups_of."""

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from core._errors import BundleIntegrityError
from core.fairness import GroupResult, MetricValue, SubgroupAudit, audit_subgroups
from core.fairness.audit import MSG_BAD_DICT


@pytest.fixture(scope="module")
def audit():
    rng = np.random.default_rng(0)
    n = 1200
    groups = pd.DataFrame({
        "race": rng.choice(["White", "Black", "Asian", "Tiny"], n, p=[0.55, 0.3, 0.13, 0.02]),
        "sex": rng.choice(["female", "male"], n),
    })
    p = rng.uniform(0.05, 0.95, n)
    y = (rng.random(n) < p).astype(int)
    train = groups.sample(500, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return audit_subgroups(y, p, groups, n_boot=30, train_groups=train,
                               interval=np.column_stack([p - 0.5, p + 0.5]))


def test_round_trip_through_json(audit):
    raw = audit.to_dict()
    text = json.dumps(raw, allow_nan=False)  # pure JSON: no NaN, no numpy types
    back = SubgroupAudit.from_dict(json.loads(text))
    assert back == audit
    assert back.to_dict() == raw
    pd.testing.assert_frame_equal(back.by_group, audit.by_group)


def test_json_shape(audit):
    raw = audit.to_dict()
    assert set(raw) == {"overall", "groups", "settings"}
    assert raw["overall"]["n"] == 1200
    assert set(raw["overall"]["metrics"]["auc"]) == {"value", "ci_low", "ci_high"}
    group = raw["groups"][0]
    assert set(group) == {"attribute", "group", "n", "share", "train_n", "train_share", "metrics"}
    assert set(group["metrics"]) == {"auc", "brier", "calibration_intercept", "calibration_slope",
                                     "outcome_rate", "mean_predicted", "coverage"}
    # auc may flag: it carries its test; brier is reported against the rest but never tested
    assert set(group["metrics"]["auc"]) == {"value", "ci_low", "ci_high", "flagged", "complement", "difference",
                                            "difference_ci_low", "difference_ci_high", "p_value", "p_adjusted",
                                            "correction"}
    assert group["metrics"]["auc"]["correction"] == "holm"
    assert set(group["metrics"]["brier"]) == {"value", "ci_low", "ci_high", "flagged", "complement", "difference",
                                              "difference_ci_low", "difference_ci_high"}
    for key in ("n_boot", "seed", "confidence", "min_sizes", "correction", "alpha", "n_tests", "flag_metrics"):
        assert key in raw["settings"]


def test_groups_of_a_patient(audit):
    entries = audit.groups_of({"race": "Black", "sex": "female", "age": 71})
    assert [(e.attribute, e.group) for e in entries] == [
        ("race", "Black"), ("sex", "female"), ("race x sex", "Black x female")]
    assert all(isinstance(e, GroupResult) and e.n > 0 for e in entries)
    assert [(e.attribute, e.group) for e in audit.groups_of({"sex": "male"})] == [("sex", "male")]


def test_groups_of_a_group_absent_from_the_audit(audit):
    entry = audit.groups_of({"race": "Pacific Islander"})[0]
    assert (entry.n, entry.group) == (0, "Pacific Islander")
    assert all(mv.insufficient_data and mv.reason == "n=0 < 50" for mv in entry.metrics.values())


def test_groups_of_survives_the_round_trip(audit):
    back = SubgroupAudit.from_dict(json.loads(json.dumps(audit.to_dict())))
    assert back.groups_of({"race": "Asian", "sex": "male"}) == audit.groups_of({"race": "Asian", "sex": "male"})


def test_difference_and_flagged_tables(audit):
    table = audit.difference()
    assert list(table.columns) == ["attribute", "group", "metric", "difference", "difference_ci_low",
                                   "difference_ci_high", "p_value", "p_adjusted", "flagged"]
    assert set(audit.difference("auc")["metric"]) == {"auc"}
    assert "Tiny" not in set(table["group"])  # insufficient data has no difference
    assert all(isinstance(f, tuple) and len(f) == 3 for f in audit.flagged())


def test_metric_value_dicts():
    assert MetricValue.insufficient("n=3 < 50").to_dict() == {"insufficient_data": True, "reason": "n=3 < 50"}
    assert MetricValue(0.7, 0.6, 0.8).to_dict(with_difference=False) == {
        "value": 0.7, "ci_low": 0.6, "ci_high": 0.8}


@pytest.mark.parametrize("raw", [{}, {"overall": {"n": 3}}, {"overall": {"n": 3, "metrics": {}}, "groups": [{}]}])
def test_from_dict_refuses_malformed_input(raw):
    with pytest.raises(BundleIntegrityError, match=re.escape(MSG_BAD_DICT.split("{")[0])):
        SubgroupAudit.from_dict(raw)


def test_group_accessor(audit):
    entry = audit.group("race x sex", "Black x female")
    assert isinstance(entry, GroupResult) and entry.n > 0
    with pytest.raises(KeyError, match="no group 'Martian' of 'race'"):
        audit.group("race", "Martian")


def test_an_added_metric_is_owned_by_the_audit_and_survives_json(audit):
    note = "active arms pooled vs the reference arm"
    overall = MetricValue(0.55, 0.5, 0.6, flagged=False, compared=False, note=note)
    by_group = {("race", "White"): MetricValue(0.52, 0.45, 0.6, flagged=False, compared=False, note=note)}
    extended = audit.with_metric("c_for_benefit", overall=overall, by_group=by_group)
    assert "c_for_benefit" not in audit.overall  # a new audit; the original is unchanged
    assert extended.overall["c_for_benefit"] == overall
    assert extended.group("race", "White").metrics["c_for_benefit"] == by_group[("race", "White")]
    assert extended.group("race", "Black").metrics["c_for_benefit"] == MetricValue.insufficient("not computed")
    raw = extended.to_dict()
    shape = {"value": 0.55, "ci_low": 0.5, "ci_high": 0.6, "flagged": False, "note": note}
    assert raw["overall"]["metrics"]["c_for_benefit"] == shape
    white = next(g for g in raw["groups"] if (g["attribute"], g["group"]) == ("race", "White"))
    assert white["metrics"]["c_for_benefit"] == {**shape, "value": 0.52, "ci_low": 0.45}
    back = SubgroupAudit.from_dict(json.loads(json.dumps(raw)))
    assert back == extended and back.to_dict() == raw
    with pytest.raises(ValueError, match="already reports a metric 'c_for_benefit'"):
        extended.with_metric("c_for_benefit", overall=overall, by_group={})


def test_an_audit_of_the_old_format_is_refused_with_what_to_do(audit):
    raw = audit.to_dict()
    raw["settings"]["version"] = 1  # groups compared with overall, flags uncorrected
    with pytest.raises(BundleIntegrityError, match="format version 1.*train the bundle again"):
        SubgroupAudit.from_dict(raw)
