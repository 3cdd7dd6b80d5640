"""The Monitoring page: for administrators only; its charts are drawn from a monitoring result."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import service
from core.auth import Identity
from core.reporting import figures
from streamlit.testing.v1 import AppTest

from tests._apps import APP, open_page, rendered


def test_the_page_opens_for_an_administrator(bundle_root):
    at = open_page("pages/monitoring.py", "actg175")
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Monitoring"
    assert not at.warning


def test_anyone_else_is_turned_away(bundle_root, monkeypatch):
    monkeypatch.setattr(service, "local_identity",
                        lambda: Identity(user="nurse", roles=frozenset({"clinician"}), local=False))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not in this person's navigation
        at.switch_page("pages/monitoring.py")
    at = AppTest.from_file(str(Path(APP).parent / "pages" / "monitoring.py"), default_timeout=120)  # by address
    at.session_state["eq.routed"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "needs one of the roles: admin" in rendered(at.error[0].value)
    assert not at.get("file_uploader")


def test_the_charts_show_each_window_and_mark_the_alerts():
    doc = {"settings": {"psi_alert": 0.25}, "windows": [
        {"window": f"2025-0{m}", "audit": {"overall": {"n": 100, "metrics": {"auc": {
            "value": 0.7, "ci_low": 0.6, "ci_high": 0.8}}}, "groups": []},
         "drift": [{"feature": "age", "psi": 0.01 * m, "level": "none"}],
         "alerts": [{"kind": "performance", "metric": "auc", "attribute": "overall", "group": "overall"}] if m == 3 else []}
        for m in (1, 2, 3)]}
    fig = figures.monitoring_figure(doc, "auc", training=0.72)
    assert list(fig.data[0].x) == ["2025-01", "2025-02", "2025-03"] and list(fig.data[0].y) == [0.7, 0.7, 0.7]
    assert list(fig.data[1].x) == ["2025-03"]  # the alert marker
    drift = figures.drift_figure(doc)
    assert list(drift.data[0].y) == pytest.approx([0.01, 0.02, 0.03])
