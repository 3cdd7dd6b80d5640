"""FHIR R4 to a patient record: each cohort spec declares, per feature, where its value lives in a chart."""

from .mapping import FhirChart, FhirMappingError, chart_from_bundle, chart_from_prefetch, parse_mapping, record_from_chart

__all__ = ["FhirChart", "FhirMappingError", "chart_from_bundle", "chart_from_prefetch", "parse_mapping",
           "record_from_chart"]
