"""Issue 24's building blocks, each against an independent implementation or a known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.cohorts import load_cohort
from core.evaluation.average_effect import kaplan_meier_risk
from core.modeling.boosted import ARM_RIDGE, BoostParams, fit_logistic_partial
from core.modeling.design import Design
from core.modeling.training import labels_for
from core.uncertainty.ensemble import fit_ensemble


def test_partially_penalised_logistic_regression_matches_scikit_learn():
    # Independent solver: scikit-learn's lbfgs, with the unpenalised columns scaled by s so that their ridge is
    # divided by s² (the same objective up to that factor).
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    n = 800
    z = np.column_stack([rng.normal(size=(n, 6)), rng.integers(0, 2, (n, 2))])
    beta = np.r_[0.5, -0.3, 0.2, 0, 0, 0.1, -0.7, 0.4]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(z @ beta - 0.5)))).astype(float)
    w = rng.uniform(0.5, 2, n)
    free = np.r_[np.zeros(6, bool), np.ones(2, bool)]
    b0, b = fit_logistic_partial(z, y, w, penalty=0.05, unpenalized=free)
    s = np.where(free, 1 / np.sqrt(ARM_RIDGE), 1.0)
    lm = LogisticRegression(C=0.05, tol=1e-12, max_iter=100_000).fit(z * s, y, sample_weight=w)
    np.testing.assert_allclose(b, lm.coef_[0] * s, atol=1e-5)
    assert b0 == pytest.approx(lm.intercept_[0], abs=1e-5)
    # and the arm terms are (essentially) not shrunk: close to the unpenalised fit's, far from the ridge's
    full = LogisticRegression(C=np.inf, tol=1e-12, max_iter=100_000).fit(z, y, sample_weight=w)
    ridge = LogisticRegression(C=0.05, tol=1e-12, max_iter=100_000).fit(z, y, sample_weight=w)
    assert np.abs(b[6:] - full.coef_[0][6:]).max() < np.abs(ridge.coef_[0][6:] - full.coef_[0][6:]).max() / 3


def test_kaplan_meier_risk_matches_lifelines():
    from lifelines import KaplanMeierFitter

    cohort = load_cohort("colon")
    f = cohort.frame
    for arm in ("Obs", "Lev+5FU"):
        rows = f[f["arm"] == arm]
        risk, var = kaplan_meier_risk(rows["time1"], rows["event1"], 1826)
        km = KaplanMeierFitter().fit(rows["time1"], rows["event1"])
        assert risk == pytest.approx(1 - float(km.survival_function_at_times(1826).iloc[0]), abs=1e-12)
        # Greenwood: lifelines' interval is on the log(-log) scale; compare the variance through its own
        # variance estimate of S at the horizon (Greenwood's formula)
        s = km.survival_function_at_times(1826).iloc[0]
        t = km.event_table.loc[:1826]
        greenwood = float((t["observed"] / (t["at_risk"] * (t["at_risk"] - t["observed"]))).sum())
        assert var == pytest.approx(s * s * greenwood, rel=1e-10)


def test_the_ensemble_resamples_within_arm_and_never_fixes_the_event_count():
    cohort = load_cohort("colon")
    frame = cohort.frame.reset_index(drop=True)
    labels = labels_for(cohort)
    design = Design.fit(cohort.spec, frame)
    from core.modeling.boosted import fit_boosted

    model = fit_boosted(design, frame, labels.y, labels.weight, task="binary",
                        params=BoostParams(linear_penalty=0.3, n_trees=0), seed=0)
    arms = frame["arm"].astype(str).to_numpy()
    seen = []
    import core.uncertainty.ensemble as E

    real = E.fit_boosted

    def spy(design, rows, y, w, **kw):
        seen.append((rows["arm"].value_counts().to_dict(), float(np.sum(y * (w > 0)))))
        return real(design, rows, y, w, **kw)

    E.fit_boosted = spy
    try:
        fit_ensemble(model, frame, labels.y, labels.weight, strata=arms, n_members=12, seed=5)
    finally:
        E.fit_boosted = real
    sizes = pd.Series(arms).value_counts().to_dict()
    assert all(counts == sizes for counts, _ in seen)          # every arm keeps its size
    assert len({events for _, events in seen}) > 6              # the number of events varies between refits


def test_average_effect_interval_is_as_wide_as_the_trials_own(bundles):
    # The model cannot know the average effect better than the trial: its interval is at least 80% as wide as
    # the Kaplan-Meier interval of the same difference (it was about a third before issue 24).
    for name in ("colon", "actg175"):
        effects = bundles(name).uncertainty.average_effect
        assert effects, name
        for e in effects:
            assert e["width_ratio"] >= 0.8, (name, e)
            lo, hi = e["trial_interval"]
            assert lo - 0.05 <= e["model"] <= hi + 0.05, (name, e)


def test_actg175_does_not_separate_ddi_from_zdv_ddi(bundles):
    # The trial cannot tell these arms apart (Cox HR 0.84, 0.65-1.09); before issue 24, 534 of 535 test reports
    # separated them.
    from core.scale.batch import report_columns_ignored, score_chunk
    from core.modeling.heldout import held_out_records

    bundle = bundles("actg175")
    records = held_out_records(bundle)
    out = score_chunk(bundle, records, first_row=0, explanations=False, id_column="patient_id",
                      ignore=(*report_columns_ignored(bundle.spec), "patient_id"))
    assert len(out) == len(records) > 500 and all("pairwise" in r for r in out)  # every held-out patient reported
    separated = 0
    for r in out:
        pair = next(p for p in r["pairwise"] if {p["a"], p["b"]} == {"ddI", "ZDV+ddI"})
        lo, hi = pair["interval"]
        separated += lo > 0 or hi < 0
    assert separated <= 0.05 * len(out), separated


def test_trials_use_risk_modelling_unless_heterogeneity_is_validated(bundles):
    for name in ("colon", "actg175"):
        b = bundles(name)
        het = b.training.heterogeneity
        assert het is not None and het["chosen"] in ("risk modelling", "effect modelling")
        assert b.model.design.effect_modelling == het["effect_modelling"]
        if not het["effect_modelling"]:
            # the trees cannot split on the arm: a patient's log odds ratio is the same for everyone
            frame = load_cohort(name).frame.head(50)
            ref = b.spec.treatment.reference
            for arm in b.spec.arms:
                d = b.model.raw(frame, arm) - b.model.raw(frame, ref)
                assert np.ptp(d) < 1e-9, (name, arm)


def test_the_model_card_shows_the_modelling_choice_and_the_average_effect_beside_the_trial(bundles):
    from core import service

    card = service.model_card(bundles("colon")).to_dict()
    effect = card["treatment_effect"]
    assert effect["modelling"] == "risk modelling" and "not validated" in effect["statement"]
    assert [e["arm"] for e in effect["average_effect"]] == ["Lev", "Lev+5FU"]
    assert service.model_card(bundles("warfarin")).to_dict()["treatment_effect"] is None
