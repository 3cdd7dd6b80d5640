"""The ``equipoise`` command line. Every error a user can cause ends in a clear message and a non-zero
exit status, never a traceback."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import warnings
from pathlib import Path

from . import _cli_auth, _cli_board, _cli_federated, _cli_log, _cli_quality, _cli_scale, _cli_training, service
from ._json import jsonable
from ._errors import EquipoiseError, InputFileError, PatientValidationError

EXIT_BAD_INPUT = 2
EXIT_REFUSED_ROWS = 1
MAX_N_BOOT = 10_000  # intervals settle long before; 10 000 resamples of a large file already take minutes
EXIT_LOG_BROKEN = _cli_log.EXIT_LOG_BROKEN

# Per-concept command groups live in core/_cli_<concept>.py, each with ``add_commands(sub)``; list them here.
COMMAND_MODULES: list = [_cli_log.add_commands, _cli_scale.add_commands, _cli_training.add_commands,
                         _cli_board.add_commands, _cli_quality.add_commands, _cli_auth.add_commands, _cli_federated.add_commands]


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        with service.log_context(None):  # a command's audit-log context (--log) ends with the command
            return args.func(args)
    except EquipoiseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # e.g. `equipoise predict ... | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug of ours: say so plainly; EQUIPOISE_DEBUG=1 shows the traceback
        if os.environ.get("EQUIPOISE_DEBUG"):
            raise
        print(f"internal error ({type(exc).__name__}): {exc}. Please report it; set EQUIPOISE_DEBUG=1 for details.",
              file=sys.stderr)
        return 3


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="equipoise", description="Decision support for choosing between treatments.")
    sub = p.add_subparsers(dest="command")

    c = sub.add_parser("cohorts", help="list the bundled cohorts")
    c.add_argument("--json", action="store_true", help="print JSON instead of a table")
    c.set_defaults(func=cmd_cohorts)

    t = sub.add_parser("train", help="train a model bundle and print the test-split table")
    src = t.add_mutually_exclusive_group(required=True)
    src.add_argument("--cohort", help="a bundled cohort (see `equipoise cohorts`)")
    src.add_argument("--csv", help="your own data, with --spec")
    t.add_argument("--spec", help="cohort spec JSON for --csv (see README)")
    t.add_argument("--out", help="bundle directory (default: bundles/NAME); a verified bundle already there is kept "
                   "in OUT.versions/BUNDLE_ID/, anything else there is refused")
    t.add_argument("--force", action="store_true", help="if OUT holds something that is not a verified bundle, move "
                   "it aside into OUT.versions/moved-aside-TIME/ instead of refusing (nothing is deleted)")
    t.add_argument("--seed", type=_bounded_int("--seed", 0, 2**32 - 1),
                   help="the split and model seed (default: the spec's); another seed gives another model")
    t.add_argument("--by-site", action="store_true", help="also validate leaving one site out at a time and store "
                   "it in the bundle for the model card (multi-site dose cohort, warfarin; several minutes)")
    t.set_defaults(func=cmd_train)

    m = sub.add_parser("template", help="print an example patient JSON with every field documented")
    msrc = m.add_mutually_exclusive_group(required=True)
    msrc.add_argument("--cohort")
    msrc.add_argument("--spec")
    m.set_defaults(func=cmd_template)

    r = sub.add_parser("predict", help="report on patients with a trained bundle (JSON / JSON Lines)")
    r.add_argument("--bundle", required=True)
    what = r.add_mutually_exclusive_group(required=True)
    what.add_argument("--patient", help="one patient as JSON ('-' for standard input)")
    what.add_argument("--csv", help="one report per row, as JSON Lines (read and scored in chunks)")
    what.add_argument("--parquet", help="a Parquet file or folder of them: one report per row, scored in chunks")
    what.add_argument("--split", choices=["test"], help="every patient of the bundle's held-out test split")
    what.add_argument("--fhir", help="one patient as a FHIR R4 Bundle (or a CDS Hooks prefetch object), JSON")
    _log_options(r, "record every report in the audit log before printing it")
    _cli_scale.batch_options(r)
    r.set_defaults(func=cmd_predict)

    f = sub.add_parser("counterfactual", help="the smallest change a clinician could make that clearly alters the "
                       "comparison (or moves the dose), as JSON")
    f.add_argument("--bundle", required=True)
    f.add_argument("--patient", required=True, help="one patient as JSON ('-' for standard input)")
    f.add_argument("--dose-change", type=float, metavar="MG",
                   help="dose cohort only: the change in mg/week to look for (e.g. -5 for at least 5 mg/week less)")
    _log_options(f, "record the result in the audit log before printing it")
    f.set_defaults(func=cmd_counterfactual)

    a = sub.add_parser("audit", help="subgroup performance with bootstrap CIs, as JSON")
    asrc = a.add_mutually_exclusive_group(required=True)
    asrc.add_argument("--bundle", help="print the audit stored in a bundle (its held-out test split)")
    asrc.add_argument("--predictions", help="audit any model: a CSV or Parquet of outcomes and predictions")
    a.add_argument("--label", help="outcome column (0/1 for --task binary)")
    a.add_argument("--score", help="prediction column (probability, or predicted value)")
    a.add_argument("--attributes", help="comma-separated protected-attribute columns, e.g. race,sex")
    a.add_argument("--task", choices=["binary", "regression"], default="binary")
    a.add_argument("--n-boot", type=_bounded_int("--n-boot", 0, MAX_N_BOOT, " bootstrap resamples"), default=200,
                   help=f"bootstrap resamples for the intervals (0 to {MAX_N_BOOT:,}; default 200)")
    a.add_argument("--seed", type=_bounded_int("--seed", 0, 2**32 - 1), default=0)
    _cli_scale.engine_options(a, "the audit runs partition-wise (Poisson bootstrap) on a Dask cluster, for a Parquet "
                                 "file or folder of any size")
    a.set_defaults(func=cmd_audit)

    v = sub.add_parser("serve", help="the CDS Hooks service (discovery, patient-view cards, feedback)")
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=int, default=8088)
    v.add_argument("--dashboard-url", help="where card links open the dashboard (default http://localhost:8501)")
    v.add_argument("--auth-config", metavar="FILE",
                   help="trusted CDS Clients (issuers, their JWKS, this service's audience URLs) as TOML or JSON "
                        "(default $EQUIPOISE_CDS_AUTH_CONFIG); required unless --insecure-no-auth")
    v.add_argument("--insecure-no-auth", action="store_true",
                   help="INSECURE: accept every caller without a token (local trials on a loopback address only)")
    v.set_defaults(func=cmd_serve)
    for add_commands in COMMAND_MODULES:
        add_commands(sub)
    return p


def _log_options(parser, what: str) -> None:
    parser.add_argument("--log", action="store_true", help=what)
    parser.add_argument("--user", help="the user named in the log (default: the operating-system user)")


# --- commands -------------------------------------------------------------------------------------


def cmd_cohorts(args) -> int:
    summaries = service.cohort_summaries()
    if args.json:
        _print_json(summaries)
        return 0
    for s in summaries:
        arms = ", ".join(f"{a} (n={n})" for a, n in s["arms"].items()) if "arms" in s else "dose (mg/week)"
        print(f"{s['name']:10s} {s['title']}\n{'':10s} n={s['n']}; {s['design']}\n{'':10s} treatment: {arms}\n"
              f"{'':10s} source: {s['source']}\n{'':10s} citation: {s['citation']}\n{'':10s} licence: {s['licence']}\n")
    return 0


def cmd_train(args) -> int:
    if args.csv:
        if not args.spec:
            raise InputFileError("`equipoise train --csv FILE` also needs `--spec SPEC.json` (see README).")
        cohort = service.cohort_from_csv(args.csv, args.spec)
    else:
        cohort = service.load_cohort(args.cohort)
    if args.seed is not None:
        cohort = dataclasses.replace(cohort, spec=dataclasses.replace(cohort.spec, seed=args.seed))
    out = Path(args.out or Path("bundles") / cohort.spec.name)
    progress = lambda msg: print(f"[equipoise] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    path, evaluation = service.train_bundle(cohort, out, progress=progress, force=args.force, by_site=args.by_site)
    try:
        bundle = service.open_bundle(path)
        progress(f"bundle {bundle.bundle_id} written to {path} ({bundle.signed_by['text']})")
    except EquipoiseError as exc:  # e.g. built for another site's trusted keys
        progress(f"bundle written to {path}, but this installation refuses to load it: {exc}")
    print(f"Held-out test split of {cohort.spec.name}: n={evaluation.n_test} (never used for fitting, tuning or calibration)\n")
    print(evaluation.table())
    print("\n" + evaluation.verdict)
    for note in evaluation.notes:
        print(f"- {note}")
    return 0


def cmd_template(args) -> int:
    if args.spec:
        _print_json(service.template(spec=args.spec))
        return 0
    if args.cohort not in service.BUNDLED:
        raise InputFileError(f"Unknown cohort {args.cohort!r}. Bundled cohorts: {', '.join(service.BUNDLED)}.")
    _print_json(service.template(cohort=args.cohort))
    return 0


def cmd_predict(args) -> int:
    if not (args.csv or args.parquet):
        _cli_scale.refuse_batch_options(args)  # --out, --engine, ... apply to file input only
    _start_log(args, "cli predict")
    bundle = service.open_bundle(args.bundle)
    if args.patient:
        return _predict_one(bundle, _read_patient(args.patient))
    if args.fhir:
        mapped = service.record_from_fhir(bundle, _read_patient(args.fhir))
        for note in mapped.notes:
            print(f"[equipoise] {note}", file=sys.stderr)
        return _predict_one(bundle, mapped.record)
    if args.csv or args.parquet:
        return _cli_scale.predict_file(args, bundle)
    return _predict_rows(bundle, service.held_out_patients(bundle), id_column="patient_id")


def cmd_counterfactual(args) -> int:
    """Prints ``{found, changes: [{feature, from, to}], effect, within_uncertainty, message}`` (+ cohort, caveat)."""
    _start_log(args, "cli counterfactual")
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
    record = _read_patient(args.patient)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # plausibility warnings are the report's business
        result = service.counterfactual(bundle, record, dose_change_mg_per_week=target).to_dict()
    _print_json({"cohort": spec.name, "found": result["found"],
                 "changes": [{"feature": c["feature"], "from": c["old"], "to": c["new"]} for c in result["changes"]],
                 "effect": result["effect"], "within_uncertainty": result["within_uncertainty"],
                 "message": result["message"], "caveat": result["caveat"]})
    return 0


def cmd_serve(args) -> int:
    """Runs the CDS Hooks service until interrupted (uvicorn)."""
    if not 1 <= args.port <= 65535:
        raise InputFileError(f"--port must be in the range [1, 65535]. Got {args.port} instead.")
    configured = args.auth_config or os.environ.get(CDS_AUTH_ENV)
    if args.insecure_no_auth:
        if configured:
            raise InputFileError(f"--insecure-no-auth and an authentication configuration ({configured!r}, from "
                                 f"{'--auth-config' if args.auth_config else CDS_AUTH_ENV}) contradict each other; "
                                 "give one.")
        if args.host not in ("127.0.0.1", "::1", "localhost"):
            raise InputFileError(f"--insecure-no-auth serves only on a loopback address (127.0.0.1, ::1, localhost): "
                                 f"anyone who can reach {args.host!r} could write to the audit log as any user. "
                                 "Configure trusted issuers with --auth-config instead.")
        print(INSECURE_BANNER, file=sys.stderr, flush=True)
    elif not configured:
        raise InputFileError("`equipoise serve` needs to know which EHRs to trust: pass --auth-config FILE (or set "
                             f"{CDS_AUTH_ENV}); see README, \"CDS Hooks authentication\". For a local trial only, "
                             "--insecure-no-auth accepts every caller.")
    app = service.cds_app(dashboard_url=args.dashboard_url, auth_config=configured,
                          insecure_no_auth=args.insecure_no_auth)
    import uvicorn

    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


CDS_AUTH_ENV = "EQUIPOISE_CDS_AUTH_CONFIG"
INSECURE_BANNER = """\
************************************************************************************************
* WARNING: --insecure-no-auth. The CDS Hooks service accepts EVERY caller without a token.      *
* Anyone who reaches this port gets cards and writes audit-log entries (as "unauthenticated").  *
* For a local trial only; never with patient data. Configure --auth-config for real use.       *
************************************************************************************************"""


def cmd_audit(args) -> int:
    if args.bundle:
        bundle = service.open_bundle(args.bundle)
        audit = service.subgroup_audit(bundle)
        if audit is None:
            raise InputFileError(f"Bundle {args.bundle!r} holds no subgroup audit; train it again with this version.")
        _print_json({"cohort": bundle.spec.name, "model": {"bundle_id": bundle.bundle_id, "sha256": bundle.sha256},
                     "split": "test", **json.loads(json.dumps(audit.to_dict(), sort_keys=True))})  # as in the bundle
        return 0
    missing = [f"--{n}" for n in ("label", "score", "attributes") if not getattr(args, n)]
    if missing:
        raise InputFileError(f"`equipoise audit --predictions FILE` also needs {', '.join(missing)}.")
    attributes = [c.strip() for c in args.attributes.split(",") if c.strip()]
    if args.engine == "dask" or args.scheduler:
        return _cli_scale.audit_dask(args, attributes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small groups are marked insufficient_data in the JSON
        audit = service.audit_predictions_file(args.predictions, label=args.label, score=args.score, attributes=attributes,
                                       task=args.task, n_boot=args.n_boot, seed=args.seed)
    _print_json(audit.to_dict())
    return 0


# --- helpers --------------------------------------------------------------------------------------


def _start_log(args, page: str) -> None:
    """With ``--log``: from here on every result is committed to the audit log before it is printed."""
    if getattr(args, "log", False):
        service.log_context(service.open_log(), user=args.user, page=page)
    elif getattr(args, "user", None):
        raise InputFileError("--user names who is recorded in the audit log: use it with --log.")


def _predict_one(bundle, record: dict) -> int:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warnings are data in the report
            report = service.predict(bundle, record)
    except PatientValidationError as exc:
        _print_json(service.refusal(bundle, exc))
        print(f"error: the patient was refused:\n{exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    _print_json(report.to_dict())
    return 0


def _predict_rows(bundle, records: list[dict], *, id_column: str) -> int:
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


def _read_patient(path: str) -> dict:
    what = "Patient JSON on standard input" if path == "-" else f"Patient file {path!r}"
    if path == "-":
        data = service.limits.read_stream_bounded(sys.stdin, what, service.limits.MAX_PATIENT_JSON_BYTES)
    else:
        data = service.limits.read_bounded(path, "Patient file", service.limits.MAX_PATIENT_JSON_BYTES)
    data = service.limits.parse_json(data, what)
    if isinstance(data, dict) and isinstance(data.get("patient"), dict) and "fields" in data:
        data = data["patient"]  # the output of `equipoise template`
    if not isinstance(data, dict):
        raise InputFileError(f"{what} must hold one JSON object of field: value pairs. "
                             f"Got a JSON {_json_kind(data)} instead.")
    return data


def _json_kind(value) -> str:
    return {list: "array", str: "string", bool: "true/false", type(None): "null"}.get(type(value), "number")


def _bounded_int(name: str, lo: int, hi: int, unit: str = ""):
    """An argparse type: an integer in [lo, hi], refused with the option's name and range otherwise."""
    def parse(text: str) -> int:
        try:
            value = int(text) if len(text) <= 30 else None
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{name} must be an integer from {lo:,} to {hi:,}{unit}. "
                                             f"Got {text[:40]!r} instead.")
        return value
    return parse


def _print_json(obj) -> None:
    print(json.dumps(jsonable(obj), indent=2, allow_nan=False, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
