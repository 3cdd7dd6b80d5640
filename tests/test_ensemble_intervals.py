"""The ensemble's interval methods against scipy/numpy, and the half-vs-half stability of its interval ends."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit, logit

from core.modeling.heldout import bundle_cohort
from core.uncertainty.ensemble import N_MEMBERS, interval_ends
from core.uncertainty.stability import half_disagreement


@pytest.fixture
def risks():
    rng = np.random.default_rng(0)
    return expit(rng.normal(-1.0, 0.4, size=(N_MEMBERS, 7)))


def test_risk_interval_is_normal_on_the_log_odds_scale(risks):
    lo, hi = interval_ends(risks, level=0.95, method="normal", kind="risk")
    l = logit(risks)
    ref = stats.norm.interval(0.95, loc=l.mean(axis=0), scale=l.std(axis=0, ddof=1))  # scipy, on log-odds
    np.testing.assert_allclose(lo, expit(ref[0]), rtol=1e-12)
    np.testing.assert_allclose(hi, expit(ref[1]), rtol=1e-12)
    assert (lo > 0).all() and (hi < 1).all()


def test_difference_interval_is_normal_on_the_risk_difference_scale(risks):
    d = risks[:, :3] - risks[:, 3:6]
    lo, hi = interval_ends(d, level=0.9, method="normal", kind="difference")
    ref = stats.norm.interval(0.9, loc=d.mean(axis=0), scale=d.std(axis=0, ddof=1))
    np.testing.assert_allclose(lo, ref[0], rtol=1e-12)
    np.testing.assert_allclose(hi, ref[1], rtol=1e-12)


def test_percentile_method_is_numpys_percentile(risks):
    lo, hi = interval_ends(risks, level=0.95, method="percentile", kind="risk")
    np.testing.assert_allclose(lo, np.percentile(risks, 2.5, axis=0), rtol=1e-12)
    np.testing.assert_allclose(hi, np.percentile(risks, 97.5, axis=0), rtol=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "bca", "kind": "risk"}, r"'method' of an ensemble interval must be one of \['normal', 'percentile'\]"),
    ({"method": "normal", "kind": "odds"}, r"'kind' of an ensemble interval must be 'risk' or 'difference'. Got 'odds'"),
])
def test_bad_method_or_kind_is_refused(risks, kwargs, match):
    with pytest.raises(ValueError, match=match):
        interval_ends(risks, level=0.95, **kwargs)


def test_interval_without_kind_stays_inside_0_1_for_risks(bundles):
    ens = bundles("actg175").ensemble
    tiny = np.full(N_MEMBERS, 0.01) + np.linspace(0, 0.02, N_MEMBERS)
    lo, hi = ens.interval(tiny)
    assert 0.0 <= lo < hi <= 1.0
    assert ens.interval(tiny, kind="risk") == pytest.approx(tuple(
        float(v[0]) for v in interval_ends(tiny[:, None], level=ens.level, method="normal", kind="risk")))


def test_identical_halves_agree_exactly(bundles):
    b = bundles("colon")
    ens = b.ensemble
    doubled = replace(ens, members=ens.members[:10] + ens.members[:10])
    frame = bundle_cohort(b).frame.head(30)
    result = half_disagreement(doubled, frame, list(b.spec.arms))
    assert result.arms.max_points == 0 and result.differences.max_points == 0


def test_half_disagreement_matches_a_direct_computation(bundles):
    b = bundles("colon")
    arms, frame = list(b.spec.arms), bundle_cohort(b).frame.head(40)
    result = half_disagreement(b.ensemble, frame, arms)
    half = len(b.ensemble.members) // 2
    ends = []
    for members in (b.ensemble.members[:half], b.ensemble.members[half:2 * half]):
        r = np.stack([replace(b.ensemble, members=members).risks(frame.assign(arm=a)) for a in arms], axis=1)
        d = r[:, 0] - r[:, 2]  # arms[0] vs arms[2]
        ref = stats.norm.interval(b.ensemble.level, loc=d.mean(axis=0), scale=d.std(axis=0, ddof=1))
        ends.append(np.concatenate(ref))
    direct = 100 * np.abs(ends[0] - ends[1])
    pair = result.by_pair[f"{arms[0]} vs {arms[2]}"]
    assert pair.median_points == pytest.approx(np.median(direct)) and pair.max_points == pytest.approx(direct.max())


@pytest.mark.parametrize("name", ["actg175", "colon"])
def test_bundle_stores_the_method_and_the_stability_on_the_test_split(bundles, name):
    u = bundles(name).uncertainty
    assert u.interval_method["n_members"] == N_MEMBERS == len(bundles(name).ensemble.members)
    assert "normal approximation" in u.interval_method["method"] and u.interval_method["guarantee"].startswith("none")
    s = u.stability
    assert s["split"] == "test" and s["members_per_half"] == N_MEMBERS // 2
    # measured: with the normal approximation the two halves agree to about a point or better on most ends
    assert s["arm_ends"]["median_points"] < 2.0 and s["difference_ends"]["median_points"] < 1.0


def test_normal_approximation_is_more_stable_than_percentiles_of_the_same_members(bundles):
    b = bundles("actg175")
    frame = bundle_cohort(b).frame.sample(200, random_state=0)
    normal = half_disagreement(b.ensemble, frame, list(b.spec.arms), method="normal")
    pct = half_disagreement(b.ensemble, frame, list(b.spec.arms), method="percentile")
    assert normal.arms.p90_points < pct.arms.p90_points and normal.differences.p90_points < pct.differences.p90_points
