"""CLI for population scale: batch options of ``equipoise predict`` (``--csv``/``--parquet`` in chunks, ``--out``,
``--no-explanations``, ``--engine dask``) and the ``equipoise monitor`` command."""

from __future__ import annotations

import argparse
import sys

from .._errors import InputFileError

EXIT_REFUSED_ROWS = 1
ENGINES = ("local", "dask")
MAX_CHUNK_ROWS = 100_000


def _chunk_rows(text: str) -> int:
    try:
        value = int(text) if len(text) <= 12 else 0
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_CHUNK_ROWS:
        raise argparse.ArgumentTypeError(f"--chunk-rows must be an integer from 1 to {MAX_CHUNK_ROWS:,} rows. "
                                         f"Got {text[:40]!r} instead.")
    return value


def engine_options(parser, what: str) -> None:
    parser.add_argument("--engine", choices=ENGINES, default="local",
                        help=f"local (this process, default) or dask: {what} on a Dask cluster")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="with --engine dask: an existing cluster's scheduler, e.g. tcp://10.0.0.5:8786 "
                             "(default: a local cluster on this machine)")


def batch_options(parser) -> None:
    """The batch options of ``equipoise predict`` (for --csv and --parquet)."""
    parser.add_argument("--out", metavar="FILE", help="write the reports to FILE.jsonl (JSON Lines) or FILE.parquet "
                        "(headline columns + each report as JSON) instead of standard output; never overwrites an "
                        "existing file unless --force")
    parser.add_argument("--force", action="store_true", help="with --out: replace an existing file")
    parser.add_argument("--no-explanations", action="store_true",
                        help="skip the per-feature explanations (faster; every number and warning is kept)")
    parser.add_argument("--chunk-rows", type=_chunk_rows, default=None, metavar="N",
                        help="rows read and scored at a time (default 2,000); memory grows with it, not with the file")
    engine_options(parser, "each Parquet partition is scored")


def refuse_batch_options(args) -> None:
    """The batch options apply to --csv and --parquet only."""
    used = [name for name, on in (("--out", args.out), ("--force", args.force),
                                  ("--no-explanations", args.no_explanations), ("--chunk-rows", args.chunk_rows),
                                  ("--engine dask", args.engine != "local"), ("--scheduler", args.scheduler)) if on]
    if used:
        raise InputFileError(f"{', '.join(used)} appl{'y' if len(used) > 1 else 'ies'} to --csv and --parquet input only.")


def predict_file(args, bundle) -> int:
    """``equipoise predict --csv/--parquet``: JSON Lines on standard output, or --out; progress on stderr."""
    from .. import service

    kind, source = ("csv", args.csv) if args.csv else ("parquet", args.parquet)
    if args.scheduler and args.engine != "dask":
        raise InputFileError("--scheduler names a Dask scheduler: use it with --engine dask.")
    if args.force and not args.out:
        raise InputFileError("--force replaces an existing --out file: use it with --out.")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings are data in each report
        summary = service.score_file(bundle, source, kind=kind, out=args.out, stream=sys.stdout, force=args.force,
                                     explanations=not args.no_explanations, chunk_rows=args.chunk_rows,
                                     progress=sys.stderr if args.out else None, engine=args.engine,
                                     scheduler=args.scheduler, bundle_path=args.bundle)
    if args.out:
        print(f"[equipoise] {summary.rows:,} row(s) written to {summary.out}", file=sys.stderr)
    if summary.refused:
        print(f"error: {summary.refused} of {summary.rows} row(s) were refused; their reports list the errors.",
              file=sys.stderr)
        return EXIT_REFUSED_ROWS
    return 0


def audit_dask(args, attributes: list[str]) -> int:
    """``equipoise audit --predictions PARQUET --engine dask``: the partition-wise audit, as JSON."""
    import json
    import warnings

    from .. import service
    from .._json import jsonable

    if args.engine != "dask":
        raise InputFileError("--scheduler names a Dask scheduler: use it with --engine dask.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        audit = service.audit_partitioned(args.predictions, label=args.label, score=args.score, attributes=attributes,
                                          n_boot=args.n_boot, seed=args.seed, engine="dask", scheduler=args.scheduler,
                                          task=args.task)
    print(json.dumps(jsonable(audit.to_dict()), indent=2, allow_nan=False, ensure_ascii=False))
    return 0


def add_commands(sub) -> None:
    """``equipoise monitor``: audits over time."""
    m = sub.add_parser("monitor", help="audits over time: per window the subgroup audit with CIs, input drift against "
                       "the training data and alerts against training time, as JSON")
    m.add_argument("--predictions", required=True, help="a CSV, a Parquet file or a folder of Parquet files")
    m.add_argument("--time-column", required=True, help="when each prediction was made (a date or time)")
    m.add_argument("--window", choices=["month", "week"], default="month")
    m.add_argument("--label", required=True, help="outcome column (0/1)")
    m.add_argument("--score", required=True, help="predicted-risk column (probability)")
    m.add_argument("--attributes", help="comma-separated protected-attribute columns (default with --bundle: the "
                   "cohort's protected attributes present in the file)")
    m.add_argument("--bundle", help="the model's bundle: its training-time audit (for alerts) and training data "
                   "(for drift); without it, metrics only")
    m.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples per window (default 200)")
    m.add_argument("--seed", type=int, default=0)
    m.set_defaults(func=cmd_monitor)


def cmd_monitor(args) -> int:
    import json

    from .. import service
    from .._json import jsonable

    if not 0 <= args.n_boot <= 10_000:
        raise InputFileError(f"--n-boot must be an integer from 0 to 10,000. Got {args.n_boot} instead.")
    bundle = service.open_bundle(args.bundle) if args.bundle else None
    attributes = [c.strip() for c in (args.attributes or "").split(",") if c.strip()] or None
    result = service.monitor_predictions(args.predictions, time_column=args.time_column, window=args.window,
                                         label=args.label, score=args.score, attributes=attributes, bundle=bundle,
                                         n_boot=args.n_boot, seed=max(args.seed, 0))
    for w in result.windows:
        if w.alerts:
            print(f"[equipoise] {w.window}: {len(w.alerts)} alert(s): " + "; ".join(a["message"] for a in w.alerts[:3])
                  + (" …" if len(w.alerts) > 3 else ""), file=sys.stderr)
    print(json.dumps(jsonable(result.to_dict()), indent=2, allow_nan=False, ensure_ascii=False))
    return 0
