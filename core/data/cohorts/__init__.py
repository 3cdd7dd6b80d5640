"""Cohorts: declarative specs and verified, offline data.

>>> from core.data import load_cohort
>>> cohort = load_cohort("actg175")     # sha256-checked file from the installed lifelines package
>>> cohort.spec.arms
['ZDV', 'ZDV+ddI', 'ZDV+ddC', 'ddI']
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from ..._errors import InputFileError
from ..limits import MAX_TRAINING_CSV_BYTES, MAX_TRAINING_CSV_ROWS, parse_csv, read_bounded
from ..spec import CohortSpec
from ._bundled import BUNDLED, load_spec
from ._cache import load_bundled_cached as _load_bundled
from ._frame import ARM, PATIENT_ID, Cohort, cohort_from_frame, patient_frame, protected_attributes

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "ARM", "BUNDLED", "PATIENT_ID", "Cohort", "cohort_from_csv", "cohort_from_frame", "list_cohorts",
    "load_cohort", "load_spec", "patient_frame", "project_sites", "protected_attributes",
]

MSG_UNKNOWN_COHORT = "Unknown cohort {name!r}. Bundled cohorts: {known}."
MSG_NO_SITES = ("Cohort {name!r} records no site per patient: validation by site needs the bundled multi-site "
                "cohort 'warfarin' (IWPC, column 'Project Site').")


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
    data = read_bounded(path, "CSV file", MAX_TRAINING_CSV_BYTES)
    raw = parse_csv(data, f"CSV file {str(path)!r}", max_rows=MAX_TRAINING_CSV_ROWS, as_text=False)
    source = {"file": str(path), "sha256": hashlib.sha256(data).hexdigest()}
    return cohort_from_frame(spec, raw, source=source)


def project_sites(cohort: Cohort) -> "np.ndarray":
    """The IWPC ``Project Site`` of each of ``cohort``'s patients, as text (``"1"`` … ``"22"``), in row order.

    Read from the same sha256-verified source file (allow-listed unpickling); the site is never a model input
    (it is an excluded column), so it is kept out of the cohort's frame and looked up here by patient ID.
    """
    import numpy as np

    from ._sources import SOURCES, unpickle_dataframe

    if cohort.spec.name != "warfarin" or cohort.source.get("sha256") != SOURCES["warfarin"].sha256:
        raise InputFileError(MSG_NO_SITES.format(name=cohort.spec.name))
    raw = unpickle_dataframe(SOURCES["warfarin"].read_verified())
    site = raw.set_index(raw["PharmGKB Subject ID"].astype(str))["Project Site"]
    out = cohort.frame[PATIENT_ID].astype(str).map(site)
    if out.isna().any():
        raise InputFileError(f"{int(out.isna().sum())} patient(s) of cohort 'warfarin' have no recorded project site.")
    return np.asarray([str(int(v)) if float(v).is_integer() else str(v) for v in out], dtype=object)
