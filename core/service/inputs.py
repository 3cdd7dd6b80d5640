"""Inputs from outside the form: an uploaded CSV, an EHR deep link, a FHIR chart. None shows a model result by
itself; what they feed (a prediction) goes through :mod:`core.service.patients`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def upload_frame(data: bytes, name: str, size: int):
    """An uploaded patient CSV, within the size and row limits; InputFileError naming the file otherwise."""
    from .._errors import InputFileError
    from ..data import limits

    if size > limits.MAX_CSV_BYTES:  # refused before it is parsed
        raise InputFileError(f"The CSV {name} is {size / 2**20:.1f} MB; the limit is {limits.MAX_CSV_BYTES // 2**20} MB.")
    frame = limits.parse_csv(data, "The CSV")
    if frame.empty:
        raise InputFileError("The CSV has no rows.")
    return frame


def upload_record(bundle, frame, row: int) -> dict:
    """Row ``row`` (1-based) of an uploaded CSV as a record, under the one rule for a patient file's columns
    (:func:`core.data.validation.non_input_columns`): identifier, treatment and outcome columns are skipped; any
    other column that is not a model input stays, so validating the record refuses it by name."""
    from ..data.validation import non_input_columns

    skipped = set(non_input_columns(bundle.spec, "patient_id"))
    return {k: v for k, v in frame.iloc[int(row) - 1].to_dict().items() if k not in skipped}


def decode_link_record(token: str) -> dict:
    """The patient inputs an EHR card's link carries (``?record=``); ValueError with a plain message if not."""
    from ..cds.cards import decode_record

    return decode_record(token)


def link_form_values(spec, record):
    """What of a deep link's inputs the form can show, and a sentence (clinical words) per value left empty."""
    from ..data.link_values import link_form_values as _values

    return _values(spec, record)


def record_from_fhir(bundle, chart_json: Mapping[str, Any], *, on=None):
    """A FHIR Bundle (or CDS Hooks prefetch) mapped to this cohort's record: ``MappedRecord(record, notes)``."""
    from ..fhir import chart_from_bundle, record_from_chart

    return record_from_chart(bundle.spec, chart_from_bundle(chart_json), on=on)
