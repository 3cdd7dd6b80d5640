"""Trainee-mode cases: drawn from the held-out test split only, truth from the observed outcome (censored
before the horizon left out, never a non-event), manipulated advice wrong by construction, all seeded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.training import (CaseTruth, TrainingSetupError, case_truths, is_correct, manipulate, manipulated_positions,
                           sample_cases, shown_advice)
from core.data import load_cohort


class _Outcome:
    def __init__(self, **kw):
        self.type, self.column, self.time_column, self.event_column, self.horizon = (
            kw.get("type"), kw.get("column"), kw.get("time_column"), kw.get("event_column"), kw.get("horizon"))


class _Spec:
    def __init__(self, is_dose, outcome):
        self.is_dose, self.outcome = is_dose, outcome


def test_time_to_event_truth_excludes_censored_before_the_horizon():
    frame = pd.DataFrame({"patient_id": ["a", "b", "c", "d", "e", "f"], "arm": ["X", "Y", "X", "Y", "X", "Y"],
                          "days": [100, 400, 200, 365, 365, 500], "died": [1, 1, 0, 0, 1, 0]})
    spec = _Spec(False, _Outcome(type="time_to_event", time_column="days", event_column="died", horizon=365))
    truths = {t.patient_id: t for t in case_truths(spec, frame)}
    # a: event by horizon; b: event after it (event-free at the horizon); c: censored before it (unknown);
    # d: censored exactly at the horizon (event-free); e: event at the horizon; f: followed past it
    assert {k: v.truth for k, v in truths.items()} == {"a": 1.0, "b": 0.0, "d": 0.0, "e": 1.0, "f": 0.0}
    assert truths["a"].arm == "X" and truths["b"].arm == "Y"


def test_dose_truth_is_the_actual_stable_dose():
    frame = pd.DataFrame({"patient_id": ["a", "b"], "dose": [35.0, np.nan]})
    truths = case_truths(_Spec(True, _Outcome(type="continuous", column="dose")), frame)
    assert truths == [CaseTruth("a", 35.0, None)]


def test_bundled_cohort_truths_match_the_horizon_rule():
    cohort = load_cohort("actg175")
    truths = case_truths(cohort.spec, cohort.frame)
    o = cohort.spec.outcome
    known = ((cohort.frame[o.event_column] == 1) & (cohort.frame[o.time_column] <= o.horizon)) | (
        cohort.frame[o.time_column] >= o.horizon)
    assert len(truths) == int(known.sum()) < cohort.n  # some are censored before the horizon


@pytest.mark.parametrize("seed", range(6))
def test_cases_come_from_the_test_split_only(seed):
    rng = np.random.default_rng(seed)
    truths = [CaseTruth(f"p{i}", float(rng.random() < 0.3), "A") for i in range(300)]
    test_ids = {f"p{i}" for i in rng.choice(300, size=75, replace=False)}
    cases = sample_cases(truths, test_ids=test_ids, n_cases=40, seed=seed)
    assert len({c.patient_id for c in cases}) == 40 and {c.patient_id for c in cases} <= test_ids
    assert sample_cases(truths, test_ids=test_ids, n_cases=40, seed=seed) == cases  # seeded
    with pytest.raises(TrainingSetupError, match=r"'cases' setting must be an integer in the range \[1, 75\]"):
        sample_cases(truths, test_ids=test_ids, n_cases=76, seed=seed)


@pytest.mark.parametrize("share, n, k", [(0.0, 20, 0), (0.25, 20, 5), (0.5, 7, 4), (1.0, 9, 9), (0.1, 3, 0)])
def test_the_manipulated_share_is_the_rounded_count(share, n, k):
    picked = manipulated_positions(n, share, seed=3)
    assert len(picked) == k and all(0 <= i < n for i in picked)
    assert picked == manipulated_positions(n, share, seed=3)


@pytest.mark.parametrize("share", [-0.1, 1.5, "0.2", float("nan")])
def test_a_bad_share_is_refused_with_the_range(share):
    with pytest.raises(TrainingSetupError, match=r"'manipulated share' setting must be a number in the range \[0, 1\]"):
        manipulated_positions(10, share, seed=1)


@pytest.mark.parametrize("seed", range(20))
def test_manipulated_doses_are_wrong_by_construction(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        truth = float(rng.uniform(7, 120))
        advice = float(truth * rng.uniform(0.5, 1.6))
        wrong = manipulate("dose", advice, truth, rng)
        assert abs(wrong - truth) > 0.2 * truth and 5 <= wrong <= 140
        moved, rounding = abs(wrong / advice - 1), 0.25 / advice  # rounded to 0.5 mg
        if 0.35 - rounding <= moved <= 0.60 + rounding:
            continue  # the usual case: the model's dose moved 35-60%
        assert abs(wrong / truth - 1) >= 0.35 - 0.25 / truth  # fallback: moved from the truth instead


@pytest.mark.parametrize("seed", range(10))
def test_manipulated_risks_are_on_the_wrong_side(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        truth = float(rng.random() < 0.4)
        advice = float(rng.uniform(0.01, 0.99))
        wrong = manipulate("risk", advice, truth, rng)
        assert not is_correct("risk", wrong, truth) and 0.02 <= wrong <= 0.98
        assert abs(wrong - 0.5) >= min(0.1, abs(advice - 0.5)) - 1e-9


def test_shown_advice_changes_exactly_the_chosen_positions_and_is_seeded():
    advice, truths = [30.0, 40.0, 50.0, 60.0], [31.0, 42.0, 48.0, 59.0]
    shown = shown_advice("dose", advice, truths, {1, 3}, seed=9)
    assert shown[0] == 30.0 and shown[2] == 50.0 and shown[1] != 40.0 and shown[3] != 60.0
    assert shown == shown_advice("dose", advice, truths, {1, 3}, seed=9)
    assert not is_correct("dose", shown[1], 42.0) and not is_correct("dose", shown[3], 59.0)
