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
ENTRY_POINTS = ("service", "cli")  # packages that are not concepts: the one entry point and the command line
SUBPACKAGES = sorted(p.parent.name for p in CORE.glob("*/__init__.py")
                     if p.parent.name not in ("__pycache__", *ENTRY_POINTS))
MAX_LINES = 420  # "no module over about 400 lines"
MAX_SERVICE_LINES = 300  # one module per use: short enough to read at once


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
    assert SUBPACKAGES == ["audit", "auth", "board", "cds", "data", "evaluation", "explain", "fairness", "federated",
                           "fhir", "modeling", "monitoring", "reporting", "scale", "simulation", "store", "training", "uncertainty"]


CORE_TYPES = {"BaselineWinsWarning", "BundleIntegrityError", "CohortSpec", "DataIntegrityError", "EquipoiseError",
              "EquipoiseWarning", "Explanation", "FeatureSpec", "FieldError", "ImplausibleValueWarning",
              "InputFileError", "InsufficientEvidenceWarning", "ModelBundle", "ModelCard", "OutOfDistributionWarning",
              "PatientReport", "PatientValidationError", "SmallSubgroupWarning", "SpecError", "SubgroupAudit",
              "__version__", "service"}


def test_core_itself_exports_only_types_and_the_service():
    # A function exported by core (predict_patient, what_if, model_card, ...) would let a caller bypass the
    # service's logging: nothing shown that is not logged.
    import core

    assert set(core.__all__) == CORE_TYPES
    for name in core.__all__:
        value = getattr(core, name)
        assert name in ("service", "__version__") or isinstance(value, type), f"core.{name} is not a type"


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "pages").glob("*.py")) + ["../app.py"])
def test_pages_reach_core_only_through_its_surface_and_the_service(page):
    allowed = {"core", "core.service", "core.reporting"}  # core.reporting: for the figures module only
    for level, module, names in _imports(ROOT / "pages" / page):
        if module == "core" or module.startswith("core."):
            assert module in allowed, f"{page} imports the deep module {module}"
            if module == "core.reporting":
                assert names == ["figures"], f"{page} imports {names} from core.reporting"
            if module == "core":
                assert set(names) <= CORE_TYPES, f"{page} imports {set(names) - CORE_TYPES} from core"


def _module_graph() -> dict[str, set[str]]:
    """Every module of core/ and pages/ and the project modules it imports (nested imports included)."""
    paths = {}
    for base in ("core", "pages"):
        for p in (ROOT / base).rglob("*.py"):
            name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
            paths[name.removesuffix(".__init__")] = p
    graph = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for level, module, names in _imports(path):
            if level:
                parts = package.split(".")[: len(package.split(".")) - level + 1]
                module = ".".join(parts + ([module] if module else []))
            for target in [module] + [f"{module}.{n}" for n in names]:
                if target in paths and target != name and not name.startswith(target + "."):
                    deps.add(target)
        graph[name] = deps
    return graph


def test_there_are_no_import_cycles():
    graph = _module_graph()
    assert "core.service.patients" in graph["core.service"] and "core.service" in graph["pages._state"]
    # a module is on a cycle iff it can reach itself: depth-first search from each module
    on_cycle = []
    for start in graph:
        seen, stack = set(), list(graph[start])
        while stack:
            node = stack.pop()
            if node == start:
                on_cycle.append(start)
                break
            if node not in seen:
                seen.add(node)
                stack.extend(graph[node])
    assert not on_cycle, f"modules on an import cycle: {sorted(on_cycle)}"


def test_the_service_is_one_package_of_short_modules_one_per_use():
    service = CORE / "service"
    assert not (CORE / "service.py").exists() and not list(CORE.glob("_service_*.py"))
    for path in service.glob("*.py"):
        n = len(path.read_text(encoding="utf-8").splitlines())
        assert n <= MAX_SERVICE_LINES, f"core/service/{path.name} has {n} lines"
    # the service's modules reach each other directly, never through the package (which imports them all)
    for path in service.glob("*.py"):
        if path.name != "__init__.py":
            for level, module, names in _imports(path):
                assert not (level == 1 and module == ""), f"core/service/{path.name} imports the service package"
                assert module != "core.service", f"core/service/{path.name} imports the service package"


def test_no_concept_package_imports_the_service_package():
    # core.cds.app is the CDS Hooks adapter: it may use service modules, never the package facade
    for path in CORE.rglob("*.py"):
        rel = path.relative_to(CORE)
        if rel.parts[0] in ("service", "cli") or rel.name.startswith("_cli") or rel.name == "cli.py":
            continue
        for level, module, names in _imports(path):
            absolute = module if not level else None
            assert absolute != "core.service" and not (level and module == "service" and names), \
                f"core/{rel} imports the service package"


@pytest.mark.parametrize("cli", sorted(p.name for p in (CORE / "cli").glob("*.py")))
def test_the_cli_goes_through_the_service(cli):
    # core/cli/: the parser and dispatch (_main.py) and one module per command group, each with add_commands(sub).
    # From core it reaches the service, the error classes, the JSON helpers and the cohorts' names (for --help).
    for level, module, names in _imports(CORE / "cli" / cli):
        if level == 2:
            allowed = (module in ("service", "_errors", "_json", "_cohort_names")
                       or (module == "" and names == ["service"]))
            assert allowed, f"core/cli/{cli} imports ..{module or names}"
        else:
            assert level in (0, 1), f"core/cli/{cli} reaches above core"


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
