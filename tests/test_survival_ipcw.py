"""IPCW horizon labels against lifelines' Kaplan–Meier (an independent implementation)."""

import numpy as np
import pytest
from lifelines import KaplanMeierFitter

from core.data.cohorts import load_cohort
from core.data.survival import censoring_survival, horizon_outcome


def test_censoring_km_matches_lifelines():
    rng = np.random.default_rng(0)
    t = rng.integers(1, 60, 400).astype(float)  # many ties
    e = rng.integers(0, 2, 400)
    g = censoring_survival(t, e)
    km = KaplanMeierFitter().fit(t, 1 - e)  # censoring as the "event"
    for s in (5.0, 17.0, 30.0, 59.0):
        # G(s−) = KM of censoring just before s
        assert g(s) == pytest.approx(km.survival_function_at_times(s - 1e-9).iloc[0], abs=1e-12)


@pytest.mark.parametrize("cohort", ["actg175", "colon"])
def test_ipcw_risk_equals_one_minus_km_at_horizon(cohort):
    c = load_cohort(cohort)
    o = c.spec.outcome
    t, e = c.frame[o.time_column], c.frame[o.event_column]
    ho = horizon_outcome(t, e, o.horizon)
    km = KaplanMeierFitter().fit(t, e)
    assert np.average(ho.filled_label(), weights=ho.weight) == pytest.approx(
        1 - km.survival_function_at_times(o.horizon).iloc[0], abs=1e-5)


def test_censored_before_horizon_are_unknown_never_non_events():
    t = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    e = np.array([1, 0, 1, 0, 0])
    ho = horizon_outcome(t, e, 35.0)
    assert ho.label[0] == 1 and ho.label[2] == 1
    assert np.isnan(ho.label[1]) and ho.weight[1] == 0          # censored at 20 < 35: unknown
    assert ho.label[3] == 0 and ho.label[4] == 0                # followed past the horizon
    assert ho.n_censored_before_horizon == 1
    # the weights of the known patients make up for the one censored early
    assert ho.weight.sum() == pytest.approx(len(t))


def test_actg175_has_about_nine_percent_censored_before_two_years():
    c = load_cohort("actg175")
    ho = horizon_outcome(c.frame["days"], c.frame["cens"], 730)
    assert ho.n_censored_before_horizon == 198
