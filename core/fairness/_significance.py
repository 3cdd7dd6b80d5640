"""Whether a group is worse than the rest: one-sided bootstrap p-values, Holm/BH correction, severity.

Statistical choices (the audit module's docstring summarises them):

* **What is compared.** A group with its complement (every other audited patient), not with an
  overall value that contains the group: a group that is 60% of the sample pulls "overall" towards
  itself, so group-minus-overall shrinks large groups' differences and mixes two populations.
* **The p-value** for "this group is worse" is a one-sided z test with the bootstrap standard error
  of the difference ``d = group - rest`` (both computed on the same whole-sample resamples):
  ``p = 1 - Phi(d_worse / se_boot)``. A percentile bootstrap p-value cannot fall below
  ``1 / (n_boot + 1)`` (0.005 with 200 resamples), so after correcting for ~100-200 tests nothing
  could ever be flagged; the z form uses the same resamples, is continuous, and is the usual
  large-sample test (DeLong's test for AUC is of the same Wald form).
  For metrics whose ideal is a target (calibration intercept 0, slope 1) the group is worse only
  when its estimate is farther from the target than the rest's; then the p-value is the two-sided
  p of ``group - rest`` (else 1). Testing ``|group - t| - |rest - t|`` directly would be biased
  towards flagging small groups, whose ``|estimate - t|`` is inflated by noise alone.
* **Multiplicity.** Every tested (group, metric) of the audit, attributes and intersections alike,
  is one family. The default is **Holm**: it controls the probability of *any* false flag (the
  family-wise error) under arbitrary dependence, which the tests here have (intersections nest in
  their attributes, a group's metrics are correlated, complements overlap). A flag becomes a
  banner on a patient's screen, so the promise "no flag is a chance finding, with 95%
  confidence" is the one worth making; Holm is uniformly more powerful than Bonferroni.
  Benjamini-Hochberg (``"fdr_bh"``, false-discovery rate; valid under positive dependence) is
  available for exploratory audits. Names follow ``statsmodels.stats.multitest.multipletests``.
* **Severity** of a flag: ``medium``; ``high`` only when the adjusted p-value is below
  ``HIGH_P_ADJUSTED`` *and* the gap is at least the metric's ``LARGE_GAP`` (a size that would
  change how far a clinician trusts the estimate).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["CORRECTIONS", "FLAG_METRICS", "HIGH_P_ADJUSTED", "LARGE_GAP", "adjust", "flag_severity",
           "worse_p_value"]

# Metrics that may flag a group, per task. Dose (regression): only metrics that do not grow with the
# dose itself (MAE and mean error do: a group needing higher doses has larger errors in mg/week for
# the same relative accuracy). Binary: discrimination within the group and calibration; Brier mixes
# both with the group's outcome rate (a group nearer 50% scores worse for the same model quality),
# so it is reported but never flags. Calibration is the most direct per-group question for a
# decision aid that shows absolute risks (are this group's risks too high or too low, too extreme or
# too modest); AUC asks whether the model still ranks this group's patients, with the caveat that a
# group with a narrower case mix (an age band) has a lower AUC for the same model. Coverage, when
# intervals are given, flags in both tasks.
FLAG_METRICS = {"regression": ("within_20", "mape", "coverage"),
                "binary": ("auc", "calibration_intercept", "calibration_slope", "coverage")}
CORRECTIONS = {"holm": "Holm", "fdr_bh": "Benjamini-Hochberg", "none": "none"}
HIGH_P_ADJUSTED = 0.001
# a gap (group worse than the rest by at least this much) counts as large
LARGE_GAP = {"within_20": 0.15, "mape": 0.10, "coverage": 0.10, "auc": 0.10,
             "calibration_intercept": 0.5, "calibration_slope": 0.3}
MIN_FINITE_SHARE = 0.5  # a p-value needs at least this share of resamples with a defined difference


def _normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def worse_gap(direction: str, group: float, rest: float) -> float:
    """How much worse the group is than the rest, in the metric's units (negative: better)."""
    if direction == "lower":
        return rest - group
    if direction == "higher":
        return group - rest
    target = 1.0 if direction == "farther_from_1" else 0.0
    return abs(group - target) - abs(rest - target)


def worse_p_value(direction: str | None, group: float, rest: float, reps_group: np.ndarray,
                  reps_rest: np.ndarray) -> float | None:
    """One-sided p-value for "the group is worse than the rest" (None: not testable)."""
    if direction is None or not (math.isfinite(group) and math.isfinite(rest)):
        return None
    d = np.asarray(reps_group, float) - np.asarray(reps_rest, float)
    d = d[np.isfinite(d)]
    if d.size < max(10, MIN_FINITE_SHARE * np.size(reps_group)):
        return None
    se = float(np.std(d, ddof=1))
    if not se > 0:
        return None
    if direction in ("lower", "higher"):
        return _normal_sf(worse_gap(direction, group, rest) / se)
    if worse_gap(direction, group, rest) <= 0:
        return 1.0
    return min(1.0, 2.0 * _normal_sf(abs(group - rest) / se))


def adjust(p_values, method: str) -> np.ndarray:
    """Adjusted p-values (Holm step-down or Benjamini-Hochberg step-up), as ``multipletests`` gives them."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0 or method == "none":
        return p.copy()
    order = np.argsort(p, kind="mergesort")
    ranked = p[order]
    if method == "holm":
        adjusted = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method == "fdr_bh":
        adjusted = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    else:
        raise ValueError(f"Unknown correction {method!r}; use one of {', '.join(CORRECTIONS)}.")
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def flag_severity(metric: str, gap: float | None, p_adjusted: float | None) -> str:
    """``high`` for a large, strongly significant gap; otherwise ``medium`` (see the module docstring)."""
    large = LARGE_GAP.get(metric)
    if (large is not None and gap is not None and p_adjusted is not None and p_adjusted < HIGH_P_ADJUSTED
            and gap >= large):
        return "high"
    return "medium"
