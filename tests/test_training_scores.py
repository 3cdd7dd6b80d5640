"""Trainee-mode scores: recomputed from the per-case rows by an independent, literal implementation of the
issue's formulas (plain loops, no Equipoise code), on random data; plus invariants and the n = 0 rule."""

from __future__ import annotations

import math
import random

import pytest

from core.training import CaseRow, score_rows, session_scores, wilson_interval
from core.training.scores import MIN_N


def ref_ok(kind, x, y):
    return abs(x - y) <= 0.2 * y if kind == "dose" else (x >= 0.5) == (y == 1)


def ref_same(kind, x, ref):
    # one tolerance for agreeing and for being right (issue 24): 20% of the dose; risks: the same decision
    return abs(x - ref) <= 0.2 * ref if kind == "dose" else (x >= 0.5) == (ref >= 0.5)


def reference_scores(kind, rows):
    """The issue's definitions, written out again. Returns {name: (value or None, n)}."""
    out = {}
    h0 = [r for r in rows if r["initial"] is not None]
    h1 = [r for r in rows if r["final"] is not None]
    both = [r for r in rows if r["initial"] is not None and r["final"] is not None]

    def frac(num, den):
        return (num / den if den else None, den)

    out["accuracy_initial"] = frac(sum(ref_ok(kind, r["initial"], r["truth"]) for r in h0), len(h0))
    out["accuracy_final"] = frac(sum(ref_ok(kind, r["final"], r["truth"]) for r in h1), len(h1))
    out["accuracy_advice"] = frac(sum(ref_ok(kind, r["advice"], r["truth"]) for r in rows), len(rows))
    num = den = 0
    for r in both:
        if not ref_ok(kind, r["initial"], r["truth"]) and ref_ok(kind, r["advice"], r["truth"]):
            den += 1
            num += ref_same(kind, r["final"], r["advice"])
    out["rair"] = frac(num, den)
    num = den = 0
    for r in both:
        if ref_ok(kind, r["initial"], r["truth"]) and not ref_ok(kind, r["advice"], r["truth"]):
            den += 1
            num += ref_same(kind, r["final"], r["initial"])
    out["rsr"] = frac(num, den)
    num = den = 0
    for r in both:
        if r["advice_manipulated"]:
            den += 1
            num += ref_ok(kind, r["initial"], r["truth"]) and not ref_ok(kind, r["final"], r["truth"])
    out["over_reliance"] = frac(num, den)
    woa = []
    for r in both:
        if r["advice"] != r["initial"]:
            woa.append(min(1, max(0, (r["final"] - r["initial"]) / (r["advice"] - r["initial"]))))
    out["weight_of_advice"] = (sum(woa) / len(woa) if woa else None, len(woa))
    gaps = [r["confidence"] / 100 - ref_ok(kind, r["initial"], r["truth"]) for r in h0 if r["confidence"] is not None]
    out["overconfidence"] = (sum(gaps) / len(gaps) if gaps else None, len(gaps))
    out["confidence_brier"] = (sum(g * g for g in gaps) / len(gaps) if gaps else None, len(gaps))
    if kind == "risk":
        for name, key, subset in (("brier_initial", "initial", h0), ("brier_final", "final", h1),
                                  ("brier_advice", "advice", rows)):
            sq = [(r[key] - r["truth"]) ** 2 for r in subset]
            out[name] = (sum(sq) / len(sq) if sq else None, len(sq))
    return out


def random_rows(kind, rng, n):
    rows = []
    for i in range(n):
        if kind == "dose":
            truth = rng.uniform(10, 80)
            advice = truth * rng.choice([rng.uniform(0.85, 1.15), rng.uniform(0.4, 0.7), rng.uniform(1.3, 1.6)])
            initial = truth * rng.uniform(0.6, 1.4)
            final = rng.choice([advice, initial, advice * 1.03, (advice + initial) / 2, truth * rng.uniform(0.6, 1.4)])
        else:
            truth = float(rng.random() < 0.3)
            advice = round(rng.random(), 2)
            initial = round(rng.random(), 2)
            final = rng.choice([advice, initial, min(1.0, advice + 0.04), (advice + initial) / 2, rng.random()])
        if rng.random() < 0.1:
            initial = None  # advice-first cases have no initial answer
        if rng.random() < 0.05:
            final = None
        confidence = None if initial is None or rng.random() < 0.1 else float(rng.randint(0, 100))
        rows.append({"case": i + 1, "initial": initial, "confidence": confidence, "advice": advice,
                     "advice_manipulated": rng.random() < 0.3, "final": final, "truth": truth})
    return rows


@pytest.mark.parametrize("kind", ["dose", "risk"])
@pytest.mark.parametrize("seed", range(12))
def test_every_score_matches_an_independent_implementation(kind, seed):
    rng = random.Random(seed)
    rows = random_rows(kind, rng, rng.randint(0, 60))
    got = score_rows(kind, [CaseRow(**r) for r in rows]).to_dict()
    for name, (value, n) in reference_scores(kind, rows).items():
        assert got[name]["n"] == n, name
        if value is None:
            assert got[name]["value"] is None and got[name]["state"] == "not_available", name
        else:
            assert got[name]["value"] == pytest.approx(value, abs=1e-12), name
            assert got[name]["state"] == ("insufficient_evidence" if n < MIN_N else "estimate")
    if kind == "dose":
        assert "brier_final" not in got


def test_a_zero_denominator_is_not_available_never_zero():
    # every initial answer right, every advice right: RSR has no case; over-reliance has no manipulated case
    rows = [CaseRow(case=i, initial=50.0, advice=52.0, advice_manipulated=False, final=52.0, truth=50.0)
            for i in range(12)]
    s = score_rows("dose", rows)
    for name in ("rsr", "rair", "over_reliance"):
        assert s[name].value is None and s[name].n == 0 and s[name].to_dict()["state"] == "not_available"
    assert s["accuracy_initial"].value == 1.0 and s["weight_of_advice"].value == 1.0


def test_full_reliance_on_wrong_advice_is_over_reliance_one():
    rows = [CaseRow(case=i, initial=50.0, advice=80.0, advice_manipulated=True, final=80.0, truth=50.0)
            for i in range(10)]
    s = score_rows("dose", rows)
    assert s["over_reliance"].value == 1.0 and s["rsr"].value == 0.0 and s["accuracy_final"].value == 0.0
    assert s["weight_of_advice"].value == 1.0


@pytest.mark.parametrize("seed", range(5))
def test_invariants(seed):
    rng = random.Random(100 + seed)
    for kind in ("dose", "risk"):
        s = score_rows(kind, [CaseRow(**r) for r in random_rows(kind, rng, 40)])
        for score in s.scores:
            if score.value is None:
                continue
            if score.numerator is not None:
                assert 0 <= score.value <= 1 and score.numerator <= score.n
                lo, hi = score.interval
                assert 0 <= lo <= score.value <= hi <= 1
            if score.name == "weight_of_advice":
                assert 0 <= score.value <= 1
        assert s["over_reliance"].n <= s.n_manipulated


@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (10, 10), (1, 1), (57, 200)])
def test_wilson_interval_against_the_textbook_formula(k, n):
    # Wilson (1927): (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    z, p = 1.959963984540054, k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(max(0, centre - half)) and hi == pytest.approx(min(1, centre + half))
    assert wilson_interval(0, 0) is None


def test_confidence_scores_agree_with_sklearn_and_the_extremes():
    """The confidence Brier score is sklearn's Brier score of confidence against being right first; always
    certain and always right gives 0 (and overconfidence 0), always certain and always wrong gives 1."""
    from sklearn.metrics import brier_score_loss

    rng = random.Random(7)
    rows = [CaseRow(**r) for r in random_rows("risk", rng, 60)]
    s = score_rows("risk", rows)
    sure = [r for r in rows if r.initial is not None and r.confidence is not None]
    right = [int((r.initial >= 0.5) == (r.truth == 1)) for r in sure]
    assert s["confidence_brier"].value == pytest.approx(brier_score_loss(right, [r.confidence / 100 for r in sure]))
    assert s["overconfidence"].value == pytest.approx(sum(r.confidence for r in sure) / 100 / len(sure)
                                                      - sum(right) / len(right))
    certain = [CaseRow(case=i, initial=50.0, advice=50.0, advice_manipulated=False, final=50.0, truth=50.0,
                       confidence=100.0) for i in range(12)]
    s = score_rows("dose", certain)
    assert s["confidence_brier"].value == 0 and s["overconfidence"].value == 0
    wrong = [CaseRow(case=i, initial=90.0, advice=50.0, advice_manipulated=False, final=50.0, truth=50.0,
                     confidence=100.0) for i in range(12)]
    s = score_rows("dose", wrong)
    assert s["confidence_brier"].value == 1 and s["overconfidence"].value == 1
    assert s["confidence_brier"].n == 12


def test_moving_toward_wrong_advice_without_changing_the_decision_is_self_reliance():
    # Right at 30% (no event), wrong advice 70%, final 45%: the decision (below 50%) is kept, so RSR counts it.
    row = CaseRow(case=1, initial=0.30, advice=0.70, advice_manipulated=True, final=0.45, truth=0.0)
    assert score_rows("risk", [row])["rsr"].value == 1.0
    crossed = CaseRow(case=1, initial=0.30, advice=0.70, advice_manipulated=True, final=0.55, truth=0.0)
    assert score_rows("risk", [crossed])["rsr"].value == 0.0


@pytest.mark.parametrize("kind", ["dose", "risk"])
def test_a_session_score_is_the_mean_over_trainees_with_a_cluster_bootstrap(kind):
    rng = random.Random(7)
    rows, per_trainee = [], {}
    for t, n in (("ann", 30), ("bob", 4), ("cy", 12), ("di", 20)):
        mine = [CaseRow(**r, trainee=t) for r in random_rows(kind, rng, n)]
        rows += mine
        per_trainee[t] = reference_scores(kind, [r.to_dict() for r in mine])
    got = session_scores(kind, rows, seed=3)
    for name in ("accuracy_initial", "accuracy_final", "rsr", "weight_of_advice"):
        values = [v[name][0] for v in per_trainee.values() if v[name][0] is not None]
        assert got[name].value == pytest.approx(sum(values) / len(values), abs=1e-12), name
        assert got[name].trainees == len(values)
        assert got[name].n == sum(v[name][1] for v in per_trainee.values())
        # the cluster bootstrap by brute force: every way of drawing 4 (or fewer) trainees with replacement,
        # weighted by its probability, gives the exact bootstrap distribution; its 2.5-97.5% range must agree
        # with the Monte Carlo interval to within a few points
        import itertools
        means = sorted(sum(c) / len(c) for c in itertools.product(values, repeat=len(values)))
        k = len(means)
        # the exact bootstrap distribution's quantiles: the interval's ends lie between its neighbouring atoms
        lo_atoms = means[max(0, int(0.025 * k) - 3)], means[min(k - 1, int(0.025 * k) + 3)]
        hi_atoms = means[max(0, int(0.975 * k) - 3)], means[min(k - 1, int(0.975 * k) + 3)]
        assert lo_atoms[0] - 1e-12 <= got[name].interval[0] <= lo_atoms[1] + 1e-12, (name, lo_atoms, got[name])
        assert hi_atoms[0] - 1e-12 <= got[name].interval[1] <= hi_atoms[1] + 1e-12, (name, hi_atoms, got[name])
    # a trainee with many cases does not outweigh the others: pooling every case would give another number
    pooled = score_rows(kind, rows)["accuracy_initial"].value
    assert got["accuracy_initial"].value != pytest.approx(pooled, abs=1e-9)
