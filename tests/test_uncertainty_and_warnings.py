"""How sure and for whom, per patient: intervals, insufficient evidence, representation and OOD warnings."""

import json
import math
import warnings

import numpy as np
import pytest

from core.modeling.heldout import bundle_cohort
from core.uncertainty.conformal import MondrianConformalRegressor
from core.reporting.patient_report import predict_patient
from core.data.template import patient_template
from core.uncertainty import arm_uncertainty, fit_ensemble
from core.modeling.training import labels_for


def report(bundle, **changes):
    cohort = bundle_cohort(bundle)
    record = patient_template(bundle.spec, cohort.frame)["patient"] | changes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return predict_patient(bundle, record).to_dict()


def kinds(rep):
    return [w["kind"] for w in rep["warnings"]]


@pytest.mark.parametrize("cohort", ["actg175", "colon"])
def test_every_arm_and_the_difference_have_intervals(bundles, cohort):
    rep = report(bundles(cohort))
    for arm in rep["arms"]:
        lo, hi = arm["interval"]
        assert 0 <= lo <= hi <= 1
        assert hi - lo > 0.001  # a real spread, not a point
    comp = rep["comparison"]
    lo, hi = comp["interval"]
    assert lo <= hi and 0 <= comp["favoured_share"] <= 1
    assert comp["difference_is_clear"] == (lo > 0 or hi < 0)
    assert ("clear" if comp["difference_is_clear"] else "uncertain") in comp["statement"]


def test_ensemble_is_reproducible_by_seed(bundles):
    bundle = bundles("colon")
    cohort = bundle_cohort(bundle)
    train = ~cohort.frame["patient_id"].isin(bundle.test_patient_ids).to_numpy()
    frame = cohort.frame[train].reset_index(drop=True)
    labels = labels_for(cohort, train)
    make = lambda seed: fit_ensemble(bundle.model, frame, labels.y, labels.weight, strata=labels.strata,  # noqa: E731
                                     n_members=5, seed=seed)
    a, b, c = make(1), make(1), make(2)
    probe = frame.head(20)
    np.testing.assert_array_equal(a.risks(probe), b.risks(probe))
    assert not np.allclose(a.risks(probe), c.risks(probe))


def test_too_spread_ensemble_gives_insufficient_evidence_not_a_confident_number(bundles):
    bundle = bundles("actg175")
    strict = bundle.ensemble
    row_report = report(bundle)
    from dataclasses import replace

    from core.data.cohorts import patient_frame
    from core.data.validation import validate_patient

    patient = validate_patient(bundle.spec, row_report["patient"])
    row = patient_frame(bundle.spec, [patient.values])
    fav, versus = row_report["comparison"]["favoured"], row_report["comparison"]["versus"]
    tight = replace(strict, max_arm_width=0.0)
    unc = arm_uncertainty(tight, row, bundle.spec.arms, fav, versus)
    assert len(unc.insufficient) == len(bundle.spec.arms)
    assert all(n["kind"] == "insufficient_evidence" and "insufficient evidence" in n["message"] for n in unc.insufficient)
    bundle.__dict__["ensemble"] = tight
    try:
        rep = report(bundle)
    finally:
        bundle.__dict__["ensemble"] = strict
    assert rep["comparison"]["insufficient_evidence"] is True
    assert "insufficient_evidence" in kinds(rep)


def test_dose_interval_and_nominal_coverage_in_report(bundles):
    rep = report(bundles("warfarin"))
    lo, hi = rep["dose"]["interval"]
    assert 0 <= lo < rep["dose"]["mg_per_week"] < hi
    assert rep["dose"]["coverage"] == 0.9


def test_dose_conformal_coverage_holds_on_the_test_split_overall_and_per_race(bundles):
    cov = bundles("warfarin").uncertainty.test_coverage
    n = cov["overall"]["n"]
    assert abs(cov["overall"]["coverage"] - 0.9) < 3 * math.sqrt(0.09 / n)
    for g in cov["by_group"]:
        # conformal guarantees at least nominal in expectation; allow 3 binomial SDs of sampling error
        assert g["coverage"] > 0.9 - 3 * math.sqrt(0.09 / g["n"]), g


def test_group_too_small_for_conformal_gives_insufficient_evidence(bundles):
    bundle = bundles("warfarin")
    normal = bundle.conformal
    doc = normal.to_dict()
    doc["params"]["min_group_size"] = doc["fitted"]["min_group_size"] = 100_000  # every group is now "too small"
    strict = MondrianConformalRegressor.from_dict(doc)
    bundle.__dict__["conformal"] = strict
    try:
        rep = report(bundle)
    finally:
        bundle.__dict__["conformal"] = normal
    assert rep["dose"]["interval"] is None and rep["dose"]["insufficient_evidence"] is True
    (w,) = [w for w in rep["warnings"] if w["kind"] == "insufficient_evidence"]
    assert "calibration rows" in w["message"]


def test_patient_in_a_small_training_group_is_warned_with_group_n_and_share(bundles):
    rep = report(bundles("actg175"), sex="female", age_years=55)
    (w,) = [w for w in rep["warnings"] if w["kind"] == "underrepresented" and w["attribute"] == "sex x age_band"]
    assert w["group"] == "female x ≥50" and w["train_n"] < 50
    assert f"{w['train_n']} of 1604 training patients" in w["message"]


def test_typical_patient_gets_no_representation_or_ood_warning(bundles):
    rep = report(bundles("actg175"))
    assert not {"underrepresented", "out_of_distribution"} & set(kinds(rep))


def test_value_outside_training_range_is_out_of_distribution(bundles):
    rep = report(bundles("actg175"), cd4_cells_per_ul=2900)
    ood = [w for w in rep["warnings"] if w["kind"] == "out_of_distribution" and w.get("scope") == "feature"]
    assert ood and ood[0]["feature"] == "cd4_cells_per_ul"
    assert "CD4 count at baseline = 2900 cells/µL lies outside the training range" in ood[0]["message"]


def test_about_one_percent_of_held_out_patients_are_flagged_novel(bundles):
    for name in ("actg175", "warfarin"):
        rep = bundles(name).representation.to_dict()
        assert 0.0 <= rep["test_share_flagged_novel"] <= 0.03, (name, rep)


def test_worse_served_group_is_warned_with_metric_and_ci(bundles):
    bundle = bundles("warfarin")
    flagged = {(g.attribute, g.group) for g in bundle.audit.groups if any(m.flagged for m in g.metrics.values())}
    assert ("race", "White") in flagged  # a real finding of this model's test-split audit (MAE)
    rep = report(bundle, race="White")
    found = [w for w in rep["warnings"] if w["kind"] == "worse_performance" and w["attribute"] == "race"]
    assert found  # one per flagged metric (MAE, and now interval coverage too)
    for w in found:
        assert (w["ci"][0] > 0 or w["ci"][1] < 0) and w["metric"] in {"mae", "coverage", "within_20", "mean_error"}


def test_missing_genotype_shows_the_range_over_its_plausible_values(bundles):
    rep = report(bundles("warfarin"), vkorc1_1639=None)
    (missing,) = rep["missing_inputs"]
    doses = {s["value"]: s["prediction"] for s in missing["scenarios"]}
    assert list(doses) == ["G/G", "A/G", "A/A"]
    assert doses["G/G"] > doses["A/G"] > doses["A/A"]  # the -1639 A allele lowers the dose needed


def test_audit_cli_prints_bundle_audit(bundle_dirs, capsys):
    from core.cli import main

    assert main(["audit", "--bundle", str(bundle_dirs("colon"))]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["split"] == "test" and {"overall", "groups"} <= set(doc)
    group = doc["groups"][0]
    assert {"attribute", "group", "n", "share", "metrics"} <= set(group)
    assert "c_for_benefit" in group["metrics"] and "auc" in group["metrics"]
