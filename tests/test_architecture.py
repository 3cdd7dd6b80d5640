"""The package's shape: one entry point for pages and the CLI, curated surfaces, short documented modules."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core"
SUBPACKAGES = sorted(p.parent.name for p in CORE.glob("*/__init__.py") if p.parent.name != "__pycache__")
MAX_LINES = 420  # "no module over about 400 lines"


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(level, module, names) of every import statement in a file, nested ones included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            out.append((node.level, node.module or "", [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(0, a.name, []) for a in node.names]
    return out


def test_the_subpackages_are_the_documented_concepts():
    assert SUBPACKAGES == ["audit", "auth", "board", "cds", "data", "evaluation", "explain", "fairness", "federated", "fhir",
                           "modeling", "reporting", "scale", "simulation", "store", "training", "uncertainty"]


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "pages").glob("*.py")) + ["../app.py"])
def test_pages_reach_core_only_through_its_surface_and_the_service(page):
    allowed = {"core", "core.service", "core.reporting"}  # core.reporting: for the figures module only
    for level, module, names in _imports(ROOT / "pages" / page):
        if module == "core" or module.startswith("core."):
            assert module in allowed, f"{page} imports the deep module {module}"
            if module == "core.reporting":
                assert names == ["figures"], f"{page} imports {names} from core.reporting"


@pytest.mark.parametrize("cli", ["cli.py"] + sorted(p.name for p in CORE.glob("_cli_*.py")))
def test_the_cli_goes_through_the_service(cli):
    # core/cli.py and its per-concept command modules (core/_cli_<concept>.py, each with add_commands(sub))
    for level, module, names in _imports(CORE / cli):
        if level:
            assert module in ("service", "_errors", "_json", "") or module.startswith("_cli_"), \
                f"core/{cli} imports .{module}"


@pytest.mark.parametrize("path", sorted(str(p.relative_to(ROOT)) for p in CORE.rglob("*.py")))
def test_every_module_is_short_and_says_what_it_is_for(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    tree = ast.parse(text)
    doc = ast.get_docstring(tree)
    assert doc and doc.strip(), f"{path} has no module docstring"
    assert len(text.splitlines()) <= MAX_LINES, f"{path} has {len(text.splitlines())} lines"


@pytest.mark.parametrize("package", ["core"] + [f"core.{s}" for s in SUBPACKAGES])
def test_every_public_surface_is_curated_and_resolves(package):
    module = importlib.import_module(package)
    names = module.__all__
    assert names and len(names) == len(set(names))
    for name in names:
        assert getattr(module, name) is not None, f"{package}.{name}"


@pytest.mark.parametrize("package", [f"core.{s}" for s in SUBPACKAGES] + ["core.service", "core.cli"])
def test_no_subpackage_imports_streamlit(package):
    # In a fresh interpreter, so nothing imported by other tests can hide a violation.
    code = (f"import sys, importlib, pkgutil; m = importlib.import_module({package!r});\n"
            "for sub in pkgutil.walk_packages(getattr(m, '__path__', []), m.__name__ + '.'):\n"
            "    importlib.import_module(sub.name)\n"
            "sys.exit(any(k == 'streamlit' or k.startswith('streamlit.') for k in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr or f"{package} imported streamlit"


def test_one_intersection_separator_and_one_conformal_rank_rule():
    offenders = []
    for path in CORE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name != "groups.py" and ('" x "' in text or "' x '" in text):
            offenders.append(f"{path.relative_to(ROOT)}: literal intersection separator")
        if path.name != "conformal.py" and "math.ceil((n + 1)" in text:
            offenders.append(f"{path.relative_to(ROOT)}: its own conformal rank rule")
    assert not offenders, offenders
