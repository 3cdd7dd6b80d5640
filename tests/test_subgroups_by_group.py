"""Point estimates by group against fairlearn's MetricFrame and scikit-learn."""

import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, mean_absolute_error, roc_auc_score

from core.fairness import BINARY_METRICS, REGRESSION_METRICS, audit_subgroups


def cohort(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    groups = pd.DataFrame({
        "race": rng.choice(["White", "Black", "Asian", "Hispanic"], n, p=[0.5, 0.2, 0.15, 0.15]),
        "sex": rng.choice(["female", "male"], n),
    })
    risk = rng.normal(-1, 1, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype(int)
    p = np.round(1 / (1 + np.exp(-(risk + rng.normal(0, 0.5, n)))), 3)  # rounded: ties
    return y, p, groups


def _audit(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return audit_subgroups(*args, **kwargs)


FAIRLEARN_METRICS = {
    "auc": roc_auc_score,
    "brier": brier_score_loss,
    "outcome_rate": lambda y_true, y_pred: float(np.mean(y_true)),
    "mean_predicted": lambda y_true, y_pred: float(np.mean(y_pred)),
}
SENSITIVE = {"race": ["race"], "sex": ["sex"], "race x sex": ["race", "sex"]}


@pytest.mark.parametrize("attribute", list(SENSITIVE))
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_point_estimates_match_fairlearn(attribute, weighted):
    y, p, groups = cohort()
    w = np.random.default_rng(1).uniform(0.5, 2, y.size) if weighted else None
    audit = _audit(y, p, groups, n_boot=0, sample_weight=w)
    columns = SENSITIVE[attribute]
    metrics, params = FAIRLEARN_METRICS, None
    if w is not None:
        metrics = dict(FAIRLEARN_METRICS,
                       outcome_rate=lambda t, q, sample_weight: np.average(t, weights=sample_weight),
                       mean_predicted=lambda t, q, sample_weight: np.average(q, weights=sample_weight))
        params = {name: {"sample_weight": w} for name in metrics}
    frame = MetricFrame(metrics=metrics, y_true=y, y_pred=p,
                        sensitive_features=groups[columns] if len(columns) > 1 else groups[columns[0]],
                        sample_params=params)
    table = audit.by_group.query("attribute == @attribute")
    assert set(table["group"]) == {" x ".join(k) if isinstance(k, tuple) else k for k in frame.by_group.index}
    for row in table.itertuples():
        if row.metric in metrics:
            key = tuple(row.group.split(" x ")) if len(columns) > 1 else row.group
            assert row.value == pytest.approx(frame.by_group.loc[key, row.metric], abs=1e-12), row
    for name in metrics:
        assert audit.overall[name].value == pytest.approx(frame.overall[name], abs=1e-12)


def test_calibration_by_group_matches_sklearn():
    y, p, groups = cohort()
    audit = _audit(y, p, groups, n_boot=0)
    x = np.log(p / (1 - p))
    for race in groups["race"].unique():
        member = (groups["race"] == race).to_numpy()
        fit = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x[member, None], y[member])
        entry = next(g for g in audit.groups if g.attribute == "race" and g.group == race)
        assert entry.metrics["calibration_slope"].value == pytest.approx(fit.coef_[0, 0], abs=1e-5)


def test_regression_by_group_matches_sklearn():
    rng = np.random.default_rng(3)
    _, _, groups = cohort(800)
    y = rng.uniform(15, 70, 800)
    pred = y * rng.uniform(0.7, 1.3, 800)
    audit = _audit(y, pred, groups, task="regression", n_boot=0)
    assert tuple(audit.overall) == REGRESSION_METRICS
    for entry in audit.groups:
        if entry.attribute != "sex":
            continue
        member = (groups["sex"] == entry.group).to_numpy()
        assert entry.metrics["mae"].value == pytest.approx(mean_absolute_error(y[member], pred[member]))
        assert entry.metrics["mean_error"].value == pytest.approx(np.mean(pred[member] - y[member]))
        within = np.mean(np.abs(pred[member] - y[member]) <= 0.2 * y[member])
        assert entry.metrics["within_20"].value == pytest.approx(within)


def test_groups_sizes_shares_and_intersection_names():
    y, p, groups = cohort(1000)
    audit = _audit(y, p, groups, n_boot=0)
    assert audit.attributes == ("race", "sex", "race x sex")
    assert tuple(audit.overall) == BINARY_METRICS
    entry = next(g for g in audit.groups if g.attribute == "race x sex" and g.group == "Black x female")
    expected = int(((groups["race"] == "Black") & (groups["sex"] == "female")).sum())
    assert entry.n == expected and entry.share == pytest.approx(expected / 1000)
    for attribute in ("race", "sex", "race x sex"):
        assert sum(g.n for g in audit.groups if g.attribute == attribute) == 1000
    assert {g.attribute for g in _audit(y, p, groups, n_boot=0, intersections=False).groups} == {"race", "sex"}


def test_train_counts_beside_test_counts():
    y, p, groups = cohort(1000)
    train = pd.DataFrame({"race": ["White"] * 6 + ["Black"] * 4, "sex": ["female", "male"] * 5})
    audit = _audit(y, p, groups, n_boot=0, train_groups=train)
    by = {(g.attribute, g.group): g for g in audit.groups}
    assert (by["race", "White"].train_n, by["race", "White"].train_share) == (6, 0.6)
    assert (by["race", "Asian"].train_n, by["race", "Asian"].train_share) == (0, 0.0)
    assert by["race x sex", "Black x male"].train_n == 2
    assert {"train_n", "train_share"} <= set(audit.by_group.columns)


def test_interval_coverage():
    y, p, groups = cohort(1000)
    interval = np.column_stack([p - 0.3, p + 0.3])
    audit = _audit(y, p, groups, n_boot=0, interval=interval)
    inside = (y >= interval[:, 0]) & (y <= interval[:, 1])
    assert audit.overall["coverage"].value == pytest.approx(inside.mean())


def test_numeric_attribute_values_are_labels():
    y, p, groups = cohort(600)
    groups = groups.assign(sex=(groups["sex"] == "male").astype(int))
    audit = _audit(y, p, groups, n_boot=0)
    assert {g.group for g in audit.groups if g.attribute == "sex"} == {"0", "1"}
