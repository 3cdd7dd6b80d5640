"""``equipoise cohorts``, ``train`` and ``template``: the bundled cohorts, training a model bundle, a patient
template."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from .._errors import EquipoiseError, InputFileError
from ._common import bounded_int, print_json


def add_commands(sub) -> None:
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
    t.add_argument("--seed", type=bounded_int("--seed", 0, 2**32 - 1),
                   help="the split and model seed (default: the spec's); another seed gives another model")
    t.add_argument("--by-site", action="store_true", help="also validate leaving one site out at a time and store "
                   "it in the bundle for the model card (multi-site dose cohort, warfarin; several minutes)")
    t.set_defaults(func=cmd_train)

    m = sub.add_parser("template", help="print an example patient JSON with every field documented")
    msrc = m.add_mutually_exclusive_group(required=True)
    msrc.add_argument("--cohort")
    msrc.add_argument("--spec")
    m.set_defaults(func=cmd_template)


def cmd_cohorts(args) -> int:
    from .. import service

    summaries = service.cohort_summaries()
    if args.json:
        print_json(summaries)
        return 0
    for s in summaries:
        arms = ", ".join(f"{a} (n={n})" for a, n in s["arms"].items()) if "arms" in s else "dose (mg/week)"
        print(f"{s['name']:10s} {s['title']}\n{'':10s} n={s['n']}; {s['design']}\n{'':10s} treatment: {arms}\n"
              f"{'':10s} source: {s['source']}\n{'':10s} citation: {s['citation']}\n{'':10s} licence: {s['licence']}\n")
    return 0


def cmd_train(args) -> int:
    from .. import service

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
    from .. import service

    if args.spec:
        print_json(service.template(spec=args.spec))
        return 0
    if args.cohort not in service.BUNDLED:
        raise InputFileError(f"Unknown cohort {args.cohort!r}. Bundled cohorts: {', '.join(service.BUNDLED)}.")
    print_json(service.template(cohort=args.cohort))
    return 0
