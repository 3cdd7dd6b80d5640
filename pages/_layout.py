"""Streamlit-only layout helpers shared by pages: warning banners and small tables."""

from __future__ import annotations

import streamlit as st

BANNER = {  # kind -> (streamlit call, title)
    "insufficient_evidence": ("error", "Insufficient evidence"),
    "out_of_distribution": ("error", "Outside the training data"),
    "underrepresented": ("warning", "Underrepresented group"),
    "worse_performance": ("warning", "The model is less accurate for this patient's group"),
    "non_randomized": ("warning", "Not randomized"),
    "implausible_value": ("warning", "Implausible value"),
    "missing_value": ("info", "Missing input"),
}


def warning_banners(warnings: list[dict]) -> None:
    """One prominent banner per warning, most serious first; each names the numbers behind it."""
    order = list(BANNER)
    missing = [w["field"] for w in warnings if w["kind"] == "missing_value"]
    if len(missing) > 1:  # one banner for all missing inputs
        warnings = [w for w in warnings if w["kind"] != "missing_value"]
        warnings.append({"kind": "missing_value", "message": f"{', '.join(missing)} are missing: the estimate treats "
                         "them as unknown; the range over their plausible values is shown below."})
    for w in sorted(warnings, key=lambda w: order.index(w["kind"]) if w["kind"] in order else len(order)):
        call, title = BANNER.get(w["kind"], ("info", w["kind"].replace("_", " ").capitalize()))
        getattr(st, call)(f"**{title}.** {w['message']}", icon=":material/warning:" if call != "info" else None)


def units_of(spec) -> dict[str, str]:
    return {f.name: f.unit for f in spec.features}
