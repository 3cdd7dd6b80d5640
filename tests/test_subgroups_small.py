"""Groups too small for a metric are reported as insufficient data, never as a number."""

import warnings

import numpy as np
import pandas as pd
import pytest

from core._errors import SmallSubgroupWarning
from core.fairness import audit_subgroups


def cohort_with_tiny_group(n=1000, tiny=12, seed=0):
    rng = np.random.default_rng(seed)
    race = np.array(["White"] * (n - 300 - tiny) + ["Black"] * 300 + ["Tiny"] * tiny)
    groups = pd.DataFrame({"race": race, "sex": rng.choice(["female", "male"], n)})
    p = rng.uniform(0.05, 0.95, n)
    y = (rng.random(n) < p).astype(int)
    return y, p, groups


def test_tiny_group_is_insufficient_data_and_warned_once():
    y, p, groups = cohort_with_tiny_group()
    with pytest.warns(SmallSubgroupWarning, match=r"race=Tiny \(n=12 < 50\)") as record:
        audit = audit_subgroups(y, p, groups, n_boot=20)
    assert len([w for w in record if issubclass(w.category, SmallSubgroupWarning)]) == 1
    entry = next(g for g in audit.groups if g.group == "Tiny")
    assert entry.n == 12
    for mv in entry.metrics.values():
        assert mv.insufficient_data and mv.value is None and not mv.flagged
    assert entry.to_dict()["metrics"]["auc"] == {"insufficient_data": True, "reason": "n=12 < 50"}
    rows = audit.by_group.query("group == 'Tiny'")
    assert rows["insufficient"].all() and rows["value"].isna().all()
    assert not any(f.group == "Tiny" for f in audit.flagged())


def test_few_events_blocks_auc_and_calibration_only():
    rng = np.random.default_rng(1)
    n = 600
    groups = pd.DataFrame({"site": ["A"] * 500 + ["B"] * 100})
    p = rng.uniform(0.05, 0.6, n)
    y = (rng.random(n) < p).astype(int)
    y[500:] = 0
    y[500:505] = 1  # 5 events in site B
    with pytest.warns(SmallSubgroupWarning, match=r"site=B \(events=5 < 10\)"):
        audit = audit_subgroups(y, p, groups, n_boot=10)
    metrics = next(g for g in audit.groups if g.group == "B").metrics
    for name in ("auc", "calibration_intercept", "calibration_slope"):
        assert metrics[name].insufficient_data and metrics[name].reason == "events=5 < 10"
    for name in ("brier", "outcome_rate", "mean_predicted"):
        assert not metrics[name].insufficient_data and metrics[name].value is not None


@pytest.mark.parametrize("min_group_size, expected_reason", [
    (10, None),                       # the tiny group (12) is now large enough
    (500, "n=300 < 500"),             # ... and Black (300) is not
    ({"n": 10, "events": 2}, None),
])
def test_min_group_size_is_configurable(min_group_size, expected_reason):
    y, p, groups = cohort_with_tiny_group()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        audit = audit_subgroups(y, p, groups, n_boot=0, min_group_size=min_group_size,
                                intersections=False)
    black = next(g for g in audit.groups if g.group == "Black").metrics["brier"]
    assert black.reason == expected_reason
    assert audit.settings["min_sizes"]["n"] == (min_group_size if isinstance(min_group_size, int)
                                                else min_group_size["n"])


def test_regression_minimum_is_30_patients():
    rng = np.random.default_rng(2)
    groups = pd.DataFrame({"race": ["A"] * 100 + ["B"] * 29})
    y = rng.uniform(20, 60, 129)
    with pytest.warns(SmallSubgroupWarning, match=r"race=B \(n=29 < 30\)"):
        audit = audit_subgroups(y, y + 1, groups, task="regression", n_boot=0)
    assert audit.settings["min_sizes"] == {"n": 30}


def test_zero_weight_patients_do_not_count_towards_the_minimum():
    y, p, groups = cohort_with_tiny_group(tiny=60)
    w = np.ones(y.size)
    w[-60:-20] = 0  # 40 of the 60 censored before the horizon
    with pytest.warns(SmallSubgroupWarning, match=r"race=Tiny \(n=20 < 50\)"):
        audit = audit_subgroups(y, p, groups, sample_weight=w, n_boot=0)
    assert next(g for g in audit.groups if g.group == "Tiny").n == 60  # rows, as audited


def test_no_warning_when_every_group_is_large():
    rng = np.random.default_rng(3)
    groups = pd.DataFrame({"sex": rng.choice(["female", "male"], 800)})
    p = rng.uniform(0.1, 0.9, 800)
    y = (rng.random(800) < p).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        audit_subgroups(y, p, groups, n_boot=5)
