"""The population: model card, calibration, the subgroup audit and a patient's groups in it.

Model cards and calibration curves are computed once per bundle content (core._memo) *below* the logging:
every view is handed to the observers, cache hit or not."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import _memo
from .._observers import CALIBRATION, MODEL_CARD, SUBGROUP_AUDIT, _shown
from ..modeling.bundle import ModelBundle


def model_card(bundle: ModelBundle):
    """What the model is for, how it was checked, and its limitations (computed once per bundle, logged per view)."""
    return _shown(MODEL_CARD, bundle, _memo.model_card(bundle))


def calibration_curve(bundle: ModelBundle, *, by: str | None = None, n_bins: int = 10) -> list[dict]:
    """Held-out calibration curves, overall or per group of a protected attribute (computed once, logged per view)."""
    return _shown(CALIBRATION, bundle, _memo.calibration_curves(bundle, by, n_bins))


def audit_predictions_file(path: str | Path, **options):
    """The subgroup audit of any model's predictions in a CSV or Parquet file."""
    from ..fairness import audit_predictions_file as _audit_predictions_file

    return _audit_predictions_file(path, **options)


def patient_groups(bundle: ModelBundle, record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The patient's (attribute, group) pairs as the subgroup audit names them (intersections included)."""
    from ..fairness import patient_groups as _patient_groups

    return _patient_groups(bundle.spec, dict(record))

def subgroup_audit(bundle: ModelBundle):
    """The held-out subgroup audit stored in the bundle (None for a bundle trained without one)."""
    return _shown(SUBGROUP_AUDIT, bundle, bundle.audit)
