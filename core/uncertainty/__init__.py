"""How sure: intervals on every number, and an explicit "insufficient evidence" state.

* Arm cohorts — a bootstrap ensemble of the model (``ensemble``): empirical intervals on each arm's risk
  and on the difference between every pair of arms, with limits for "insufficient evidence"
  (``arm_comparison``), and how stable their ends are (``stability``).
* Dose cohort — Mondrian split-conformal prediction intervals by race group, calibrated on a part of the
  training split the model never saw (``conformal``, applied to the dose in ``dose_intervals``), with
  their empirical coverage (``coverage``).
* Missing inputs — the prediction under each plausible value of a missing feature (``missing``).
* Out of distribution — how unlike the training patients this patient is, per feature and as a whole, with a
  conformal p-value (``novelty``).
"""

from .conformal import MondrianConformalRegressor, conformal_rank, min_calibration_size
from .coverage import STATUS_INSUFFICIENT, STATUS_OK, CoverageReport, GroupCoverage, IntervalResult, coverage_report
from .dose_intervals import DOSE_COVERAGE, dose_coverage, dose_groups, dose_interval, fit_dose_conformal
from .arm_comparison import (ArmUncertainty, PairwiseDifference, arm_uncertainty, evidence_limits,
                             pairwise_differences)
from .ensemble import LEVEL, MAX_ARM_WIDTH, MAX_DIFFERENCE_WIDTH, N_MEMBERS, ArmEnsemble, arm_interval_check, fit_ensemble
from .stability import HalfDisagreement, half_disagreement
from .missing import MissingRange, missing_ranges, plausible_values
from .novelty import FeatureFlag, NoveltyAssessment, NoveltyDetector, fit_novelty, novelty_matrix

__all__ = [
    "DOSE_COVERAGE", "LEVEL", "MAX_ARM_WIDTH", "MAX_DIFFERENCE_WIDTH", "N_MEMBERS", "STATUS_INSUFFICIENT",
    "STATUS_OK", "ArmEnsemble", "ArmUncertainty", "CoverageReport", "GroupCoverage", "HalfDisagreement",
    "IntervalResult", "MissingRange", "MondrianConformalRegressor", "PairwiseDifference", "arm_interval_check",
    "arm_uncertainty", "conformal_rank", "coverage_report", "dose_coverage", "dose_groups", "dose_interval",
    "evidence_limits", "fit_dose_conformal", "fit_ensemble", "half_disagreement", "min_calibration_size",
    "missing_ranges", "pairwise_differences", "plausible_values",
    "FeatureFlag", "NoveltyAssessment", "NoveltyDetector", "fit_novelty", "novelty_matrix",
]
