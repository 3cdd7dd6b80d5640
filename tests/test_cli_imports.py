"""`equipoise --help` and building the parser import no computation: neither scikit-learn, LightGBM, SQLAlchemy,
Dask, SHAP, pandas, Streamlit nor ``core.service``. Each command imports what it needs when it runs (issue 29).

Checked in fresh interpreters: ``sys.modules`` after the parser has printed its help, and after a command that does
need the service (so the check is seen to fail where it should)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sklearn", "lightgbm", "sqlalchemy", "dask", "shap", "pandas", "streamlit", "core.service")
RUN = ("import contextlib, io, json, sys\nfrom core.cli import main\nwith contextlib.redirect_stdout(io.StringIO()):\n"
       "    try:\n        main(sys.argv[1:])\n    except SystemExit:\n        pass\n"
       "print(json.dumps(sorted(sys.modules)))")


def _imported_by(argv: list[str]) -> set[str]:
    """Every module in ``sys.modules`` after ``equipoise ARGV`` ran in a fresh interpreter. (``-X importtime`` would
    miss modules imported through ``importlib.import_module``, as ``core``'s lazy names are.)"""
    proc = subprocess.run([sys.executable, "-c", RUN, *argv], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = set(json.loads(proc.stdout.splitlines()[-1]))
    assert "core.cli._main" in names, "the check did not see the command line's own modules"
    return names


def _heavy(names: set[str]) -> list[str]:
    return sorted(n for n in names if any(n == h or n.startswith(h + ".") for h in HEAVY))


@pytest.mark.parametrize("argv", [["--help"], ["predict", "--help"], ["board", "--help"], ["training", "new", "--help"],
                                  ["audit", "--help"], ["serve", "--help"]])
def test_help_imports_no_computation(argv):
    assert _heavy(_imported_by(argv)) == []


def test_a_command_that_needs_the_service_imports_it():
    # The check above can fail: a command that reads the cohorts does import the service (and pandas with it).
    names = _imported_by(["template", "--cohort", "colon"])
    assert "core.service" in names and "pandas" in names


def test_the_help_lists_the_bundled_cohorts_without_loading_them():
    from core.data import BUNDLED

    proc = subprocess.run([sys.executable, "-m", "core.cli", "training", "new", "--help"], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert f"a bundled cohort ({', '.join(BUNDLED)})" in " ".join(proc.stdout.split())
