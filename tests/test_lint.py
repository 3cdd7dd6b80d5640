"""The linter passes on the whole tree (rules in pyproject.toml's [tool.ruff]: unused and undefined names,
redefinitions, syntax errors), so CI fails on a name that no longer exists or an import left behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    pytest.importorskip("ruff")
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_would_catch_an_undefined_name(tmp_path):
    pytest.importorskip("ruff")
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    return undefined_name\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "F", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "F821" in proc.stdout
