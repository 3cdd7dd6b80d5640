"""For whom does it work: per-patient warnings about representation and distribution shift.

Warnings are data — ``{kind, severity, message, ...the numbers behind it}`` — so the dashboard can render
and rank them and tests can assert them. Kinds: ``underrepresented``, ``worse_performance``,
``out_of_distribution``; ``severity`` is ``high``, ``medium`` or ``low`` (policy below). Messages use
plain clinical words; metric names and numbers such as p-values live in the dict fields.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .._format import short_number as fmt_number
from .._errors import OutOfDistributionWarning, SmallSubgroupWarning
from ..data.cohorts import protected_attributes
from ..uncertainty.novelty import KIND_RANGE, KIND_UNOBSERVED, NoveltyDetector, novelty_matrix
from ..data.spec import CohortSpec
from ._significance import flag_severity, worse_gap
from ._estimates import WORSE_DIRECTION
from .audit import SubgroupAudit
from .groups import INTERSECTION_SEPARATOR
from .._kinds import WarningKind

MSG_UNDERREPRESENTED = ("Few patients like this one were in the training data: {n} of {total} training patients "
                        "({share:.1%}) were in the group {label}; estimates for this group rest on little data.")
MSG_WORSE_LEAD = "For patients in the same group as this patient ({label}), "
MSG_WORSE = {
    "within_20": "the model's dose was within 20% of the dose finally needed for {value:.0%} of held-out test "
                 "patients, against {rest:.0%} of other patients.",
    "mape": "the model's dose was off by {value:.0%} of the dose finally needed on average, against {rest:.0%} "
            "for other patients.",
    "coverage": "the dose range shown contained the dose finally needed for {value:.0%} of held-out test patients, "
                "against {rest:.0%} of other patients.",
    "auc": "the model was less able than for other patients to tell those who went on to have the outcome from "
           "those who did not.",
    "calibration_intercept": "the model's risk estimates were less accurate than for other patients: on average "
                             "they were too {direction}{rates}.",
    "calibration_slope": "the model's risk estimates were less accurate than for other patients: {detail}.",
    None: "the model performed less well than for other patients.",
}
MSG_WORSE_RATES = " ({observed:.0%} had the outcome, {predicted:.0%} was estimated)"
MSG_SLOPE_LOW = "its highest and lowest estimates were too extreme for this group"
MSG_SLOPE_HIGH = "its estimates were too close together for this group (high risks too low, low risks too high)"
MSG_WORSE_TAIL = (" The difference remains after allowing for the {n_tests} comparisons the audit made "
                  "({n} held-out test patients in the group).")
MSG_OOD_FEATURE = "{label} = {value}{unit} lies outside the training range [{lo}, {hi}]{unit}."
MSG_OOD_CATEGORY = "{label} = {value} never occurs in the training data."
MSG_OOD_NOVEL = ("This patient's combination of values is unusual for the training data (more unusual than "
                 "{pct:.0f}% of held-out training patients; about 1% of patients like those in training get this "
                 "warning).")

METRIC_NAMES = {"auc": "AUC", "brier": "Brier score", "calibration_intercept": "calibration intercept",
                "calibration_slope": "calibration slope", "mae": "mean absolute error (mg/week)",
                "mape": "mean absolute percentage error", "mean_error": "mean error (mg/week)",
                "within_20": "share within 20% of the actual dose", "coverage": "interval coverage",
                "c_for_benefit": "c-for-benefit", "outcome_rate": "observed outcome rate",
                "mean_predicted": "mean estimated risk", "mean_outcome": "mean actual dose (mg/week)"}

# Severity policy (the integrator shows high and medium banners; low ones sit in the details):
# a value the model never saw in training is extrapolation -> high; an unusual combination of
# values each seen in training -> medium; a group with fewer than min_train_n training patients
# -> medium, one that is merely a small share of training -> low; a group the model serves worse
# -> medium, high only for a large gap with a corrected p-value below 0.001 (``_significance``).
SEVERITY_OOD_FEATURE, SEVERITY_OOD_NOVEL = "high", "medium"
SEVERITY_FEW, SEVERITY_SMALL_SHARE = "medium", "low"
SEVERITIES = ("high", "medium", "low")


def group_label(attribute: str, group: str) -> str:
    """``('race x age_band', 'Black x ≥50')`` -> ``'race and age band: Black, ≥50'`` (no code names)."""
    names = [a.replace("_", " ") for a in attribute.split(INTERSECTION_SEPARATOR)]
    values = group.split(INTERSECTION_SEPARATOR) if len(names) > 1 else [group]
    return f"{' and '.join(names)}: {', '.join(values)}"


@dataclass(frozen=True)
class RepresentationPolicy:
    """When a group counts as underrepresented in the training data."""

    min_train_n: int = 50
    min_train_share: float = 0.05


def representation_warnings(spec: CohortSpec, row: pd.DataFrame, *, audit: SubgroupAudit | None,
                            detector: NoveltyDetector | None, train_total: int,
                            policy: RepresentationPolicy = RepresentationPolicy()) -> list[dict]:
    attrs = protected_attributes(spec, row).iloc[0].to_dict()
    novelty = novelty_matrix(spec, row)[0][0] if detector is not None else None
    return representation_warnings_from(spec, attrs, novelty, audit=audit, detector=detector, train_total=train_total,
                                        policy=policy)


def representation_warnings_from(spec: CohortSpec, attrs: dict, novelty, *, audit: SubgroupAudit | None,
                                 detector: NoveltyDetector | None, train_total: int,
                                 policy: RepresentationPolicy = RepresentationPolicy()) -> list[dict]:
    """:func:`representation_warnings` from the patient's protected groups (``{attribute: group}``) and
    novelty row (one row of :func:`novelty_matrix`), e.g. as the numeric fast path computes them."""
    out: list[dict] = []
    if audit is not None:
        out += _group_warnings(audit, attrs, train_total, policy)
    if detector is not None:
        out += _ood_warnings(spec, novelty, detector)
    for w in out:
        category = OutOfDistributionWarning if w["kind"] == WarningKind.OUT_OF_DISTRIBUTION else SmallSubgroupWarning
        if w["kind"] != WarningKind.WORSE_PERFORMANCE:
            warnings.warn(w["message"], category, stacklevel=2)
    return out


def representation_warnings_many(spec: CohortSpec, attrs: list[dict], novelty, *, audit: SubgroupAudit | None,
                                 detector: NoveltyDetector | None, train_total: int,
                                 policy: RepresentationPolicy = RepresentationPolicy()) -> list[list[dict]]:
    """:func:`representation_warnings_from` for many patients (``novelty``: their rows of
    :func:`novelty_matrix`), the same lists: the group warnings are worked out once per combination of
    groups, and the out-of-distribution checks run one patient at a time only where a check over all rows
    at once cannot clear the patient (a value outside the training range, or a novelty score near or
    above the threshold: a margin far wider than rounding keeps the two checks in agreement)."""
    n = len(attrs)
    screened = np.zeros(n, dtype=bool)
    if detector is not None and n:
        x = np.asarray(novelty, dtype=float)
        lo, hi = detector.min_, detector.max_
        with np.errstate(invalid="ignore"):
            outside = ~np.isnan(x) & (np.isnan(lo) | (x < lo) | (x > hi))
        threshold = float(detector.threshold_)
        screened = outside.any(axis=1) | (detector.score(x) > threshold - 1e-9 * max(1.0, abs(threshold)))
    known: dict = {}
    out = []
    for i, a in enumerate(attrs):
        if screened[i]:
            out.append(representation_warnings_from(spec, a, novelty[i], audit=audit, detector=detector,
                                                    train_total=train_total, policy=policy))
            continue
        key = tuple(a.items())
        if key not in known:
            known[key] = _group_warnings(audit, a, train_total, policy) if audit is not None else []
        ws = [dict(w) for w in known[key]]
        for w in ws:
            if w["kind"] != WarningKind.WORSE_PERFORMANCE:
                warnings.warn(w["message"], SmallSubgroupWarning, stacklevel=2)
        out.append(ws)
    return out


def _group_warnings(audit: SubgroupAudit, attrs: dict, train_total: int, policy: RepresentationPolicy) -> list[dict]:
    out = []
    for g in audit.groups_of(attrs):
        n = g.train_n or 0
        share = g.train_share if g.train_share is not None else (n / train_total if train_total else 0.0)
        label = group_label(g.attribute, g.group)
        if n < policy.min_train_n or share < policy.min_train_share:
            out.append({"kind": WarningKind.UNDERREPRESENTED.value, "severity": SEVERITY_FEW if n < policy.min_train_n
                        else SEVERITY_SMALL_SHARE, "attribute": g.attribute, "group": g.group, "train_n": n,
                        "train_share": share, "thresholds": asdict(policy),
                        "message": MSG_UNDERREPRESENTED.format(label=label, n=n, total=train_total, share=share)})
        for metric, mv in g.metrics.items():
            if mv.flagged and not mv.insufficient_data:
                out.append(_worse_warning(audit, g, metric, mv, label))
    return out


def _worse_warning(audit: SubgroupAudit, g, metric: str, mv, label: str) -> dict:
    direction = WORSE_DIRECTION.get(metric)
    gap = worse_gap(direction, mv.value, mv.complement) if direction and mv.complement is not None else None
    n_tests = audit.settings.get("n_tests")
    return {"kind": WarningKind.WORSE_PERFORMANCE.value, "severity": flag_severity(metric, gap, mv.p_adjusted),
            "attribute": g.attribute, "group": g.group, "metric": metric, "value": mv.value,
            "overall": audit.overall[metric].value, "rest": mv.complement, "difference": mv.difference,
            "ci": [mv.difference_ci_low, mv.difference_ci_high], "test_n": g.n, "p_value": mv.p_value,
            "p_adjusted": mv.p_adjusted, "correction": mv.correction, "n_tests": n_tests,
            "message": _worse_message(g, metric, mv, label, n_tests)}


def _worse_message(g, metric: str, mv, label: str, n_tests) -> str:
    """The flag in plain clinical words; the numbers stay in the warning's fields."""
    rates = ""
    rate, predicted = g.metrics.get("outcome_rate"), g.metrics.get("mean_predicted")
    if rate is not None and predicted is not None and rate.value is not None and predicted.value is not None:
        rates = MSG_WORSE_RATES.format(observed=rate.value, predicted=predicted.value)
    body = MSG_WORSE.get(metric, MSG_WORSE[None]).format(
        value=mv.value, rest=mv.complement if mv.complement is not None else float("nan"), rates=rates,
        direction="high" if (mv.value or 0.0) < 0 else "low",
        detail=MSG_SLOPE_LOW if (mv.value or 1.0) < 1 else MSG_SLOPE_HIGH)
    tail = MSG_WORSE_TAIL.format(n_tests=n_tests, n=g.n) if n_tests else ""
    return MSG_WORSE_LEAD.format(label=label) + body + tail


def novelty_names(spec: CohortSpec) -> list[str]:
    """The column names of :func:`novelty_matrix` (a category's column is ``feature=category``)."""
    return [f.name if f.type in ("numeric", "binary") else f"{f.name}={c}" for f in spec.features
            for c in ([None] if f.type in ("numeric", "binary") else f.categories)]


def _ood_warnings(spec: CohortSpec, x_row, detector: NoveltyDetector) -> list[dict]:
    x = np.asarray(x_row, dtype=float)[None, :]
    out = []
    for flag in detector.feature_flags(x[0], novelty_names(spec)):
        if flag.kind not in (KIND_RANGE, KIND_UNOBSERVED):
            continue
        if "=" in flag.feature:
            if flag.value != 1.0:
                continue  # a category the patient does not have
            name, cat = flag.feature.split("=", 1)
            message = MSG_OOD_CATEGORY.format(label=spec.feature(name).label, value=cat)
        else:
            name = flag.feature
            f = spec.feature(name)
            unit = f" {f.unit}" if f.unit else ""
            message = MSG_OOD_FEATURE.format(label=f.label, value=fmt_number(flag.value), unit=unit,
                                             lo=fmt_number(flag.train_min), hi=fmt_number(flag.train_max))
        out.append({"kind": WarningKind.OUT_OF_DISTRIBUTION.value, "severity": SEVERITY_OOD_FEATURE, "scope": "feature",
                    "feature": name, "value": flag.value,
                    "training_range": [flag.train_min, flag.train_max], "message": message})
    score = float(detector.score(x)[0])
    if score > detector.threshold_:
        pct = float(detector.percentile(x)[0])
        out.append({"kind": WarningKind.OUT_OF_DISTRIBUTION.value, "severity": SEVERITY_OOD_NOVEL, "scope": "multivariate",
                    "score": score,
                    "threshold": float(detector.threshold_), "percentile": pct,
                    "message": MSG_OOD_NOVEL.format(pct=min(pct, 99.9))})
    return out
