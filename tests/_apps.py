"""Shared by the AppTest page tests: open a page of the dashboard through app.py, on a chosen cohort."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_page(page: str, cohort: str | None = None) -> AppTest:
    """Run app.py, switch to ``page`` and, if given, choose ``cohort`` in the sidebar."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(page)
    at.run()
    if cohort:
        at.sidebar.selectbox(key="w.cohort").set_value(cohort)
        at.run()
    return at


def rendered(markdown: str) -> str:
    """What the reader sees of inert (escaped) Markdown: the escapes removed."""
    return re.sub(r"\\(.)", r"\1", str(markdown))
