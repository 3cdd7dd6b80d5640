"""Command-line start-up, printed as JSON (never asserted in tests).

Wall time of whole processes, each beside the floor measured in the same run (``python -c pass``, the
interpreter alone): ``equipoise --help``, a subcommand's ``--help`` and one cheap command that needs no model
(``equipoise roles check`` on a small roles file). Also lists which heavy libraries ``--help`` imported.

Usage: python benchmarks/bench_cli_start.py [--runs 15] [--root DIR] [--out FILE]

``--root`` measures another checkout (e.g. main before a change) with the same interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sklearn", "lightgbm", "sqlalchemy", "dask", "shap", "pandas", "streamlit", "core.service", "numpy", "scipy")
GOAL_S = 0.3


def _run(cmd: list[str], env: dict, runs: int) -> dict:
    times = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if proc.returncode not in (0, 2):  # --help exits 0; `roles check` without a file exits 2
            raise SystemExit(f"{cmd} failed ({proc.returncode}): {proc.stderr[-2000:]}")
        if i:  # the first run warms the file cache
            times.append(elapsed)
    times.sort()
    return {"median_s": round(statistics.median(times), 3), "p95_s": round(times[min(len(times) - 1,
                                                                                    int(0.95 * len(times)))], 3),
            "runs": len(times)}


def _heavy_imports(root: Path, env: dict) -> list[str]:
    code = ("import sys, contextlib, io\nfrom core.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=root)
    return proc.stdout.split()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "cli_start.json")
    args = ap.parse_args()
    root = args.root.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(root), "EQUIPOISE_DATA_DIR": tmp}
        roles = Path(tmp) / "roles.toml"
        roles.write_text('[users]\nalice = ["clinician"]\n', encoding="utf-8")
        cli = [sys.executable, "-m", "core.cli"]
        result = {
            "what": "whole-process wall time, seconds (median and p95 over runs, after one warm-up run)",
            "root": str(root),
            "floor_python_c_pass": _run([sys.executable, "-c", "pass"], env, args.runs),
            "equipoise_help": _run(cli + ["--help"], env, args.runs),
            "equipoise_predict_help": _run(cli + ["predict", "--help"], env, args.runs),
            "equipoise_roles_check": _run(cli + ["roles", "check", "--file", str(roles)], env, args.runs),
            "heavy_modules_imported_by_help": _heavy_imports(root, env),
            "goal_help_s": GOAL_S,
        }
    floor = result["floor_python_c_pass"]["median_s"]
    result["equipoise_help_above_floor_s"] = round(result["equipoise_help"]["median_s"] - floor, 3)
    result["meets_goal"] = result["equipoise_help"]["median_s"] <= GOAL_S
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
