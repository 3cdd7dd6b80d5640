"""The leave-one-site-out figure: the model's error at each site it never saw, beside the IWPC formula's."""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from ._style import BLACK, BLUE, ORANGE, _require, _rows, _style


def site_figure(validation: Mapping, *, unit: str = "mg/week") -> go.Figure:
    """Mean absolute error per held-out site (``SiteValidation.to_dict()``), sites sorted by the model's MAE.

    The model's point at a site comes from a model trained without that site; the formula's (hollow) was
    derived on these patients, which the subtitle says. The dashed line is the model's pooled MAE.
    """
    doc = validation.to_dict() if hasattr(validation, "to_dict") else validation
    sites = sorted(_require(doc, "sites", "site_figure", "a site validation dict"), key=lambda s: -(s["mae"] or 0))
    summary = doc["summary"]
    rows, formula = [], []
    for i, s in enumerate(sites):
        label = f"site {s['site']} (n={s['n']})"
        hover = (f"{label}: model MAE {s['mae']:.1f} {unit} (trained without this site), "
                 f"{s['within_20']:.0%} within 20%; IWPC formula {s['iwpc_formula_mae']:.1f} {unit}")
        rows.append((label, "model", s["mae"], None, hover, "not scored"))
        formula.append((i, s["iwpc_formula_mae"]))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[v for _, v in formula], y=[i for i, _ in formula], mode="markers",
                             name="IWPC formula (in-sample)", hoverinfo="skip",
                             marker={"color": ORANGE, "symbol": "square-open", "size": 12, "line": {"width": 2}}))
    _rows(fig, rows, {"model": ("Model, site held out", BLUE, "circle")}, y_title="Held-out site (n patients)")
    fig.add_vline(x=summary["pooled_mae"], line={"color": BLACK, "dash": "dash", "width": 1.5},
                  annotation_text=f"pooled {summary['pooled_mae']:.1f}", annotation_position="top")
    return _style(fig, title="How the dose model does at a site it never saw",
                  subtitle=("Mean absolute error per site, model trained on the other sites. The IWPC formula "
                            "was derived on these patients, so its errors are flattering."),
                  x_title=f"Mean absolute error ({unit})", y_title="Held-out site (n patients)",
                  height=160 + 26 * len(sites), legend_below=True)
