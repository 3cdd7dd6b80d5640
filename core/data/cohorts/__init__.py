"""Cohorts: declarative specs and verified, offline data.

>>> from core.data import load_cohort
>>> cohort = load_cohort("actg175")     # sha256-checked file from the installed lifelines package
>>> cohort.spec.arms
['ZDV', 'ZDV+ddI', 'ZDV+ddC', 'ddI']
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..._errors import InputFileError
from ..spec import CohortSpec
from ._bundled import BUNDLED, load_spec
from ._cache import load_bundled_cached as _load_bundled
from ._frame import ARM, PATIENT_ID, Cohort, cohort_from_frame, patient_frame, protected_attributes
from ._sources import sha256_file

__all__ = [
    "ARM", "BUNDLED", "PATIENT_ID", "Cohort", "cohort_from_csv", "cohort_from_frame", "list_cohorts",
    "load_cohort", "load_spec", "patient_frame", "protected_attributes",
]

MSG_UNKNOWN_COHORT = "Unknown cohort {name!r}. Bundled cohorts: {known}."


def list_cohorts() -> list[str]:
    return list(BUNDLED)


def load_cohort(name: str) -> Cohort:
    """Load a bundled cohort offline, verifying its file's sha256 before parsing it."""
    if name not in BUNDLED:
        raise InputFileError(MSG_UNKNOWN_COHORT.format(name=name, known=", ".join(BUNDLED)))
    return _load_bundled(name)


def cohort_from_csv(csv: str | Path, spec: CohortSpec | str | Path) -> Cohort:
    """A user's own cohort: a CSV whose columns are named as in the spec (see README)."""
    if not isinstance(spec, CohortSpec):
        spec = CohortSpec.from_json(spec)
    path = Path(csv)
    if not path.is_file():
        raise InputFileError(f"CSV file {str(path)!r} does not exist.")
    try:
        raw = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputFileError(f"CSV file {str(path)!r} could not be read: {exc}") from None
    source = {"file": str(path), "sha256": sha256_file(path)}
    return cohort_from_frame(spec, raw, source=source)
