"""The headline says exactly what the evidence supports: clear, similar (naming the options), or insufficient."""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from dataclasses import replace

import numpy as np
import pytest

from core import SpecError, service
from core.data.caveats import parse_caveats
from core.data.cohorts import ARM, patient_frame
from core.reporting.banners import MAX_BANNERS, digest
from core.reporting.summary import arm_summary
from core.uncertainty.arm_comparison import PairwiseDifference, interval_widths

ARM_COHORTS = ("actg175", "colon")


def _reports(bundle, n=60):
    out = []
    for r in service.held_out_patients(bundle)[:n]:
        record = {k: v for k, v in r.items() if k != "patient_id"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.append((record, service.predict(bundle, record, patient_id=r["patient_id"]).to_dict()))
    return out


def _lower(rep, a, b):
    """Whether a's risk is clearly lower than b's, straight from the pairwise list."""
    for p in rep["pairwise"]:
        if (p["a"], p["b"]) == (a, b):
            return p["interval"][1] < 0
        if (p["a"], p["b"]) == (b, a):
            return p["interval"][0] > 0
    raise KeyError((a, b))


@pytest.mark.parametrize("cohort", ARM_COHORTS)
def test_state_follows_from_every_pairwise_interval(bundles, cohort):
    bundle = bundles(cohort)
    arms = bundle.spec.arms
    seen = set()
    for _, rep in _reports(bundle):
        s = rep["summary"]
        seen.add(s["state"])
        assert len(rep["pairwise"]) == len(arms) * (len(arms) - 1) // 2
        if s["state"] == "insufficient_evidence":
            assert "%" not in s["text"] and s["best_set"] == [] and s["reasons"]
            continue
        risk = {a["arm"]: a["probability"] for a in rep["arms"]}
        best = min(risk, key=risk.get)
        others = [a for a in arms if a != best]
        if s["state"] == "clear":
            assert s["best_set"] == [best] and all(_lower(rep, best, o) for o in others)
        else:
            assert s["state"] == "similar" and best in s["best_set"]
            for a in arms:  # in the set exactly when the evidence cannot separate it from the lowest-risk arm
                assert (a in s["best_set"]) == (a == best or not _lower(rep, best, a))
            for a in s["best_set"]:
                assert a in s["text"]
        assert "clear" not in s["text"] or s["state"] == "clear"
    assert seen - {"insufficient_evidence"}, "every patient insufficient: the headline says nothing"


@pytest.mark.parametrize("cohort", ARM_COHORTS)
def test_pairwise_intervals_match_an_independent_normal_interval_of_the_members(bundles, cohort):
    bundle = bundles(cohort)
    arms = bundle.spec.arms
    record, rep = _reports(bundle, n=1)[0]
    row = patient_frame(bundle.spec, [service.validate(bundle, record).values])
    members = []
    for m in bundle.ensemble.members:  # each member on its own, arm by arm
        members.append([float(m.predict(row.assign(**{ARM: arm}))[0]) for arm in arms])
    risks = np.array(members)
    assert bundle.ensemble.method == "normal"
    from scipy import stats

    for p in rep["pairwise"]:
        i, j = arms.index(p["a"]), arms.index(p["b"])
        d = risks[:, i] - risks[:, j]
        expected = stats.norm.interval(0.95, loc=d.mean(), scale=d.std(ddof=1))
        np.testing.assert_allclose(p["interval"], expected, atol=1e-9)
        assert p["share_a_lower"] == pytest.approx(np.mean(risks[:, i] < risks[:, j]))
        probs = {a["arm"]: a["probability"] for a in rep["arms"]}
        assert p["difference"] == pytest.approx(probs[p["a"]] - probs[p["b"]])


@pytest.mark.parametrize("cohort", ARM_COHORTS)
def test_evidence_limits_are_the_training_split_quantile(bundles, cohort):
    bundle = bundles(cohort)
    from core.modeling.heldout import bundle_cohort

    frame = bundle_cohort(bundle).frame
    train = frame[~frame["patient_id"].isin(bundle.test_patient_ids)].reset_index(drop=True)
    arm_w, diff_w = interval_widths(bundle.ensemble, train, bundle.spec.arms)
    assert bundle.ensemble.max_arm_width == pytest.approx(np.quantile(arm_w, 0.99))
    assert bundle.ensemble.max_difference_width == pytest.approx(np.quantile(diff_w, 0.99))
    # the limits are real: some training patients lie beyond them, most do not
    assert 0 < np.mean(arm_w > bundle.ensemble.max_arm_width) <= 0.011


def test_insufficient_evidence_reaches_the_cli_json_without_a_percentage(bundles, bundle_dirs, tmp_path):
    bundle = bundles("actg175")
    record, _ = _reports(bundle, n=1)[0]
    patient = tmp_path / "p.json"
    patient.write_text(json.dumps(record | {"weight_kg": 250}))  # allowed, but beyond the training data
    from core.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["predict", "--bundle", str(bundle_dirs("actg175")), "--patient", str(patient)]) == 0
    rep = json.loads(out.getvalue())
    assert rep["summary"]["state"] == "insufficient_evidence"
    assert "%" not in rep["summary"]["text"] and "Weight" in rep["summary"]["text"]
    assert rep["comparison"]["insufficient_evidence"] is True
    assert all(w["severity"] in ("high", "medium", "low") for w in rep["warnings"])


def test_too_wide_ensemble_makes_every_patient_insufficient(bundles):
    bundle = bundles("colon")
    strict = bundle.ensemble
    bundle.__dict__["ensemble"] = replace(strict, max_difference_width=0.0)
    try:
        reps = _reports(bundle, n=5)
    finally:
        bundle.__dict__["ensemble"] = strict
    assert all(r["summary"]["state"] == "insufficient_evidence" for _, r in reps)


def _pair(a, b, d, lo, hi):
    return PairwiseDifference(a, b, d, (lo, hi), 0.5)


def test_summary_states_on_constructed_evidence():
    arms = ["A", "B", "C"]
    prob = np.array([0.20, 0.21, 0.40])
    # A and B cannot be separated; both clearly below C
    pairs = (_pair("A", "B", -0.01, -0.05, 0.03), _pair("A", "C", -0.20, -0.25, -0.15), _pair("B", "C", -0.19, -0.24, -0.14))
    s = arm_summary("Recurrence within 5 years", arms, prob, pairs, higher_is_worse=True)
    assert s.state == "similar" and s.best_set == ("A", "B")
    assert s.text.startswith("A and B have similar estimated risks of recurrence within 5 years (20–21%)")
    assert "C (40%) is 20 points higher than A (95% interval +15 to +25 points)" in s.text
    clear = (_pair("A", "B", -0.01, -0.02, -0.005),) + pairs[1:]
    assert arm_summary("X", arms, prob, clear, higher_is_worse=True).state == "clear"
    # a good outcome: the highest chance is the most favourable
    s = arm_summary("Response", arms, prob, pairs, higher_is_worse=False)
    assert s.state == "clear" and s.best_set == ("C",) and "highest" in s.text
    s = arm_summary("X", arms, prob, pairs, higher_is_worse=True, insufficient=("a reason",))
    assert s.state == "insufficient_evidence" and "%" not in s.text and "a reason" in s.text


def test_caveat_fires_on_its_rule_only_and_unknown_never_triggers_it(bundles):
    bundle = bundles("warfarin")
    record = service.typical_patient(bundle)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kinds = {race: [w for w in service.predict(bundle, record | {"race": race}).to_dict()["warnings"]
                        if w["kind"] == "outside_evidence"] for race in ("Black or African American", "White")}
        unknown = service.predict(bundle, record | {"race": None}).to_dict() if not bundle.spec.feature("race").required \
            else None
    (cpic,) = kinds["Black or African American"]
    assert cpic["severity"] == "high" and "CPIC" in cpic["message"] and "2017" in cpic["source"]
    assert kinds["White"] == []
    assert unknown is None or not [w for w in unknown["warnings"] if w["kind"] == "outside_evidence"]


@pytest.mark.parametrize("raw, problem", [
    ([{"id": "x", "feature": "nope", "rule": "in", "values": ["a"], "severity": "high", "message": "m"}], "unknown feature"),
    ([{"id": "x", "feature": "age", "rule": "near", "values": [1], "severity": "high", "message": "m"}], "rule must be"),
    ([{"id": "x", "feature": "age", "rule": "outside", "values": [1], "severity": "high", "message": "m"}], "needs 2"),
    ([{"id": "x", "feature": "age", "rule": "below", "values": ["a"], "severity": "high", "message": "m"}], "needs numbers"),
    ([{"id": "x", "feature": "age", "rule": "below", "values": [1], "severity": "urgent", "message": "m"}], "severity"),
    ([{"id": "x"}], "missing"),
])
def test_bad_caveats_are_refused_with_the_reason(raw, problem):
    with pytest.raises(SpecError, match=problem):
        parse_caveats(raw, ["age"])


def test_digest_shows_at_most_three_banners_one_per_kind_and_folds_the_rest():
    ws = [{"kind": "worse_performance", "severity": "medium", "message": f"group {i}"} for i in range(5)]
    ws += [{"kind": "out_of_distribution", "severity": "high", "message": "range"},
           {"kind": "underrepresented", "severity": "medium", "message": "few"},
           {"kind": "implausible_value", "message": "check"},
           {"kind": "missing_value", "message": "unknown"},
           {"kind": "insufficient_evidence", "severity": "high", "message": "wide"}]
    d = digest(ws)
    assert len(d.banners) == MAX_BANNERS
    assert [b.severity for b in d.banners] == sorted((b.severity for b in d.banners), key=["high", "medium"].index)
    kinds = [b.kind for b in d.banners + d.more]
    assert len(kinds) == len(set(kinds)) == 6  # one entry per kind
    (worse,) = [b for b in d.banners + d.more if b.kind == "worse_performance"]
    assert len(worse.messages) == 5
    assert "missing_value" in [b.kind for b in d.more]  # low never a banner
    folded = digest(ws, fold=("insufficient_evidence",))
    assert "insufficient_evidence" not in [b.kind for b in folded.banners]
    assert sum(len(b.messages) for b in d.banners + d.more) == len({w["message"] for w in ws})  # nothing dropped
