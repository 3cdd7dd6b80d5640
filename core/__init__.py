"""Equipoise core: cohorts, models, exact explanations, uncertainty and subgroup audits.

A pure Python package: it never imports streamlit (a test checks). Pages and the CLI go through
:mod:`core.service`; they only lay out the small result objects computed here.

Subpackages, one concept each:

========================  =========================================================================
``core.data``             cohort specs, bundled cohorts, patient validation, templates, IPCW labels
``core.modeling``         design matrices, linear + boosted model, tuning, training, bundles
``core.evaluation``       metrics, baselines, held-out comparison (paired), average effect, benefit
``core.uncertainty``      bootstrap ensemble, conformal intervals, missing inputs, out-of-distribution detector
``core.fairness``         subgroup audit, predictions-file audit, patient warnings
``core.explain``          explanation value object, what-if, counterfactual search, effect curves
``core.reporting``        patient report, model card, calibration and decision curves, figures
``core.store``            the database: SQLAlchemy engine and sessions, packaged Alembic migrations
``core.audit``            the append-only, hash-chained audit log: append, verify, export
``core.auth``             identities and roles: local mode's single user, sign-in, what each role may open
``core.training``         trainee mode: held-out cases, truth rules, deliberately wrong advice, reliance scores
``core.board``            tumor boards: meetings, agenda, frozen snapshots, versioned decisions, reports
``core.cds``, ``core.fhir`` the CDS Hooks service (bearer tokens, limits) and the FHIR-to-record mapping
``core.scale``            batch reports in chunks, partition-wise audits (one process or Dask)
``core.monitoring``       a deployed model over time: per-window audit, input drift, alerts
``core.simulation``       simulated trials and doses with a known truth, through the full pipeline
``core.service``          the one entry point for pages, CLI and the CDS service; one module per use
========================  =========================================================================

``core`` itself exports only the errors, warnings and value types callers check or lay out, and the service;
nothing here computes or bypasses the service's logging. They are imported lazily (PEP 562), so ``import core``
stays cheap.
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

_LAZY = {  # the value types callers lay out or check; computation is reached through core.service
    "CohortSpec": "core.data", "FeatureSpec": "core.data", "ModelBundle": "core.modeling",
    "PatientReport": "core.reporting.patient_report", "ModelCard": "core.reporting", "SubgroupAudit": "core.fairness",
    "Explanation": "core.explain",
    "service": "core.service",
}

__all__ = [
    "BaselineWinsWarning", "BundleIntegrityError", "DataIntegrityError", "EquipoiseError", "EquipoiseWarning",
    "FieldError", "ImplausibleValueWarning", "InputFileError", "InsufficientEvidenceWarning",
    "OutOfDistributionWarning", "PatientValidationError", "SmallSubgroupWarning", "SpecError", "__version__",
    # imported lazily (_LAZY)
    "CohortSpec", "Explanation", "FeatureSpec", "ModelBundle", "ModelCard", "PatientReport", "SubgroupAudit", "service",
]
assert set(__all__) >= set(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        value = module if name == "service" else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
