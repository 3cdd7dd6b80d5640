"""Every runtime import is a declared dependency: each third-party module that core/, pages/ or app.py imports
(at any depth, lazily or not) belongs to a distribution named in pyproject.toml's [project].dependencies, so
``pip install .`` alone runs what ``make run`` runs (fairlearn was once imported at training time but declared only
for tests). The mapping from module to distribution is read from the installed packages' own metadata."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OWN = {"core", "pages", "app", "tests"}


def _declared(extra: str | None = None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return {re.split(r"[\s<>=!~\[;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in reqs}


def _imported_modules() -> dict[str, str]:
    """Top-level module name -> a file that imports it, for every absolute import in the runtime code."""
    found = {}
    files = [*(ROOT / "core").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_of_the_runtime_code_is_declared():
    dists = packages_distributions()
    declared = _declared()
    missing = []
    for module, where in sorted(_imported_modules().items()):
        if module in OWN or module in sys.stdlib_module_names:
            continue
        owners = {d.lower().replace("_", "-") for d in dists.get(module, [])}
        assert owners, f"{module} (imported by {where}) is not installed here"
        if not owners & declared:
            missing.append(f"{module} ({where}) from {sorted(owners)}")
    assert not missing, f"imported at run time but not in [project].dependencies: {missing}"


def test_the_check_sees_a_test_only_package():
    # pytest is installed (the test extra) but must not count as a runtime dependency
    assert "pytest" in _declared("test") and "pytest" not in _declared()
    owners = {d.lower() for d in packages_distributions().get("_pytest", [])}
    assert owners and not owners & _declared()
