"""One patient's report: predictions under every arm (or the dose), the comparison, exact explanations
and warnings, as a small result object that the CLI prints as JSON and the dashboard lays out.

Outputs are phrased as options with evidence; the report never tells anyone what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._json import jsonable
from .._errors import PatientValidationError
from ..modeling.bundle import ModelBundle
from ..data.cohorts import ARM, patient_frame
from ..explain.explanation import (Explanation, explain_arm, explain_difference, explain_dose_from, patient_phrases,
                                   row_values)
from ..evaluation.baselines import FIXED_DOSE_MG_PER_WEEK, iwpc_doses
from ..fairness.patient_warnings import RepresentationPolicy, representation_warnings
from ..uncertainty import MissingRange, PairwiseDifference, dose_groups, missing_ranges, pairwise_differences
from ..uncertainty.arm_comparison import uncertainty_from_risks
from ..uncertainty.dose_intervals import dose_interval_in_groups
from ..data.caveats import caveat_warnings
from .banners import with_severity
from .summary import Summary, arm_summary, dose_summary
from ..data.validation import ValidatedPatient, validate_patient
from .._kinds import WarningKind

DISCLAIMER = ("Decision support, not a decision: estimates from a model trained on {source}. "
              "They describe patients like this one in that population and are one input among many.")


@dataclass(frozen=True)
class ArmEstimate:
    arm: str
    probability: float
    is_reference: bool
    interval: list[float] | None = None


@dataclass(frozen=True)
class PatientReport:
    """What the model says about one patient. ``to_dict()`` is the ``equipoise predict`` JSON."""

    cohort: str
    model: dict
    patient: ValidatedPatient
    explanation: Explanation | None
    arms: tuple[ArmEstimate, ...] = ()
    comparison: dict | None = None
    dose: dict | None = None
    arm_explanations: dict[str, Explanation] = field(default_factory=dict)
    difference_explanation: Explanation | None = None
    missing_inputs: tuple[MissingRange, ...] = ()
    warnings: tuple[dict, ...] = ()
    patient_id: str | None = None
    outcome: dict = field(default_factory=dict)
    disclaimer: str = ""
    summary: Summary | None = None
    pairwise: tuple[PairwiseDifference, ...] = ()

    @property
    def insufficient_evidence(self) -> bool:
        return self.summary is not None and self.summary.insufficient

    @property
    def favoured(self) -> str | None:
        return self.comparison["favoured"] if self.comparison else None

    def to_dict(self) -> dict:
        out: dict = {"cohort": self.cohort, "model": self.model}
        if self.patient_id is not None:
            out["patient_id"] = self.patient_id
        out["patient"] = self.patient.to_record()
        out["outcome"] = self.outcome
        if self.summary is not None:
            out["summary"] = self.summary.to_dict()
        if self.arms:
            out["arms"] = [{"arm": a.arm, "probability": a.probability, "interval": a.interval,
                            "reference": a.is_reference} for a in self.arms]
            out["comparison"] = self.comparison
            out["pairwise"] = [p.to_dict() for p in self.pairwise]
        if self.dose is not None:
            out["dose"] = self.dose
        arm_explanations = {k: e.to_dict() for k, e in self.arm_explanations.items()}
        if self.explanation is not None:  # None only in batch reports made without explanations
            shown = [k for k, e in self.arm_explanations.items() if e is self.explanation]  # the favoured arm's
            out["explanation"] = arm_explanations[shown[0]] if shown else self.explanation.to_dict()
        if arm_explanations:
            out["arm_explanations"] = arm_explanations
        if self.difference_explanation is not None:
            out["difference_explanation"] = self.difference_explanation.to_dict()
        out["missing_inputs"] = [m.to_dict() for m in self.missing_inputs]
        out["warnings"] = [jsonable(w) for w in self.warnings]
        out["disclaimer"] = self.disclaimer
        return out


def model_info(bundle: ModelBundle) -> dict:
    return {"bundle_id": bundle.bundle_id, "sha256": bundle.sha256}


def predict_patient(bundle: ModelBundle, record: dict, *, patient_id: str | None = None,
                    ignore: tuple[str, ...] = ()) -> PatientReport:
    """Validate ``record`` and report on it; raises PatientValidationError naming every bad field.

    The reference path (pandas frames); :mod:`.fast_report` gives the same report from numpy arrays."""
    spec = bundle.spec
    patient = validate_patient(spec, record, ignore=ignore)
    row = patient_frame(spec, [patient.values])
    representation = representation_warnings(spec, row, audit=bundle.audit, detector=bundle.novelty,
                                             train_total=int(bundle.training.n_train), policy=_policy(bundle))
    missing = tuple(missing_ranges(spec, bundle.model, row, patient.missing, bundle.missing_scenarios))
    values = row_values(spec, row, None)
    if spec.is_dose:
        base, contrib = bundle.model.contributions(row)
        formula = float(iwpc_doses(row)[0]) if {"height_cm", "weight_kg"} <= set(spec.feature_names) else float("nan")
        groups = dose_groups(spec, row) if bundle.conformal is not None else None
        return dose_report(bundle, patient, values, base, contrib, formula, groups, representation, missing,
                           patient_id=patient_id)
    stacked = pd.concat([row] * len(spec.arms), ignore_index=True)
    stacked[ARM] = spec.arms
    base, contrib = bundle.model.contributions(stacked)
    risks = None if bundle.ensemble is None else bundle.ensemble.risks(stacked)
    return arm_report(bundle, patient, values, base, contrib, risks, representation, missing, patient_id=patient_id)


def _common(bundle: ModelBundle, patient: ValidatedPatient, representation: list, missing: tuple,
            patient_id: str | None) -> tuple[dict, list]:
    """The report's fields shared by both kinds of cohort, and its warnings so far."""
    spec = bundle.spec
    common = dict(cohort=spec.name, model=model_info(bundle), patient=patient, patient_id=patient_id,
                  disclaimer=DISCLAIMER.format(source=spec.title), outcome=_outcome(spec), missing_inputs=missing)
    warnings = list(patient.warnings)
    if not spec.treatment.randomized and not spec.is_dose:
        warnings.append({"kind": WarningKind.NON_RANDOMIZED.value, "severity": "medium", "message": "Arms were not randomized in the training data: "
                         "differences between arms may reflect who received them, not what they do."})
    warnings += representation
    warnings += caveat_warnings(spec, patient.values)
    return common, warnings


def _policy(bundle: ModelBundle) -> RepresentationPolicy:
    return RepresentationPolicy(**(bundle.representation.policy if bundle.representation else {}))


def _evidence_reasons(spec, warnings: list[dict]) -> tuple[str, ...]:
    """Why a number would be more certain than the evidence, in plain words without numbers."""
    reasons = []
    for w in warnings:
        if w.get("kind") == WarningKind.INSUFFICIENT_EVIDENCE:
            reasons.append("the model's estimates for this patient vary widely between its bootstrap refits"
                           if spec.treatment.type == "arms" else "too few similar patients to calibrate an interval")
        elif w.get("kind") == WarningKind.OUT_OF_DISTRIBUTION and w.get("scope") == "feature":
            label = spec.feature(w["feature"]).label if w["feature"] in spec.feature_names else w["feature"]
            reasons.append(f"{label} lies outside what the training data covers")
        elif w.get("kind") == WarningKind.OUT_OF_DISTRIBUTION:
            reasons.append("this patient's combination of values is unusual for the training data")
    return tuple(dict.fromkeys(reasons))


def arm_report(bundle: ModelBundle, patient: ValidatedPatient, values: tuple, base: np.ndarray, contrib: np.ndarray,
               risks: np.ndarray | None, representation: list, missing: tuple, *,
               patient_id: str | None = None, explanations: bool = True, uncertainty=None,
               logit: np.ndarray | None = None) -> PatientReport:
    """An arm cohort's report from the numbers: the model's base values and contributions under each arm
    (arms × columns), the ensemble members' risks (members × arms, or None) and the patient's warnings.
    ``explanations=False``: no explanations (the contributions are not used, only their sum).
    ``uncertainty``: the intervals already computed from ``risks`` (a chunk's, by ``uncertainties_from_risks``);
    ``logit``: ``base + contrib.sum(axis=1)``, computed for the chunk's rows at once."""
    common, warnings = _common(bundle, patient, representation, missing, patient_id)
    spec, model = bundle.spec, bundle.model
    arms, ref = spec.arms, spec.treatment.reference
    logit = base + contrib.sum(axis=1) if logit is None else logit
    prob = 1.0 / (1.0 + np.exp(-logit))
    higher_is_worse = spec.outcome.higher_is_worse
    order = np.argsort(prob if higher_is_worse else -prob, kind="stable")
    favoured = arms[order[0]]
    versus = ref if favoured != ref else arms[order[1]]
    i_f, i_v = arms.index(favoured), arms.index(versus)
    phrases = patient_phrases(spec, model, values) if explanations else ()
    arm_expl = {arm: explain_arm(spec, model, values, arm, float(base[i]), contrib[i], phrases=phrases,
                                 logit=logit[i])
                for i, arm in enumerate(arms)} if explanations else {}
    comparison = {
        "favoured": favoured, "versus": versus, "reference": ref,
        "difference": float(prob[i_f] - prob[i_v]),
        "difference_scale": "absolute risk difference (favoured − versus)",
        "odds_ratio": float(np.exp(logit[i_f] - logit[i_v])),
    }
    intervals: dict = {}
    unc = None
    if risks is not None:
        unc = uncertainty or uncertainty_from_risks(bundle.ensemble, risks, arms, higher_is_worse=higher_is_worse)
        intervals = {a: list(v) for a, v in unc.arm_intervals.items()}
        lo, hi = unc.difference_interval(favoured, versus)
        comparison.update(interval=[lo, hi], favoured_share=unc.best_share[favoured], level=unc.level,
                          difference_is_clear=bool(lo > 0 or hi < 0))
        warnings += list(unc.insufficient)
    pairwise = pairwise_differences(arms, prob, unc)
    reasons = _evidence_reasons(spec, warnings)
    summary = arm_summary(spec.outcome.label, arms, prob, pairwise, higher_is_worse=higher_is_worse,
                          insufficient=reasons)
    if summary.insufficient:
        comparison["insufficient_evidence"] = True
    comparison["statement"] = summary.text
    estimates = tuple(ArmEstimate(a, float(prob[i]), a == ref, intervals.get(a)) for i, a in enumerate(arms))
    return PatientReport(**common, explanation=arm_expl.get(favoured), arms=estimates, comparison=comparison,
                         arm_explanations=arm_expl,
                         difference_explanation=explain_difference(arm_expl[favoured], arm_expl[versus],
                                                                   risk_modelling=not bundle.model.design.effect_modelling)
                         if explanations else None,
                         warnings=tuple(map(with_severity, warnings)), summary=summary, pairwise=pairwise)


def dose_report(bundle: ModelBundle, patient: ValidatedPatient, values: tuple, base: np.ndarray, contrib: np.ndarray,
                formula: float, groups: np.ndarray | None, representation: list, missing: tuple, *,
                patient_id: str | None = None) -> PatientReport:
    """A dose cohort's report from the numbers: the model's base value and contributions (one row), the
    IWPC formula's dose (NaN when it cannot be computed) and the patient's conformal group (race)."""
    common, warnings = _common(bundle, patient, representation, missing, patient_id)
    spec = bundle.spec
    expl = explain_dose_from(spec, bundle.model, values, base, contrib)
    dose = {"mg_per_week": float(expl.output), "unit": "mg/week", "interval": None, "coverage": None,
            "iwpc_formula_mg_per_week": None if np.isnan(formula) else formula,
            "fixed_dose_mg_per_week": FIXED_DOSE_MG_PER_WEEK}
    if bundle.conformal is not None:
        res = dose_interval_in_groups(bundle.conformal, groups, np.array([expl.output]))
        dose["coverage"] = bundle.conformal.coverage
        dose["interval_group"] = str(res.group[0]) if res.group is not None else None
        if res.status[0] == "ok":
            dose["interval"] = [float(res.low[0]), float(res.high[0])]
        else:
            warnings.append({"kind": WarningKind.INSUFFICIENT_EVIDENCE.value, "severity": "high", "message": str(res.reason[0])})
    if np.isnan(formula):
        dose["iwpc_formula_note"] = "The IWPC formula needs height and weight; one of them is missing."
    reasons = _evidence_reasons(spec, warnings)
    guideline = next((w["headline"] for w in warnings if w.get("headline")), None)
    summary = dose_summary(dose["mg_per_week"], dose["interval"], dose["coverage"], insufficient=reasons,
                           guideline=guideline)
    if summary.insufficient:
        dose["insufficient_evidence"] = True
    return PatientReport(**common, explanation=expl, dose=dose, warnings=tuple(map(with_severity, warnings)),
                         summary=summary)


def _outcome(spec) -> dict:
    o = spec.outcome
    out = {"label": o.label, "type": o.type, "higher_is_worse": o.higher_is_worse}
    if o.horizon is not None:
        out.update(horizon=o.horizon, time_unit=o.time_unit)
    if o.unit:
        out["unit"] = o.unit
    return out


def error_report(bundle: ModelBundle, error: PatientValidationError, *, row: int | None = None,
                 patient_id: str | None = None) -> dict:
    """The report for a refused record: its errors, so nothing is dropped silently."""
    out: dict = {"cohort": bundle.spec.name, "model": model_info(bundle)}
    if row is not None:
        out["row"] = row
    if patient_id is not None:
        out["patient_id"] = patient_id
    out["errors"] = [e.to_dict() for e in error.errors]
    out["warnings"] = []
    return out


