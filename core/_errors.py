"""Exceptions and warning classes.

Errors are for things Equipoise refuses (an impossible value, a tampered bundle);
warnings are statistical caveats a caller can catch, record and show
(``warnings.catch_warnings`` / ``pytest.warns``), in the spirit of lifelines'
``StatisticalWarning``.
"""

from __future__ import annotations

from dataclasses import dataclass


class EquipoiseError(Exception):
    """Base class for every error Equipoise raises on purpose.

    The CLI prints ``str(error)`` and exits non-zero; no traceback reaches a user.
    """


@dataclass(frozen=True)
class FieldError:
    """One refused input field: which field, what arrived, and why."""

    field: str
    value: object
    message: str

    def to_dict(self) -> dict:
        value = self.value
        if not isinstance(value, (str, int, float, bool, type(None))):
            value = repr(value)
        return {"field": self.field, "value": value, "message": self.message}


class PatientValidationError(EquipoiseError):
    """A patient record was refused. ``errors`` lists every failing field, not just the first."""

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        super().__init__("\n".join(e.message for e in self.errors))


class SpecError(EquipoiseError):
    """A cohort spec is malformed."""


class DataIntegrityError(EquipoiseError):
    """A data file is missing, has an unexpected hash, or cannot be read safely."""


class BundleIntegrityError(EquipoiseError):
    """A model bundle is missing, changed, or has files its manifest does not list."""


class InputFileError(EquipoiseError):
    """A user-supplied file (CSV, JSON, Parquet) is malformed or lacks what is needed."""


# --- statistical caveats -------------------------------------------------------------------


class EquipoiseWarning(UserWarning):
    """Base class of Equipoise's statistical caveats."""


class ImplausibleValueWarning(EquipoiseWarning):
    """A value is possible but outside the clinically plausible range: it was used, and flagged."""


class SmallSubgroupWarning(EquipoiseWarning):
    """A subgroup is too small for a metric to be reported as a number."""


class OutOfDistributionWarning(EquipoiseWarning):
    """A patient lies outside the data the model was trained on."""


class InsufficientEvidenceWarning(EquipoiseWarning):
    """The evidence is too thin for a confident number (interval too wide, calibration set too small)."""


class BaselineWinsWarning(EquipoiseWarning):
    """On the held-out test split the model does not beat a simple baseline."""
