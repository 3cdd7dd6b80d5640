"""c-for-benefit (van Klaveren et al. 2018) against a slow, literal reference implementation."""

import math

import numpy as np
import pytest

from core.evaluation.metrics import c_for_benefit


def brute_force_c_for_benefit(benefit, treated, y, weight, seed):
    """Literal transcription: drop weight-0 patients, subsample the larger arm (same RNG rule as
    documented: ``default_rng(seed).choice(larger, size, replace=False)``, kept in index order),
    sort each arm by predicted benefit (stable), pair by rank, then compare every pair of pairs."""
    n = len(benefit)
    weight = [1.0] * n if weight is None else list(weight)
    usable = [i for i in range(n) if weight[i] > 0]
    arm_t = [i for i in usable if treated[i]]
    arm_r = [i for i in usable if not treated[i]]
    m = min(len(arm_t), len(arm_r))
    if m < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    if len(arm_t) > m:
        arm_t = sorted(int(i) for i in rng.choice(np.array(arm_t), size=m, replace=False))
    elif len(arm_r) > m:
        arm_r = sorted(int(i) for i in rng.choice(np.array(arm_r), size=m, replace=False))
    arm_t = sorted(arm_t, key=lambda i: benefit[i])
    arm_r = sorted(arm_r, key=lambda i: benefit[i])
    pairs = [((benefit[t] + benefit[r]) / 2, y[r] - y[t], weight[t] * weight[r])
             for t, r in zip(arm_t, arm_r)]
    concordant = comparable = 0.0
    for pred_i, obs_i, w_i in pairs:
        for pred_j, obs_j, w_j in pairs:
            if obs_i > obs_j:
                comparable += w_i * w_j
                if pred_i > pred_j:
                    concordant += w_i * w_j
                elif pred_i == pred_j:
                    concordant += 0.5 * w_i * w_j
    return concordant / comparable if comparable else float("nan")


def _trial(n, seed, *, real_benefit: bool, treated_share=0.5):
    rng = np.random.default_rng(seed)
    treated = rng.random(n) < treated_share
    base = rng.uniform(0.6, 0.7, n)
    effect = rng.uniform(-0.3, 0.6, n)  # absolute risk reduction: harm for some, large benefit for others
    risk = np.where(treated, base - effect, base).clip(0.01, 0.99)
    y = (rng.random(n) < risk).astype(int)
    predicted = effect if real_benefit else rng.normal(size=n)
    return predicted, treated, y


@pytest.mark.parametrize("seed, n, treated_share, rounding, weights", [
    (0, 60, 0.5, None, None),
    (1, 81, 0.3, None, None),       # reference arm larger: subsampled
    (2, 75, 0.7, 1, None),          # treated arm larger, heavy ties in predicted benefit
    (3, 90, 0.5, 2, "ipcw"),        # zero weights excluded, the rest weight the pairs
])
def test_matches_brute_force(seed, n, treated_share, rounding, weights):
    benefit, treated, y = _trial(n, seed, real_benefit=True, treated_share=treated_share)
    if rounding is not None:
        benefit = np.round(benefit, rounding)
    rng = np.random.default_rng(seed + 100)
    w = None if weights is None else np.where(rng.random(n) < 0.2, 0.0, rng.uniform(1, 2.5, n))
    expected = brute_force_c_for_benefit(benefit, treated, y, w, seed=5)
    assert c_for_benefit(benefit, treated, y, sample_weight=w, seed=5) == pytest.approx(expected, abs=1e-12)


def test_real_benefit_is_discriminated_and_noise_is_not():
    benefit, treated, y = _trial(6000, 0, real_benefit=True)
    assert c_for_benefit(benefit, treated, y) > 0.6
    noise, treated, y = _trial(6000, 1, real_benefit=False)
    assert c_for_benefit(noise, treated, y) == pytest.approx(0.5, abs=0.03)


def test_zero_weight_is_the_same_as_leaving_the_patient_out():
    benefit, treated, y = _trial(300, 4, real_benefit=True, treated_share=0.4)
    w = np.ones(300)
    w[::7] = 0
    keep = w > 0
    assert c_for_benefit(benefit, treated, y, sample_weight=w, seed=3) == pytest.approx(
        c_for_benefit(benefit[keep], treated[keep], y[keep], seed=3))


def test_reproducible_by_seed():
    benefit, treated, y = _trial(301, 5, real_benefit=True, treated_share=0.3)
    assert c_for_benefit(benefit, treated, y, seed=1) == c_for_benefit(benefit, treated, y, seed=1)


@pytest.mark.parametrize("treated, w", [
    ([True, False, False], None),                 # one treated patient: one pair
    ([True, True, False, False], [1, 0, 1, 1]),   # weight 0 leaves one usable pair
])
def test_fewer_than_two_pairs_is_nan(treated, w):
    n = len(treated)
    assert math.isnan(c_for_benefit(np.linspace(0, 1, n), treated, [0, 1] * (n // 2) + [0] * (n % 2),
                                     sample_weight=w))


def test_errors():
    with pytest.raises(ValueError, match="treated must hold only 0 and 1"):
        c_for_benefit([0.1, 0.2], [2, 0], [0, 1])
    with pytest.raises(ValueError, match="y_true has 1 values but predicted_benefit has 2"):
        c_for_benefit([0.1, 0.2], [1, 0], [0])
