"""One rule for a patient file's columns, in the dashboard's upload and in batch scoring: inputs are used, the
identifier, treatment and outcome columns are skipped, and any other column refuses the row by name (it was
dropped without a word by the dashboard, and refused by the CLI)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from core import PatientValidationError, service
from core.data import load_cohort, validate_patient
from core.data.validation import non_input_columns
from core.scale import report_columns_ignored


@pytest.fixture(scope="module")
def colon():
    return load_cohort("colon")


def _upload(frame: pd.DataFrame):
    data = frame.to_csv(index=False).encode()
    return service.upload_frame(data, "patients.csv", len(data))


def test_a_real_row_with_its_outcome_and_treatment_columns_is_accepted(colon):
    frame = colon.frame.head(3).convert_dtypes()  # the cohort's own file: inputs, arm, outcome columns, identifier
    assert set(frame.columns) - set(colon.spec.feature_names)  # it does carry non-input columns
    record = service.upload_record(SimpleNamespace(spec=colon.spec), _upload(frame), 2)
    assert set(record) == set(colon.spec.feature_names)
    validate_patient(colon.spec, record)


def test_an_unknown_column_refuses_the_row_by_name(colon):
    frame = colon.frame.head(2).assign(smoker="yes")
    record = service.upload_record(SimpleNamespace(spec=colon.spec), _upload(frame), 1)
    with pytest.raises(PatientValidationError, match="smoker"):
        validate_patient(colon.spec, record)


def test_batch_scoring_and_the_upload_skip_the_same_columns(colon):
    spec = colon.spec
    skipped = set(non_input_columns(spec))
    assert set(report_columns_ignored(spec)) == skipped
    o = spec.outcome
    expected = {spec.patient_id, spec.treatment.column} | {c for c in (o.column, o.time_column, o.event_column) if c}
    assert expected <= skipped and not skipped & set(spec.feature_names)


def test_a_caller_named_identifier_column_is_skipped_too(colon):
    assert "mrn" in non_input_columns(colon.spec, "mrn", "") and "" not in non_input_columns(colon.spec, "")

