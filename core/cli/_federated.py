"""``equipoise federated``: federated training over the IWPC sites on Flower, compared with pooled and site-local
training on the same held-out rows.

``equipoise federated --cohort warfarin [--rounds N] [--out DIR] [--json]`` prints the four-regime table (per
site, per race and overall, the IWPC formula beside every row); ``--json`` prints the whole report as one JSON
object (schema in docs/federated.md). Progress (sites, rounds) goes to standard error. Flower is imported only
when the command runs.
"""

from __future__ import annotations

import json
import sys

from .._errors import InputFileError

MAX_ROUNDS = 500


def add_commands(sub) -> None:
    f = sub.add_parser("federated", help="federated training over the IWPC sites (Flower), compared with pooled and "
                       "site-local training on the same held-out rows")
    f.add_argument("--cohort", required=True, help="a bundled multi-site dose cohort (warfarin)")
    f.add_argument("--rounds", type=_bounded_int("--rounds", 1, MAX_ROUNDS, " federated rounds"), default=None,
                   help="federated rounds of the boosted trees (default 40; the linear model takes one)")
    f.add_argument("--n-boot", type=_bounded_int("--n-boot", 0, 10_000, " bootstrap resamples"), default=None,
                   help="bootstrap resamples for the intervals (default 500)")
    f.add_argument("--out", metavar="DIR", help="also write the report (federated.json), the federated linear model "
                   "(linear.json) and the federated trees (trees.json, XGBoost's JSON) into this folder (created if missing)")
    f.add_argument("--force", action="store_true", help="with --out: replace those files if they exist")
    f.add_argument("--json", action="store_true", help="print the whole report as JSON instead of a table")
    f.set_defaults(func=cmd_federated)


def cmd_federated(args) -> int:
    from .. import service
    from .._json import jsonable

    paths = _out_paths(args.out, force=args.force) if args.out else None
    progress = lambda msg: print(f"[equipoise] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    report = service.federated_comparison(args.cohort, rounds=args.rounds, n_boot=args.n_boot, progress=progress)
    data = report.to_dict()
    text = json.dumps(jsonable(data), indent=2, allow_nan=False, ensure_ascii=False)
    if paths:
        files = {"federated.json": text + "\n",
                 "linear.json": json.dumps(report.fit.linear.as_dict(), indent=2) + "\n",
                 "trees.json": report.fit.trees.model_json if report.fit.trees is not None else None}
        for name, content in files.items():
            if content is not None:
                service.write_out(paths[name], content.encode(), force=args.force)
        progress(f"report and models written to {args.out}")
    if args.json:
        print(text)
        return 0
    print(table(data))
    return 0


def _bounded_int(name: str, lo: int, hi: int, unit: str = ""):
    """An argparse type: an integer in [lo, hi], refused with the option's name and range otherwise."""
    import argparse

    def parse(text: str) -> int:
        value = int(text) if len(text) <= 12 and text.strip().lstrip("-").isdigit() else None
        if value is None or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{name} must be an integer from {lo:,} to {hi:,}{unit}. "
                                             f"Got {text[:40]!r} instead.")
        return value
    return parse


def _out_paths(out: str, *, force: bool) -> dict:
    """The three output files in folder ``out`` (created if missing), each checked before any training starts."""
    from pathlib import Path

    from .. import service

    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputFileError(f"--out must name a folder for the report and the models. Got the file {out!r} instead.")
    folder.mkdir(parents=True, exist_ok=True)
    return {name: service.check_out_path(folder / name, force=force)
            for name in ("federated.json", "linear.json", "trees.json")}


def table(data: dict) -> str:
    """The overall and per-site MAE of every regime, with the formula's, as plain text."""
    t = data["training"]
    lines = [f"Federated training over {t['n_sites']} IWPC sites ({t['n_training_patients']} training patients; "
             f"held-out rows stay at their sites). Linear model: 1 round; trees: "
             + (f"{t['trees']['rounds']} rounds, {t['trees']['n_trees']} trees." if t["trees"] else "not trained."),
             f"Linear federated fit vs pooled fit: max |coefficient difference| = "
             f"{data['linear_coefficients']['max_abs_difference']:.1e}", "",
             f"{'group':<36}{'model':<20}{'regime':<32}{'n':>5}{'MAE':>7}  {'95% CI':<14}{'IWPC':>7}  verdict"]
    num = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
    for r in data["rows"]:
        lo, hi = r["mae_ci"]
        lines.append(f"{r['group_kind'] + ' ' + r['group']:<36}{r['model']:<20}{r['regime']:<32}{r['n']:>5}"
                     f"{num(r['mae']):>7}  {num(lo) + '-' + num(hi):<14}{num(r['formula_mae']):>7}  {r['verdict']}")
    lines += ["", "MAE in mg/week; IWPC = the published formula on the same patients (in-sample: derived on them)."]
    lines += [f"- {n}" for n in data["notes"]]
    return "\n".join(lines)
