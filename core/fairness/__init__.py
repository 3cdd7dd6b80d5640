"""For whom does it work: the subgroup audit (a queryable result, like fairlearn's MetricFrame), groups and
their intersections, the audit of any predictions file, the novelty detector and the patient's warnings."""

from .audit import BINARY_METRICS, REGRESSION_METRICS, WORSE_DIRECTION, audit_subgroups
from ._result import FlaggedMetric, GroupResult, MetricValue, SubgroupAudit
from ._significance import CORRECTIONS, FLAG_METRICS
from .groups import INTERSECTION_SEPARATOR, intersection_name, is_intersection, patient_groups
from .novelty import FeatureFlag, NoveltyAssessment, NoveltyDetector, fit_novelty, novelty_matrix
from .patient_warnings import (METRIC_NAMES, MSG_OOD_CATEGORY, MSG_OOD_FEATURE, RepresentationPolicy,
                               representation_warnings)
from .predictions_file import audit_predictions_file

__all__ = [
    "BINARY_METRICS", "CORRECTIONS", "FLAG_METRICS", "INTERSECTION_SEPARATOR", "METRIC_NAMES", "MSG_OOD_CATEGORY", "MSG_OOD_FEATURE",
    "REGRESSION_METRICS", "WORSE_DIRECTION", "FeatureFlag", "FlaggedMetric", "GroupResult", "MetricValue",
    "NoveltyAssessment", "NoveltyDetector", "RepresentationPolicy", "SubgroupAudit", "audit_predictions_file",
    "audit_subgroups", "fit_novelty", "intersection_name", "is_intersection", "novelty_matrix", "patient_groups",
    "representation_warnings",
]
