"""The race-gap trade-off: each mitigation's overall error against its Black − White and Asian − White gaps."""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from ._style import BLACK, BLUE, ORANGE, VERMILLION, _require, _style


def race_gap_figure(race_gap: Mapping, *, split: str = "test") -> go.Figure:
    """Overall MAE (x) against the two MAE gaps (y) for every candidate in ``race_gap[split]`` (a bundle's
    ``race_gap.json``) and the IWPC formula; the chosen candidate is labelled. All in mg/week."""
    doc = _require(race_gap, split, "race_gap_figure", "a race-gap dict")
    entries = [(name, c) for name, c in doc["candidates"].items()] + [("IWPC formula", doc["iwpc_formula"])]
    maes = [c["mae"] for _, c in entries]
    middle = (min(maes) + max(maes)) / 2  # labels point inwards, so none leaves the plotting area
    positions = ["middle left" if m > middle else "middle right" for m in maes]
    fig = go.Figure()
    for key, label, colour, symbol in (("black_white_gap", "Black − White gap", VERMILLION, "circle"),
                                       ("asian_white_gap", "Asian − White gap", BLUE, "diamond")):
        fig.add_trace(go.Scatter(
            x=[c["mae"] for _, c in entries], y=[c[key] for _, c in entries], mode="markers+text", name=label,
            text=[("▶ " if n == race_gap.get("chosen") else "") + n for n, _ in entries], textposition=positions,
            hovertext=[f"{n}: overall MAE {c['mae']:.2f}, {label} {c[key]:+.2f} mg/week" for n, c in entries],
            hoverinfo="text", marker={"color": colour, "symbol": symbol, "size": 11,
                                      "line": {"color": BLACK, "width": [2 if n == "IWPC formula" else 0
                                                                         for n, _ in entries]}}))
    fig.add_hline(y=0, line={"color": BLACK, "dash": "dot", "width": 1})
    formula = doc["iwpc_formula"]
    fig.add_vline(x=formula["mae"], line={"color": ORANGE, "dash": "dash", "width": 1.5},
                  annotation_text=f"IWPC formula MAE {formula['mae']:.2f}", annotation_position="top")
    return _style(fig, title="Race gap against overall error, per mitigation",
                  subtitle=(f"{split} split; each mitigation chosen or not on the training split only. A gap is a "
                            "group's MAE minus White patients' (0 = equal)."),
                  x_title="Overall mean absolute error (mg/week)", y_title="MAE gap (mg/week)", height=480,
                  legend_below=True)
