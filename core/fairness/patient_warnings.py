"""For whom does it work: per-patient warnings about representation and distribution shift.

Warnings are data — ``{kind, message, ...the numbers behind it}`` — so the dashboard can render them
and tests can assert them. Kinds: ``underrepresented``, ``worse_performance``, ``out_of_distribution``.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import pandas as pd

from .._format import short_number as fmt_number
from .._errors import OutOfDistributionWarning, SmallSubgroupWarning
from ..data.cohorts import protected_attributes
from .novelty import KIND_RANGE, KIND_UNOBSERVED, NoveltyDetector, novelty_matrix
from ..data.spec import CohortSpec
from .audit import SubgroupAudit

MSG_UNDERREPRESENTED = ("This patient belongs to the group {attribute} = {group}, with {n} of {total} training "
                        "patients ({share:.1%}); estimates for this group rest on little data.")
MSG_WORSE = ("For {attribute} = {group} the model's {metric} on the held-out test split is {value:.3g} "
             "versus {overall:.3g} overall (difference {difference:+.3g}, 95% CI {lo:+.3g} to {hi:+.3g}): "
             "it performs worse for this group.")
MSG_OOD_FEATURE = "{label} = {value}{unit} lies outside the training range [{lo}, {hi}]{unit}."
MSG_OOD_CATEGORY = "{label} = {value} never occurs in the training data."
MSG_OOD_NOVEL = ("This patient's combination of values is unusual for the training data (novelty score above "
                 "that of {pct:.0f}% of held-out training patients; about 1% of in-distribution patients are flagged).")

METRIC_NAMES = {"auc": "AUC", "brier": "Brier score", "calibration_intercept": "calibration intercept",
                "calibration_slope": "calibration slope", "mae": "mean absolute error (mg/week)",
                "mean_error": "mean error (mg/week)", "within_20": "share within 20% of the actual dose",
                "coverage": "interval coverage", "c_for_benefit": "c-for-benefit"}


@dataclass(frozen=True)
class RepresentationPolicy:
    """When a group counts as underrepresented in the training data."""

    min_train_n: int = 50
    min_train_share: float = 0.05


def representation_warnings(spec: CohortSpec, row: pd.DataFrame, *, audit: SubgroupAudit | None,
                            detector: NoveltyDetector | None, train_total: int,
                            policy: RepresentationPolicy = RepresentationPolicy()) -> list[dict]:
    out: list[dict] = []
    attrs = protected_attributes(spec, row).iloc[0].to_dict()
    if audit is not None:
        out += _group_warnings(audit, attrs, train_total, policy)
    if detector is not None:
        out += _ood_warnings(spec, row, detector)
    for w in out:
        category = OutOfDistributionWarning if w["kind"] == "out_of_distribution" else SmallSubgroupWarning
        if w["kind"] != "worse_performance":
            warnings.warn(w["message"], category, stacklevel=2)
    return out


def _group_warnings(audit: SubgroupAudit, attrs: dict, train_total: int, policy: RepresentationPolicy) -> list[dict]:
    out = []
    for g in audit.groups_of(attrs):
        n = g.train_n or 0
        share = g.train_share if g.train_share is not None else (n / train_total if train_total else 0.0)
        if n < policy.min_train_n or share < policy.min_train_share:
            out.append({"kind": "underrepresented", "attribute": g.attribute, "group": g.group, "train_n": n,
                        "train_share": share, "thresholds": asdict(policy),
                        "message": MSG_UNDERREPRESENTED.format(attribute=g.attribute, group=g.group, n=n,
                                                               total=train_total, share=share)})
        for metric, mv in g.metrics.items():
            if mv.flagged and not mv.insufficient_data:
                overall = audit.overall[metric].value
                out.append({"kind": "worse_performance", "attribute": g.attribute, "group": g.group,
                            "metric": metric, "value": mv.value, "overall": overall, "difference": mv.difference,
                            "ci": [mv.difference_ci_low, mv.difference_ci_high], "test_n": g.n,
                            "message": MSG_WORSE.format(attribute=g.attribute, group=g.group,
                                                        metric=METRIC_NAMES.get(metric, metric), value=mv.value,
                                                        overall=overall, difference=mv.difference,
                                                        lo=mv.difference_ci_low, hi=mv.difference_ci_high)})
    return out


def _ood_warnings(spec: CohortSpec, row: pd.DataFrame, detector: NoveltyDetector) -> list[dict]:
    x, names = novelty_matrix(spec, row)
    out = []
    for flag in detector.feature_flags(x[0], names):
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
        out.append({"kind": "out_of_distribution", "scope": "feature", "feature": name, "value": flag.value,
                    "training_range": [flag.train_min, flag.train_max], "message": message})
    score = float(detector.score(x)[0])
    if score > detector.threshold_:
        pct = float(detector.percentile(x)[0])
        out.append({"kind": "out_of_distribution", "scope": "multivariate", "score": score,
                    "threshold": float(detector.threshold_), "percentile": pct,
                    "message": MSG_OOD_NOVEL.format(pct=min(pct, 99.9))})
    return out
