"""One patient: the held-out test patients, validation, and the full report (or the refusal) for a record.

Every report and refusal is handed to the observers before it is returned."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import PatientValidationError
from .._observers import PATIENT_REPORT, REFUSED_RECORD, _shown
from ..modeling.bundle import ModelBundle
from .log import record_export

EXPORT_FORMATS = ("html", "pdf")
MSG_EXPORT_FORMAT = "The 'format' argument must be one of 'html', 'pdf'. Got {got!r} instead."


def held_out_patients(bundle: ModelBundle) -> list[dict]:
    """The bundle's held-out test patients as input records (with ``patient_id``), in split order."""
    from ..modeling.heldout import held_out_records

    return held_out_records(bundle)


def typical_patient(bundle: ModelBundle) -> dict:
    """The template record of the bundle's cohort (its most typical training values)."""
    from ..data.template import patient_template
    from ..modeling.heldout import bundle_cohort

    return patient_template(bundle.spec, bundle_cohort(bundle).frame)["patient"]


def validate(bundle: ModelBundle, record: Mapping[str, Any]):
    """Validate a record against the bundle's spec; raises PatientValidationError naming every bad field."""
    from ..data.validation import validate_patient

    return validate_patient(bundle.spec, record)
def predict(bundle: ModelBundle, record: Mapping[str, Any], *, patient_id: str | None = None,
            ignore: tuple[str, ...] = ()):
    """The full report for one patient (every arm or the dose, intervals, explanations, warnings)."""
    from ..reporting.fast_report import ReportEngine  # the numeric fast path; same report as predict_patient

    report = ReportEngine.of(bundle).report(dict(record), patient_id=patient_id, ignore=ignore)
    return _shown(PATIENT_REPORT, bundle, report, patient_id=patient_id, record=record)


def refusal(bundle: ModelBundle, error: PatientValidationError, *, row: int | None = None,
            patient_id: str | None = None) -> dict:
    """The report for a refused record: its errors, so nothing is dropped silently."""
    from ..reporting.patient_report import error_report

    return _shown(REFUSED_RECORD, bundle, error_report(bundle, error, row=row, patient_id=patient_id),
                  patient_id=patient_id)


@dataclass(frozen=True)
class RecordResult:
    """One record of many: its 1-based row, and either its report or its refusal."""

    row: int
    patient_id: str | None
    report: Any = None
    refused: dict | None = None

    def to_dict(self) -> dict:
        if self.report is None:
            return self.refused
        return {**self.report.to_dict(), "row": self.row}


def predict_records(bundle: ModelBundle, records: Iterable[Mapping[str, Any]], *, id_column: str,
                    ignore: tuple[str, ...] = ()) -> Iterator[RecordResult]:
    """Report on each record in turn; a refused record yields its errors instead (never dropped)."""
    for i, record in enumerate(records, start=1):
        pid = record.get(id_column)
        pid = None if pid is None or (isinstance(pid, float) and pid != pid) else str(pid)
        try:
            yield RecordResult(i, pid, report=predict(bundle, record, patient_id=pid, ignore=ignore))
        except PatientValidationError as exc:
            yield RecordResult(i, pid, refused=refusal(bundle, exc, row=i, patient_id=pid))


def input_rows(bundle, report: Mapping[str, Any]) -> list[dict]:
    """The inputs a report used, in clinical words, unknown ones and unusual ones marked."""
    from ..reporting.inputs import input_rows as rows

    return rows(bundle.spec, report)


def shown_warnings(report) -> list[dict]:
    """A report's warnings as every screen and export shows them (none that prints a withheld number)."""
    from ..reporting.banners import shown_warnings as shown

    return shown(report)


def warning_digest(warnings, *, fold: tuple[str, ...] = ()):
    """What a page shows prominently (at most three banners, one per kind) and what it folds away."""
    from ..reporting.banners import digest

    return digest(warnings, fold=fold)


def patient_export(bundle: ModelBundle, report, *, format: str, patient_id: str | None = None) -> bytes:
    """One patient's report (a :class:`~core.reporting.PatientReport` or its ``to_dict()``) as HTML or PDF bytes:
    what the screen shows (:func:`shown_warnings`, :func:`input_rows`), the model and a reference that the
    audit-log entry of this export carries (``details.export_ref``, beside the bytes' sha256). The export is
    recorded before the bytes are returned: nothing leaves that could not be recorded."""
    from ..reporting.patient_export import patient_report_html, patient_report_pdf

    if format not in EXPORT_FORMATS:
        raise ValueError(MSG_EXPORT_FORMAT.format(got=format))
    data = report.to_dict() if hasattr(report, "to_dict") else dict(report)
    if patient_id is not None:
        data = {**data, "patient_id": patient_id}
    ref = f"export {secrets.token_hex(8)}"
    writer = patient_report_pdf if format == "pdf" else patient_report_html
    content = writer(bundle, data, inputs=input_rows(bundle, data), warnings=shown_warnings(data), log_ref=ref)
    record_export(f"patient_report_{format}", content=content, report=data, bundle=bundle,
                  patient_id=data.get("patient_id"), details={"export_ref": ref, "format": format})
    return content


def patient_export_later(bundle: ModelBundle, report, *, format: str,
                         patient_id: str | None = None) -> Callable[[], bytes]:
    """:func:`patient_export` made only when called, under this run's log context (frozen now, with the current
    patient): for a download button that makes its file on another thread when it is clicked, so a page logs an
    export when someone downloads one, not on every rerun."""
    import dataclasses

    from ..audit import current_context, set_context

    if format not in EXPORT_FORMATS:
        raise ValueError(MSG_EXPORT_FORMAT.format(got=format))
    ctx = current_context()
    frozen = None if ctx is None else dataclasses.replace(ctx, patient_id=ctx.current_patient())

    def make() -> bytes:
        with set_context(frozen):
            return patient_export(bundle, report, format=format, patient_id=patient_id)

    return make
