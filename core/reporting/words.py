"""Words for people: every code name a screen or report could show, in clinical words, and shares as percentages.

One place for the rules, so pages only lay out: a metric (``auc``, ``c_for_benefit[Lev vs Obs]``,
``calibration_slope_ci_high``), a protected attribute (``age_band``, ``race x age_band``), an audit-log entry's
kind (``patient_report``), a warning's kind (``outside_evidence``), a training condition (``decide_first``) and a
signature state (``unsigned``) each have a label here; :func:`percent` writes a share (0.4741) as ``47.4%``.
A name without a label is shown with its underscores as spaces (never as code), so a new metric still reads.
"""

from __future__ import annotations

import math

from ..data.spec import CohortSpec
from ..fairness.groups import INTERSECTION_SEPARATOR

__all__ = ["AUDIT_KINDS", "CONDITIONS", "METRICS", "SHARE_METRICS", "WARNING_KINDS", "attribute_label",
           "audit_kind_label", "change_text", "condition_label", "group_text", "no_lever_text", "metric_label", "metric_value", "percent",
           "plain_words", "signature_text", "warning_kind_label"]

# Metrics of the model card, the subgroup audit and monitoring: label (with the unit or the reading aid).
METRICS = {
    "auc": "Discrimination (AUC; 0.5 is chance, 1 is perfect)",
    "brier": "Brier score (lower is better)",
    "c_for_benefit": "Benefit ranking (c-for-benefit; 0.5 is chance)",
    "calibration_intercept": "Calibration intercept (0 is ideal)",
    "calibration_slope": "Calibration slope (1 is ideal)",
    "calibration_slope_ci_low": "Calibration slope, lower end of the 95% interval",
    "calibration_slope_ci_high": "Calibration slope, upper end of the 95% interval",
    "cv_calibration_slope": "Calibration slope, cross-validated on the training patients",
    "mae": "Mean absolute error (mg/week)",
    "mape": "Mean absolute error as a share of the dose",
    "mean_error": "Mean error (mg/week, predicted − actual)",
    "within_20": "Share within 20% of the actual dose",
    "coverage": "Interval coverage",
    "outcome_rate": "Observed outcome rate",
    "mean_predicted": "Mean estimated risk",
    "mean_outcome": "Mean actual dose (mg/week)",
    "black_white_mae_gap": "Black − White gap in mean absolute error (mg/week)",
    "asian_white_mae_gap": "Asian − White gap in mean absolute error (mg/week)",
    "black_white_gap": "Black − White gap in mean absolute error (mg/week)",
    "asian_white_gap": "Asian − White gap in mean absolute error (mg/week)",
    "psi": "Input drift (population stability index)",
}
SHARE_METRICS = frozenset({"within_20", "coverage", "outcome_rate", "mean_predicted", "mape"})

AUDIT_KINDS = {
    "patient_report": "Patient report shown", "refused_record": "Patient record refused", "what_if": "What-if shown",
    "counterfactual": "Smallest change shown", "effect_curve": "One feature's effect shown",
    "model_card": "Model card shown", "subgroup_audit": "Subgroup audit shown", "calibration_curve": "Calibration shown",
    "cds_card": "EHR card sent", "cds_feedback": "EHR card feedback", "export": "Export", "decision": "Decision recorded",
    "bundle_trained": "Model trained", "bundle_refused": "Model refused", "monitoring": "Monitoring report",
    "training_session": "Training session", "training_case": "Training case shown",
    "training_advice": "Training advice shown", "training_answer": "Training answer", "training_debrief": "Training debrief",
    "training_report": "Training scores shown", "sign_in": "Signed in", "sign_out": "Signed out",
    "board_meeting": "Board meeting created", "board_case": "Board case added or changed",
    "board_snapshot": "Board case presented", "board_decision": "Board decision recorded",
    "board_signoff": "Board decision signed off", "board_followup": "Board follow-up recorded",
}
WARNING_KINDS = {
    "insufficient_evidence": "insufficient evidence", "out_of_distribution": "unlike the training patients",
    "outside_evidence": "outside the trial's evidence", "implausible_value": "unusual value",
    "missing_value": "missing value", "worse_performance": "model works less well for this group",
    "underrepresented": "few similar patients in training", "small_subgroup": "few similar patients in training",
    "guideline": "guideline applies first", "novelty": "unusual combination of values",
}
CONDITIONS = {"decide_first": "decide first, then advice", "advice_first": "advice first (for comparison)"}


def plain_words(name: str) -> str:
    """A code name with nothing better: ``'age_band'`` -> ``'age band'``."""
    return str(name).replace("_", " ").strip()


def _lookup(table: dict, name) -> str:
    return table.get(name) or plain_words(name)


def metric_label(name: str) -> str:
    """``'auc'`` -> ``'Discrimination (AUC; …)'``; ``'c_for_benefit[Lev vs Obs]'`` -> ``'Benefit ranking
    (c-for-benefit; 0.5 is chance), Lev vs Obs'``; an unknown name in plain words."""
    name = str(name)
    if name.endswith("]") and "[" in name:
        base, detail = name[:-1].split("[", 1)
        return f"{metric_label(base)}, {detail}"
    return METRICS.get(name) or plain_words(name).capitalize()


def percent(share, digits: int = 1) -> str:
    """A share as a percentage: ``0.4741`` -> ``'47.4%'``; ``'—'`` when unknown."""
    if share is None or (isinstance(share, float) and not math.isfinite(share)):
        return "—"
    return f"{100 * float(share):.{digits}f}%"


def metric_value(name: str, value, *, signed: bool = False, bare: bool = False) -> str:
    """One metric's value as a table shows it: a share as a percentage, AUC and the like to three decimals,
    errors in mg/week to one; ``'—'`` when unknown. ``signed`` writes a difference with its sign (a share's in
    percentage points; ``bare`` leaves the word "points" out, for an interval written after it)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    base = str(name).split("[", 1)[0]
    if base in SHARE_METRICS:
        text = (f"{100 * float(value):+.1f}" + " points" * (not bare)) if signed else percent(value)
    elif base in ("mae", "mean_error", "mean_outcome") or base.endswith("_gap"):
        text = f"{float(value):+.1f}" if signed else f"{float(value):.1f}"
    else:
        text = f"{float(value):+.3f}" if signed else f"{float(value):.3f}"
    return text.replace("-", "−")


def change_text(delta, unit: str, *, decimals: int = 1) -> str | None:
    """A change as a metric's delta: ``'+0.9 points'``; None when it is zero at the shown precision, so a zero
    change is never drawn as a coloured arrow with "+0.0"."""
    if delta is None or round(float(delta), decimals) == 0:
        return None
    return f"{float(delta):+.{decimals}f} {unit}".rstrip()


def no_lever_text(spec: CohortSpec) -> str:
    """What-if, plan mode, when no recorded value is a lever: the arm (or the dose) is the only one, in plain words."""
    from ..explain.counterfactual import no_actionable_message

    return no_actionable_message(spec)


def attribute_label(spec: CohortSpec | None, name: str) -> str:
    """A protected attribute (or an intersection of them) in words: ``'race'`` -> ``'Race'``, ``'age_band'`` ->
    ``'Age band'``, ``'race x age_band'`` -> ``'Race × age band'``. An attribute that is a feature takes the
    feature's label."""
    parts = str(name).split(INTERSECTION_SEPARATOR)
    words = []
    for part in parts:
        label = None
        if spec is not None:
            attr = next((p for p in spec.protected if p.name == part), None)
            if attr is not None and not attr.bins and attr.source in spec.feature_names:
                label = spec.feature(attr.source).label
            elif part in spec.feature_names:
                label = spec.feature(part).label
        words.append(label or plain_words(part))
    text = " × ".join([words[0]] + [w[:1].lower() + w[1:] if w[1:2].islower() else w for w in words[1:]])
    return text[:1].upper() + text[1:]


def group_text(spec: CohortSpec | None, attribute: str, group: str) -> str:
    """``('race x age_band', 'white x ≥50')`` -> ``'Race × age band: white, ≥50'``."""
    values = str(group).split(INTERSECTION_SEPARATOR)
    return f"{attribute_label(spec, attribute)}: {', '.join(values)}"


def audit_kind_label(kind: str) -> str:
    return _lookup(AUDIT_KINDS, kind)


def warning_kind_label(kind: str) -> str:
    return _lookup(WARNING_KINDS, kind)


def condition_label(condition: str) -> str:
    return _lookup(CONDITIONS, condition)


def signature_text(signed_by: dict | None) -> str:
    """Who signed a bundle, for a caption: ``'signed by …'`` or that it carries no signature."""
    signed_by = signed_by or {}
    if not signed_by.get("signed"):
        return "not signed (no signing key is configured here)"
    text = str(signed_by.get("text") or "")
    return text if text.lower().startswith("signed") else f"signed by {text}"
