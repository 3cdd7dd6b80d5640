"""``equipoise audit``: subgroup performance with bootstrap intervals, from a bundle or from any model's predictions
file (partition-wise on Dask through ``_scale``)."""

from __future__ import annotations

import json
import warnings

from .._errors import InputFileError
from . import _scale
from ._common import bounded_int, print_json

MAX_N_BOOT = 10_000  # intervals settle long before; 10 000 resamples of a large file already take minutes


def add_commands(sub) -> None:
    a = sub.add_parser("audit", help="subgroup performance with bootstrap CIs, as JSON")
    asrc = a.add_mutually_exclusive_group(required=True)
    asrc.add_argument("--bundle", help="print the audit stored in a bundle (its held-out test split)")
    asrc.add_argument("--predictions", help="audit any model: a CSV or Parquet of outcomes and predictions")
    a.add_argument("--label", help="outcome column (0/1 for --task binary)")
    a.add_argument("--score", help="prediction column (probability, or predicted value)")
    a.add_argument("--attributes", help="comma-separated protected-attribute columns, e.g. race,sex")
    a.add_argument("--task", choices=["binary", "regression"], default="binary")
    a.add_argument("--n-boot", type=bounded_int("--n-boot", 0, MAX_N_BOOT, " bootstrap resamples"), default=200,
                   help=f"bootstrap resamples for the intervals (0 to {MAX_N_BOOT:,}; default 200)")
    a.add_argument("--seed", type=bounded_int("--seed", 0, 2**32 - 1), default=0)
    _scale.engine_options(a, "the audit runs partition-wise (Poisson bootstrap) on a Dask cluster, for a Parquet "
                             "file or folder of any size")
    a.set_defaults(func=cmd_audit)


def cmd_audit(args) -> int:
    from .. import service

    if args.bundle:
        bundle = service.open_bundle(args.bundle)
        audit = service.subgroup_audit(bundle)
        if audit is None:
            raise InputFileError(f"Bundle {args.bundle!r} holds no subgroup audit; train it again with this version.")
        print_json({"cohort": bundle.spec.name, "model": {"bundle_id": bundle.bundle_id, "sha256": bundle.sha256},
                    "split": "test", **json.loads(json.dumps(audit.to_dict(), sort_keys=True))})  # as in the bundle
        return 0
    missing = [f"--{n}" for n in ("label", "score", "attributes") if not getattr(args, n)]
    if missing:
        raise InputFileError(f"`equipoise audit --predictions FILE` also needs {', '.join(missing)}.")
    attributes = [c.strip() for c in args.attributes.split(",") if c.strip()]
    if args.engine == "dask" or args.scheduler:
        return _scale.audit_dask(args, attributes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small groups are marked insufficient_data in the JSON
        audit = service.audit_predictions_file(args.predictions, label=args.label, score=args.score,
                                               attributes=attributes, task=args.task, n_boot=args.n_boot,
                                               seed=args.seed)
    print_json(audit.to_dict())
    return 0
