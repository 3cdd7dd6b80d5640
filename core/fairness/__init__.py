"""For whom does it work: the subgroup audit (a queryable result, like fairlearn's MetricFrame), groups and
their intersections, the audit of any predictions file and the patient's warnings (the novelty detector behind the
out-of-distribution warning is in :mod:`core.uncertainty.novelty`)."""

from .audit import BINARY_METRICS, REGRESSION_METRICS, WORSE_DIRECTION, audit_subgroups
from ._estimates import WITHIN_TOLERANCE, comparison, insufficient, metric_value, min_sizes
from ._result import AUDIT_FORMAT_VERSION, FlaggedMetric, GroupResult, MetricValue, SubgroupAudit
from ._significance import CORRECTIONS, FLAG_METRICS, adjust as adjust_p_values, worse_gap
from .groups import INTERSECTION_SEPARATOR, intersection_name, is_intersection, patient_groups
from .patient_warnings import (METRIC_NAMES, MSG_OOD_CATEGORY, MSG_OOD_FEATURE, RepresentationPolicy,
                               representation_warnings)
from .predictions_file import audit_predictions_file

__all__ = [
    # building blocks of the audit, shared with the partition-wise audit and monitoring (core.scale)
    "AUDIT_FORMAT_VERSION", "WITHIN_TOLERANCE", "adjust_p_values", "comparison", "insufficient", "metric_value",
    "min_sizes", "worse_gap",
    "BINARY_METRICS", "CORRECTIONS", "FLAG_METRICS", "INTERSECTION_SEPARATOR", "METRIC_NAMES", "MSG_OOD_CATEGORY", "MSG_OOD_FEATURE",
    "REGRESSION_METRICS", "WORSE_DIRECTION", "FlaggedMetric", "GroupResult", "MetricValue",
    "RepresentationPolicy", "SubgroupAudit", "audit_predictions_file",
    "audit_subgroups", "intersection_name", "is_intersection", "patient_groups",
    "representation_warnings",
]
