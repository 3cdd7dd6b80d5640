"""Hardening around sign-in: local mode listens on 127.0.0.1 only, no page renders raw HTML, the secrets file
is never committed, and the Streamlit in use is at least the pinned release that has st.login."""

from __future__ import annotations

import ast
import re
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_run_binds_to_the_loopback_address_only():
    run = re.search(r"^run:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M).group(1)
    assert "streamlit run app.py" in run and "--server.address 127.0.0.1" in run


def _static_strings(tree: ast.Module) -> set[str]:
    """Module-level names bound once to a plain string literal (our own static CSS, never user text)."""
    bound = [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
    return {n.targets[0].id for n in tree.body if isinstance(n, ast.Assign) and len(n.targets) == 1
            and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Constant)
            and isinstance(n.value.value, str) and bound.count(n.targets[0].id) == 1}


def test_no_page_renders_raw_html():
    """HTML is never rendered, except a module's own constant string (the presenter view's static CSS)."""
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        static = _static_strings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and any(k.arg == "unsafe_allow_html" for k in node.keywords):
                (flag,) = [k.value for k in node.keywords if k.arg == "unsafe_allow_html"]
                constant_css = (len(node.args) == 1 and isinstance(node.args[0], ast.Name)
                                and node.args[0].id in static)
                assert isinstance(flag, ast.Constant) and (flag.value is False or constant_css), path.name
            if isinstance(node, ast.Attribute) and node.attr == "html":  # st.html renders HTML as given
                assert getattr(node.value, "id", None) != "st", path.name


def test_the_secrets_file_is_ignored_and_not_committed():
    ignored = subprocess.run(["git", "check-ignore", "-q", ".streamlit/secrets.toml"], cwd=ROOT)
    assert ignored.returncode == 0
    tracked = subprocess.run(["git", "ls-files", "*secrets.toml"], cwd=ROOT, capture_output=True, text=True)
    assert tracked.stdout.strip() == ""


def test_streamlit_is_pinned_at_a_release_with_st_login_and_the_installed_one_satisfies_it():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    (pin,) = [d for d in deps if re.match(r"streamlit\b", d)]
    low = tuple(int(x) for x in re.search(r">=\s*([\d.]+)", pin).group(1).split("."))
    assert low >= (1, 42)  # st.login / st.user.is_logged_in appeared in 1.42
    installed = tuple(int(x) for x in metadata.version("streamlit").split(".")[:len(low)])
    assert installed >= low
    import streamlit as st

    assert callable(st.login) and callable(st.logout)
    assert any(re.match(r"authlib\b", d, re.I) for d in deps)  # st.login needs Authlib
