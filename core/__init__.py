"""Equipoise core: cohorts, models, exact explanations, uncertainty and subgroup audits.

A pure Python package: it never imports streamlit (a test checks). Pages and the CLI go through
:mod:`core.service`; they only lay out the small result objects computed here.

Subpackages, one concept each:

========================  =========================================================================
``core.data``             cohort specs, bundled cohorts, patient validation, templates, IPCW labels
``core.modeling``         design matrices, linear + boosted model, tuning, training, bundles
``core.evaluation``       metrics, baselines, held-out comparison, calibration, decision curve, benefit
``core.uncertainty``      bootstrap ensemble, conformal intervals, missing inputs
``core.fairness``         subgroup audit, predictions-file audit, novelty detector, patient warnings
``core.explain``          explanation value object, what-if, counterfactual search, effect curves
``core.reporting``        patient report, model card, figures
``core.store``            the database: SQLAlchemy engine and sessions, packaged Alembic migrations
``core.audit``            the append-only, hash-chained audit log: append, verify, export
``core.auth``             identities and roles: local mode's single user, sign-in, what each role may open
``core.training``         trainee mode: held-out cases, truth rules, deliberately wrong advice, reliance scores
``core.board``            tumor boards: meetings, agenda, frozen snapshots, versioned decisions, reports
``core.service``          the one entry point for pages, CLI and the audit log
========================  =========================================================================

The public names below are imported lazily (PEP 562), so ``import core`` stays cheap.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

from ._errors import (  # noqa: E402
    BaselineWinsWarning,
    BundleIntegrityError,
    DataIntegrityError,
    EquipoiseError,
    EquipoiseWarning,
    FieldError,
    ImplausibleValueWarning,
    InputFileError,
    InsufficientEvidenceWarning,
    OutOfDistributionWarning,
    PatientValidationError,
    SmallSubgroupWarning,
    SpecError,
)

_LAZY = {
    "CohortSpec": "core.data", "FeatureSpec": "core.data", "load_cohort": "core.data",
    "cohort_from_csv": "core.data", "list_cohorts": "core.data", "validate_patient": "core.data",
    "patient_template": "core.data",
    "build_bundle": "core.modeling.pipeline", "load_bundle": "core.modeling", "ModelBundle": "core.modeling",
    "predict_patient": "core.reporting.patient_report", "PatientReport": "core.reporting.patient_report",
    "model_card": "core.reporting", "ModelCard": "core.reporting",
    "audit_subgroups": "core.fairness", "SubgroupAudit": "core.fairness",
    "what_if": "core.explain", "counterfactual": "core.explain", "ice_curve": "core.explain",
    "Explanation": "core.explain",
    "service": "core.service",
}

__all__ = sorted([
    "BaselineWinsWarning", "BundleIntegrityError", "DataIntegrityError", "EquipoiseError", "EquipoiseWarning",
    "FieldError", "ImplausibleValueWarning", "InputFileError", "InsufficientEvidenceWarning",
    "OutOfDistributionWarning", "PatientValidationError", "SmallSubgroupWarning", "SpecError", "__version__",
    *_LAZY,
])


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        value = module if name == "service" else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
