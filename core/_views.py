"""Thin views the service re-exports: inputs in words, the banner digest, FHIR charts, CDS links and app.

None of these shows a model result by itself, so none is handed to the observers here; what they feed
(a prediction, a card) goes through :mod:`core.service`.
"""

from __future__ import annotations

from typing import Any, Mapping


def input_rows(bundle, report: Mapping[str, Any]) -> list[dict]:
    """The inputs a report used, in clinical words, unknown ones and unusual ones marked."""
    from .reporting.inputs import input_rows as rows

    return rows(bundle.spec, report)


def record_from_fhir(bundle, chart_json: Mapping[str, Any], *, on=None):
    """A FHIR Bundle (or CDS Hooks prefetch) mapped to this cohort's record: ``MappedRecord(record, notes)``."""
    from .fhir import chart_from_bundle, record_from_chart

    return record_from_chart(bundle.spec, chart_from_bundle(chart_json), on=on)


def cds_app(*, dashboard_url: str | None = None, auth_config: str | None = None, insecure_no_auth: bool = False):
    """The CDS Hooks service as an ASGI app (FastAPI), answering through this module: callers authenticated
    by the configuration in ``auth_config`` (default ``$EQUIPOISE_CDS_AUTH_CONFIG``), or, only with
    ``insecure_no_auth=True``, nobody (a local trial)."""
    from .cds import load_auth_config
    from .cds.app import create_app

    if insecure_no_auth:
        return create_app(dashboard_url=dashboard_url, insecure_no_auth=True)
    return create_app(dashboard_url=dashboard_url, auth=load_auth_config(auth_config))


def decode_link_record(token: str) -> dict:
    """The patient inputs an EHR card's link carries (``?record=``); ValueError with a plain message if not."""
    from .cds.cards import decode_record

    return decode_record(token)


def link_form_values(spec, record):
    """What of a deep link's inputs the form can show, and a sentence (clinical words) per value left empty."""
    from .data.link_values import link_form_values as _values

    return _values(spec, record)


def shown_warnings(report) -> list[dict]:
    """A report's warnings as every screen and export shows them (none that prints a withheld number)."""
    from .reporting.banners import shown_warnings as shown

    return shown(report)


def warning_digest(warnings, *, fold: tuple[str, ...] = ()):
    """What a page shows prominently (at most three banners, one per kind) and what it folds away."""
    from .reporting.banners import digest

    return digest(warnings, fold=fold)


def upload_frame(data: bytes, name: str, size: int):
    """An uploaded patient CSV, within the size and row limits; InputFileError naming the file otherwise."""
    from ._errors import InputFileError
    from .data import limits

    if size > limits.MAX_CSV_BYTES:  # refused before it is parsed
        raise InputFileError(f"The CSV {name} is {size / 2**20:.1f} MB; the limit is {limits.MAX_CSV_BYTES // 2**20} MB.")
    frame = limits.parse_csv(data, "The CSV")
    if frame.empty:
        raise InputFileError("The CSV has no rows.")
    return frame


def upload_record(bundle, frame, row: int) -> dict:
    """Row ``row`` (1-based) of an uploaded CSV as a record: the cohort's fields only."""
    return {k: v for k, v in frame.iloc[int(row) - 1].to_dict().items() if k in bundle.spec.feature_names}
