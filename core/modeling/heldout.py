"""A bundle's held-out test split, rebuilt from the verified training data: its records, its rows and labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._errors import DataIntegrityError
from .bundle import ModelBundle
from .training import labels_for
from ..data.cohorts import BUNDLED, PATIENT_ID, Cohort, cohort_from_csv, load_cohort

__all__ = ["BASELINE_NAME", "HeldOutSplit", "IWPC_NAME", "MODEL_NAME", "bundle_cohort", "held_out_records",
           "held_out_split", "row_names"]

MSG_DATA_CHANGED = "The data of cohort {cohort!r} is not the data bundle {bundle} was trained on (sha256 differs)."
MSG_TEST_SPLIT = ("Bundle {bundle} lists {expected} test patients, but {found} of them were found in the data of "
                  "cohort {cohort!r}: the held-out test split cannot be rebuilt.")

MODEL_NAME = "equipoise (linear + boosted trees)"  # fallbacks when an evaluation has no row names
BASELINE_NAME = "logistic regression"
IWPC_NAME = "IWPC pharmacogenetic formula"


def bundle_cohort(bundle: ModelBundle):
    """The cohort a bundle was trained on, refused unless its data's sha256 matches the training record."""
    source = bundle.training.source
    if bundle.spec.name in BUNDLED and source.get("package"):
        cohort = load_cohort(bundle.spec.name)
    else:
        cohort = cohort_from_csv(source.get("file", ""), bundle.spec)
    if cohort.source.get("sha256") != bundle.training.data_sha256:
        raise DataIntegrityError(MSG_DATA_CHANGED.format(cohort=bundle.spec.name, bundle=bundle.bundle_id))
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


@dataclass(frozen=True)
class HeldOutSplit:
    """The test rows of a bundle's cohort (in cohort order, as at training time) with their labels."""

    cohort: Cohort
    test_mask: np.ndarray
    frame: pd.DataFrame   # test rows, in cohort order (as at training time)
    y: np.ndarray
    weight: np.ndarray    # IPCW for censored outcomes (0 = unknown), else 1
    n_censored: int

    @property
    def train_frame(self) -> pd.DataFrame:
        return self.cohort.frame[~self.test_mask].reset_index(drop=True)


def held_out_split(bundle: ModelBundle) -> HeldOutSplit:
    """The bundle's held-out test split (the patients listed in ``training.json``), refused if any is missing."""
    cohort = bundle_cohort(bundle)
    ids = bundle.test_patient_ids
    mask = cohort.frame[PATIENT_ID].astype(str).isin(set(ids)).to_numpy()
    if int(mask.sum()) != len(ids):
        raise DataIntegrityError(MSG_TEST_SPLIT.format(bundle=bundle.bundle_id, expected=len(ids),
                                                       found=int(mask.sum()), cohort=bundle.spec.name))
    labels = labels_for(cohort, mask)  # IPCW from the test split's own censoring, as at training time
    return HeldOutSplit(cohort=cohort, test_mask=mask, frame=cohort.frame[mask].reset_index(drop=True), y=labels.y,
                        weight=labels.weight, n_censored=labels.n_censored_before_horizon)


def row_names(bundle: ModelBundle) -> list[str]:
    """The names of the model and its baseline, as the bundle's test-split evaluation lists them."""
    names = [r.get("name") for r in bundle.evaluation.rows]
    default = [MODEL_NAME, IWPC_NAME if bundle.spec.is_dose else BASELINE_NAME]
    return [names[i] if i < len(names) and names[i] else default[i] for i in range(2)]
