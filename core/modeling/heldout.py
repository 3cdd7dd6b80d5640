"""Records of a bundle's held-out test split, re-read from the verified training data."""

from __future__ import annotations

import numpy as np

from .._errors import DataIntegrityError
from .bundle import ModelBundle
from ..data.cohorts import BUNDLED, PATIENT_ID, cohort_from_csv, load_cohort


def bundle_cohort(bundle: ModelBundle):
    """The cohort a bundle was trained on, refused unless its data's sha256 matches the training record."""
    source = bundle.training.get("source", {})
    if bundle.spec.name in BUNDLED and source.get("package"):
        cohort = load_cohort(bundle.spec.name)
    else:
        cohort = cohort_from_csv(source.get("file", ""), bundle.spec)
    if cohort.source.get("sha256") != bundle.training.get("data_sha256"):
        raise DataIntegrityError(f"The data of cohort {bundle.spec.name!r} is not the data bundle "
                                 f"{bundle.bundle_id} was trained on (sha256 differs).")
    return cohort


def held_out_records(bundle: ModelBundle) -> list[dict]:
    cohort = bundle_cohort(bundle)
    frame = cohort.frame.set_index(PATIENT_ID).loc[bundle.test_patient_ids, bundle.spec.feature_names]
    records = []
    for pid, row in frame.iterrows():
        rec = {"patient_id": str(pid)}
        for f in bundle.spec.features:
            v = row[f.name]
            if v is None or (isinstance(v, float) and np.isnan(v)):
                rec[f.name] = None
            elif f.type == "binary" or (f.is_numeric and f.integer):
                rec[f.name] = int(v)
            elif f.is_numeric:
                rec[f.name] = float(v)
            else:
                rec[f.name] = str(v)
        records.append(rec)
    return records
