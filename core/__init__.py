"""Equipoise core: cohorts, models, exact explanations, uncertainty and subgroup audits.

A pure Python package: it never imports streamlit (a test checks). Pages only lay out the small
result objects computed here.
"""

__version__ = "0.1.0"

from ._errors import (  # noqa: E402
    BaselineWinsWarning,
    BundleIntegrityError,
    DataIntegrityError,
    EquipoiseError,
    FieldError,
    ImplausibleValueWarning,
    InputFileError,
    InsufficientEvidenceWarning,
    OutOfDistributionWarning,
    PatientValidationError,
    SmallSubgroupWarning,
    SpecError,
)
from .data.spec import CohortSpec, FeatureSpec  # noqa: E402

__all__ = [
    "BaselineWinsWarning", "BundleIntegrityError", "CohortSpec", "DataIntegrityError", "EquipoiseError",
    "FeatureSpec", "FieldError", "ImplausibleValueWarning", "InputFileError", "InsufficientEvidenceWarning",
    "OutOfDistributionWarning", "PatientValidationError", "SmallSubgroupWarning", "SpecError", "__version__",
]
