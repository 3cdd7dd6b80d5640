"""``equipoise predict`` and ``counterfactual``: reports on patients (one JSON patient, a FHIR bundle, the held-out
test split; files go to ``_scale``), and the smallest change that clearly alters the comparison."""

from __future__ import annotations

import json
import math
import sys
import warnings

from .._errors import InputFileError, PatientValidationError
from . import _scale
from ._common import EXIT_BAD_INPUT, EXIT_REFUSED_ROWS, log_options, print_json, read_patient, start_log


def add_commands(sub) -> None:
    r = sub.add_parser("predict", help="report on patients with a trained bundle (JSON / JSON Lines)")
    r.add_argument("--bundle", required=True)
    what = r.add_mutually_exclusive_group(required=True)
    what.add_argument("--patient", help="one patient as JSON ('-' for standard input)")
    what.add_argument("--csv", help="one report per row, as JSON Lines (read and scored in chunks)")
    what.add_argument("--parquet", help="a Parquet file or folder of them: one report per row, scored in chunks")
    what.add_argument("--split", choices=["test"], help="every patient of the bundle's held-out test split")
    what.add_argument("--fhir", help="one patient as a FHIR R4 Bundle (or a CDS Hooks prefetch object), JSON")
    log_options(r, "record every report in the audit log before printing it")
    _scale.batch_options(r)
    r.set_defaults(func=cmd_predict)

    f = sub.add_parser("counterfactual", help="the smallest change a clinician could make that clearly alters the "
                       "comparison (or moves the dose), as JSON")
    f.add_argument("--bundle", required=True)
    f.add_argument("--patient", required=True, help="one patient as JSON ('-' for standard input)")
    f.add_argument("--dose-change", type=float, metavar="MG",
                   help="dose cohort only: the change in mg/week to look for (e.g. -5 for at least 5 mg/week less)")
    log_options(f, "record the result in the audit log before printing it")
    f.set_defaults(func=cmd_counterfactual)


def cmd_predict(args) -> int:
    from .. import service

    if not (args.csv or args.parquet):
        _scale.refuse_batch_options(args)  # --out, --engine, ... apply to file input only
    start_log(args, "cli predict")
    bundle = service.open_bundle(args.bundle)
    if args.patient:
        return _predict_one(bundle, read_patient(args.patient))
    if args.fhir:
        mapped = service.record_from_fhir(bundle, read_patient(args.fhir))
        for note in mapped.notes:
            print(f"[equipoise] {note}", file=sys.stderr)
        return _predict_one(bundle, mapped.record)
    if args.csv or args.parquet:
        return _scale.predict_file(args, bundle)
    return _predict_rows(bundle, service.held_out_patients(bundle), id_column="patient_id")


def cmd_counterfactual(args) -> int:
    """Prints ``{found, changes: [{feature, from, to}], effect, within_uncertainty, message}`` (+ cohort, caveat)."""
    from .. import service

    start_log(args, "cli counterfactual")
    bundle = service.open_bundle(args.bundle)
    spec, target = bundle.spec, args.dose_change
    if spec.is_dose and target is None:
        raise InputFileError(f"Cohort {spec.name!r} predicts a dose: pass --dose-change MG, the change in mg/week to "
                             "look for (e.g. --dose-change -5 for at least 5 mg/week less).")
    if not spec.is_dose and target is not None:
        raise InputFileError(f"Cohort {spec.name!r} compares treatment arms: --dose-change applies only to a dose "
                             f"cohort. Got {target:g} instead.")
    if target is not None and not (math.isfinite(target) and target != 0):
        raise InputFileError(f"--dose-change must be a finite, non-zero number of mg/week. Got {target:g} instead.")
    record = read_patient(args.patient)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # plausibility warnings are the report's business
        result = service.counterfactual(bundle, record, dose_change_mg_per_week=target).to_dict()
    print_json({"cohort": spec.name, "found": result["found"],
                "changes": [{"feature": c["feature"], "from": c["old"], "to": c["new"]} for c in result["changes"]],
                "effect": result["effect"], "within_uncertainty": result["within_uncertainty"],
                "message": result["message"], "caveat": result["caveat"]})
    return 0


def _predict_one(bundle, record: dict) -> int:
    from .. import service

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warnings are data in the report
            report = service.predict(bundle, record)
    except PatientValidationError as exc:
        print_json(service.refusal(bundle, exc))
        print(f"error: the patient was refused:\n{exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print_json(report.to_dict())
    return 0


def _predict_rows(bundle, records: list[dict], *, id_column: str) -> int:
    from .. import service
    from .._json import jsonable

    ignore = tuple({id_column, bundle.spec.patient_id, bundle.spec.treatment.column, *_outcome_columns(bundle.spec)})
    refused = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for result in service.predict_records(bundle, records, id_column=id_column, ignore=ignore):
            refused += result.refused is not None
            print(json.dumps(jsonable(result.to_dict()), allow_nan=False, ensure_ascii=False))
    sys.stdout.flush()
    if refused:
        print(f"error: {refused} of {len(records)} row(s) were refused; their reports list the errors.", file=sys.stderr)
        return EXIT_REFUSED_ROWS
    return 0


def _outcome_columns(spec) -> list[str]:
    o = spec.outcome
    return [c for c in (o.column, o.time_column, o.event_column) if c] + list(spec.excluded_columns)
