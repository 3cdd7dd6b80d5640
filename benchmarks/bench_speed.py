"""Speed of one full patient report against the raw LightGBM calls it needs, side by side in one run (JSON).

Per cohort and held-out patient: the full report through the numeric fast path (``ReportEngine.report``,
then ``to_dict()``: every arm, intervals, pairwise differences, explanation, warnings) and, on the same
patient, only the LightGBM calls that report needs, on ready-made numpy matrices: the main model's
TreeSHAP (``pred_contrib``) under every arm, each ensemble member's prediction under every arm, and the
main model's predictions of the missing-input scenarios. Medians over patients, one thread. The goal is a
ratio (report / raw) of at most 2. The reference pandas path (``predict_patient``) is timed too.

With ``--batch`` also the batch path: ``ReportEngine.reports`` over chunks of held-out patients repeated
to ``--rows`` rows, with and without explanations, against the raw LightGBM calls on the same rows.

Usage: python benchmarks/bench_speed.py [--cohorts actg175,colon,warfarin] [--patients 200] [--bundles DIR]
                                       [--batch] [--rows 20000] [--chunk 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


from core import service  # noqa: E402
from core._json import dumps  # noqa: E402
from core.modeling.bundle import load_bundle  # noqa: E402
from core.reporting.fast_report import ReportEngine  # noqa: E402
from core.reporting.patient_report import predict_patient  # noqa: E402
from core.scale import report_columns_ignored, score_chunk  # noqa: E402


def raw_lightgbm(engine: ReportEngine, patients: list, *, explanations: bool = True) -> float:
    """Seconds for the LightGBM calls the reports of ``patients`` need (matrices built beforehand):
    the main model's TreeSHAP (its raw predictions without explanations), each member's predictions,
    and the main model's predictions of the missing-input scenarios."""
    bundle, enc = engine.bundle, engine.encoder
    codes = enc.codes([engine._typed(p.values) for p in patients])
    x = enc.with_arms(codes, engine.arms)
    scenarios = [{**p.values, name: v} for p in patients for name in p.missing
                 for v in bundle.missing_scenarios.get(name) or []]
    xs = enc.with_arms(enc.codes([engine._typed(r) for r in scenarios]), engine.arms) if scenarios else None
    members = [m.booster for m in bundle.ensemble.members if m.booster is not None] if bundle.ensemble else []
    main = bundle.model.booster
    t0 = time.perf_counter()
    if main is not None:
        main.predict(x, pred_contrib=explanations or engine.spec.is_dose, raw_score=True, num_threads=1)
        if xs is not None:
            main.predict(xs, raw_score=True, num_threads=1)
    for booster in members:
        booster.predict(x, raw_score=True, num_threads=1)
    return time.perf_counter() - t0


def bench_single(name: str, bundle, n_patients: int) -> dict:
    engine = ReportEngine.of(bundle)
    records = [{k: v for k, v in r.items() if k != "patient_id"} for r in service.held_out_patients(bundle)]
    records = records[:n_patients]
    fast, raw, ref = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in records[:20]:  # warm-up
            engine.report(r).to_dict()
            predict_patient(bundle, r).to_dict()
        for r in records:
            t0 = time.perf_counter()
            engine.report(r).to_dict()
            fast.append(time.perf_counter() - t0)
            raw.append(raw_lightgbm(engine, engine.validate([r])))
            t0 = time.perf_counter()
            predict_patient(bundle, r).to_dict()
            ref.append(time.perf_counter() - t0)
    f, w, p = (1000 * statistics.median(v) for v in (fast, raw, ref))
    return {"cohort": name, "patients": len(records), "report_ms_median": round(f, 3),
            "raw_lightgbm_ms_median": round(w, 3), "ratio": round(f / w, 2), "goal_ratio": 2,
            "reference_pandas_path_ms_median": round(p, 3), "speed_up_vs_reference": round(p / f, 1)}


def bench_batch(name: str, bundle, rows: int, chunk: int) -> dict:
    """The batch path as ``equipoise predict --csv/--parquet`` runs it (validation, reports, JSON lines)."""
    engine = ReportEngine.of(bundle)
    spec = bundle.spec
    records = [{k: v for k, v in r.items() if k != "patient_id"} for r in service.held_out_patients(bundle)]
    records = (records * (rows // len(records) + 1))[:rows]
    out = {"cohort": name, "rows": rows, "chunk": chunk}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for explanations in (True, False):
            key = "with_explanations" if explanations else "no_explanations"
            t0 = time.perf_counter()
            for s in range(0, rows, chunk):
                for r in score_chunk(bundle, records[s:s + chunk], first_row=s + 1, explanations=explanations,
                                     ignore=report_columns_ignored(spec)):
                    dumps(r)  # as the batch writer serialises each result
            out[f"{key}_rows_per_second"] = round(rows / (time.perf_counter() - t0), 1)
            raw = sum(raw_lightgbm(engine, engine.validate(records[s:s + chunk]), explanations=explanations)
                      for s in range(0, rows, chunk))
            out[f"{key}_raw_lightgbm_rows_per_second"] = round(rows / raw, 1)
            out[f"{key}_ratio"] = round(out[f"{key}_raw_lightgbm_rows_per_second"] / out[f"{key}_rows_per_second"], 2)
    out["goal_ratio"] = 3
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--cohorts", default="actg175,colon,warfarin")
    p.add_argument("--patients", type=int, default=200)
    p.add_argument("--bundles", help="folder with one bundle per cohort (default: train into bundles/ if missing)")
    p.add_argument("--batch", action="store_true")
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--chunk", type=int, default=2_000)
    args = p.parse_args()
    single, batch = [], []
    for name in args.cohorts.split(","):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bundle = load_bundle(os.path.join(args.bundles, name)) if args.bundles else service.ensure_bundle(name)
        single.append(bench_single(name, bundle, args.patients))
        if args.batch:
            batch.append(bench_batch(name, bundle, args.rows, args.chunk))
    out = {"benchmark": "report_speed", "threads": 1, "single_report": single}
    if batch:
        out["batch"] = batch
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
