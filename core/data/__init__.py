"""Data: cohort specs, the bundled cohorts (verified, offline), patient validation, templates and
censoring-aware horizon labels (IPCW)."""

from .cohorts import (ARM, BUNDLED, PATIENT_ID, Cohort, cohort_from_csv, cohort_from_frame, list_cohorts, load_cohort,
                      load_spec, patient_frame, protected_attributes)
from .spec import CohortSpec, FeatureSpec, OutcomeSpec, ProtectedAttribute, TreatmentSpec
from .survival import HorizonOutcome, censoring_survival, horizon_outcome
from .template import patient_template
from .validation import ValidatedPatient, validate_patient

__all__ = [
    "ARM", "BUNDLED", "PATIENT_ID", "Cohort", "CohortSpec", "FeatureSpec", "HorizonOutcome", "OutcomeSpec",
    "ProtectedAttribute", "TreatmentSpec", "ValidatedPatient", "censoring_survival", "cohort_from_csv",
    "cohort_from_frame", "horizon_outcome", "list_cohorts", "load_cohort", "load_spec", "patient_frame",
    "patient_template", "protected_attributes", "validate_patient",
]
