"""The Subgroups page states the comparison, the correction and each group's p-values in plain labels."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests._apps import open_page


def open_subgroups(cohort: str) -> AppTest:
    return open_page("pages/subgroups.py", cohort)


@pytest.mark.parametrize("cohort, metric", [("warfarin", "within_20"), ("actg175", "auc")])
def test_page_shows_tests_and_correction(bundle_root, cohort, metric):
    at = open_subgroups(cohort)
    assert not at.exception, [e.value for e in at.exception]
    audit = json.loads((bundle_root / cohort / "audit.json").read_text())
    n_tests = audit["settings"]["n_tests"]
    text = "\n".join(str(m.value) for m in at.markdown)
    assert f"allowing for all {n_tests} comparisons made (Holm correction, 5% level)" in text
    assert "not corrected" not in "\n".join(str(c.value) for c in at.caption)
    at.selectbox(key="sg.metric").set_value(metric)
    at.run()
    table = at.dataframe[0].value
    assert {"The rest", "Gap (group − rest)", "p-value", "p-value, all comparisons",
            "Worse than the rest"} <= set(table.columns)
    tested = table[table["p-value"] != ""]
    assert len(tested) and (tested["p-value, all comparisons"] != "").all()  # Holm, named above the table
    flagged = sum(bool(m.get("flagged")) for g in audit["groups"] for m in g["metrics"].values())
    assert ("No group is worse than the rest" in text) == (flagged == 0)
