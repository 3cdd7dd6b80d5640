"""Build a complete bundle: train, score the test split, then everything that says how sure and for whom."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from ..evaluation.benefit import benefit_by_group
from .bundle import save_bundle
from ..data.cohorts import Cohort, protected_attributes
from ..evaluation.comparison import Evaluation, evaluate
from ..fairness import RepresentationPolicy, audit_subgroups
from ..uncertainty import fit_novelty, novelty_matrix
from .training import TrainingResult, train
from ..uncertainty import (arm_interval_check, dose_coverage, dose_interval, evidence_limits, fit_dose_conformal,
                          fit_ensemble, plausible_values)
from ..uncertainty.dose_intervals import dose_interval_method
from ..uncertainty.ensemble import ENSEMBLE_GUARANTEE, N_MEMBERS, ensemble_method
from ..uncertainty.stability import half_disagreement

N_BOOT_AUDIT = 200


def build_bundle(cohort: Cohort, out: str | Path, *, progress: Callable[[str], None] | None = None,
                 n_members: int | None = None, force: bool = False, by_site: bool = False) -> tuple[Path, Evaluation]:
    """Train, evaluate and assess ``cohort`` and write the sealed bundle. ``by_site`` (multi-site dose cohort
    only) also runs leave-one-site-out validation and stores it as ``site_validation.json`` (in the manifest)."""
    say = progress or (lambda _m: None)
    result = train(cohort, progress=say)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # caveats are recorded in the bundle as data
        evaluation = evaluate(result)
        extras, texts = assess(result, progress=say, n_members=n_members)
    if result.info.get("race_gap"):
        from .race_gap import score_on_test

        say("race gap: scoring every mitigation once on the test split (chosen on the training split)")
        cv = result.info["race_gap"]
        extras["race_gap"] = {"chosen": cv["chosen"], "rule": cv["rule"], "cv": {k: cv[k] for k in (
            "candidates", "iwpc_formula", "n_rows")}, "test": score_on_test(result, cv)}
    if by_site:
        from ..data.cohorts import project_sites
        from .site_validation import validate_by_site

        say("leave-one-site-out validation: the full protocol once per site")
        extras["site_validation"] = validate_by_site(cohort, project_sites(cohort), progress=say).to_dict()
    return save_bundle(result, evaluation, out, extras=extras, extra_text=texts, force=force, progress=say), evaluation


def assess(result: TrainingResult, *, progress: Callable[[str], None], n_members: int | None = None):
    """Uncertainty, subgroup audit and novelty detector, fitted on the training split and checked on the test split."""
    spec, model = result.spec, result.model
    train_frame, test_frame = result.train_frame, result.test_frame
    y_test, w_test = result.test_labels.y, result.test_labels.weight
    uncertainty: dict = {"missing_scenarios": {f.name: plausible_values(spec, f.name, train_frame)
                                               for f in spec.features if not f.required}}
    texts: dict[str, str] = {}
    pred_test = model.predict(test_frame)
    interval = None
    if spec.is_dose:
        cal = result.calibration_rows
        progress(f"calibrating split-conformal intervals on the {int(cal.sum())} held-out calibration patients")
        cal_frame = train_frame[cal].reset_index(drop=True)
        cp = fit_dose_conformal(spec, cal_frame, result.labels.y[cal], model.predict(cal_frame))
        uncertainty["conformal"] = cp.to_dict()
        uncertainty["interval_method"] = dose_interval_method(cp, spec)
        uncertainty["test_coverage"] = dose_coverage(cp, spec, test_frame, pred_test, y_test)
        res = dose_interval(cp, spec, test_frame, pred_test)
        interval = np.column_stack([res.low, res.high])
    else:
        n_members = n_members or N_MEMBERS
        progress(f"fitting the bootstrap ensemble ({n_members} refits)")
        # resampled as the trial was designed: patients within each arm (arm sizes fixed), never by outcome
        ensemble = fit_ensemble(model, train_frame, result.labels.y, result.labels.weight,
                                strata=train_frame["arm"].astype(str).to_numpy(), seed=spec.seed, n_members=n_members)
        limits = evidence_limits(ensemble, train_frame, spec.arms)
        ensemble = replace(ensemble, max_arm_width=limits["max_arm_width"],
                           max_difference_width=limits["max_difference_width"])
        uncertainty["evidence_limits"] = limits
        doc, texts = ensemble.to_files()
        uncertainty["ensemble"] = doc
        uncertainty["interval_method"] = {"kind": "confidence interval for the estimated risk",
                                          "method": ensemble_method(ensemble), "guarantee": ENSEMBLE_GUARANTEE,
                                          "level": ensemble.level, "n_members": len(ensemble.members)}
        uncertainty["stability"] = {"split": "test", **half_disagreement(ensemble, test_frame, list(spec.arms)).to_dict()}
        uncertainty["test_check"] = arm_interval_check(ensemble, model, test_frame, y_test, w_test)
        if spec.treatment.randomized:
            from ..evaluation.average_effect import average_effects

            uncertainty["average_effect"] = [e.to_dict() for e in average_effects(spec, model, ensemble, train_frame)]

    progress(f"auditing subgroups on the test split ({N_BOOT_AUDIT} bootstrap resamples)")
    groups_test = protected_attributes(spec, test_frame)
    audit = audit_subgroups(y_test, pred_test, groups_test, task="regression" if spec.is_dose else "binary",
                            sample_weight=None if spec.is_dose else w_test, interval=interval,
                            n_boot=N_BOOT_AUDIT, seed=spec.seed, train_groups=protected_attributes(spec, train_frame))
    if not spec.is_dose and spec.treatment.randomized:
        # one c-for-benefit per active arm against the reference arm (never the active arms pooled)
        for name, benefit in benefit_by_group(spec, model, test_frame, y_test, w_test, groups_test,
                                              seed=spec.seed).items():
            audit = audit.with_metric(name, overall=benefit.pop("overall"), by_group=benefit)
    audit_doc = audit.to_dict()

    progress("fitting the out-of-distribution detector")
    detector = fit_novelty(spec, train_frame, result.folds == 0)
    x_test, _ = novelty_matrix(spec, test_frame)
    novelty_doc = detector.to_dict()
    representation = {"policy": RepresentationPolicy().__dict__,
                      "test_share_flagged_novel": float(detector.is_novel(x_test).mean()),
                      "target_rate": detector.target_rate, "n_train": int(len(train_frame))}
    return ({"uncertainty": uncertainty, "audit": audit_doc, "novelty": novelty_doc,
             "representation": representation}, texts)
