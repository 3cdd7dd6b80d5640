"""Figures of audits over time (``Monitoring.to_dict()``): a metric per window with its interval, and input drift."""

from __future__ import annotations

import plotly.graph_objects as go

from ._population import METRIC_AXES
from ._style import BLACK, BLUE, SERIES, VERMILLION, _style


def _metric(window: dict, attribute: str, group: str, metric: str) -> dict:
    audit = window.get("audit")
    if not audit:
        return {}
    if attribute == "overall":
        return audit["overall"]["metrics"].get(metric) or {}
    for g in audit["groups"]:
        if g["attribute"] == attribute and g["group"] == group:
            return g["metrics"].get(metric) or {}
    return {}


def monitoring_figure(doc: dict, metric: str, *, attribute: str = "overall", group: str = "overall",
                      training: float | None = None) -> go.Figure:
    """One metric of one group per window with its bootstrap interval; windows with an alert on it are marked
    with a red cross; ``training``: the training-time value, as a dashed line. Insufficient data is a gap."""
    label, unit, factor = METRIC_AXES.get(metric, (metric, "", 1))
    windows = doc["windows"]
    x = [w["window"] for w in windows]
    rows = [_metric(w, attribute, group, metric) for w in windows]
    value = [None if r.get("value") is None else factor * r["value"] for r in rows]
    lo = [None if r.get("ci_low") is None else factor * r["ci_low"] for r in rows]
    hi = [None if r.get("ci_high") is None else factor * r["ci_high"] for r in rows]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=value, mode="lines+markers", name=label, line={"color": BLUE},
                             error_y={"type": "data", "symmetric": False,
                                      "array": [None if v is None or h is None else h - v for v, h in zip(value, hi)],
                                      "arrayminus": [None if v is None or lw is None else v - lw
                                                     for v, lw in zip(value, lo)]},
                             hovertemplate="%{x}: %{y:.3g}<extra></extra>"))
    alerted = [w["window"] for w in windows for a in w.get("alerts", ())
               if a.get("kind") == "performance" and a.get("metric") == metric and a.get("attribute") == attribute
               and a.get("group") == group]
    if alerted:
        fig.add_trace(go.Scatter(x=alerted, y=[value[x.index(w)] for w in alerted], mode="markers",
                                 name="alert: worse than at training time",
                                 marker={"symbol": "x", "size": 14, "color": VERMILLION}))
    if training is not None:
        fig.add_hline(y=factor * training, line={"dash": "dash", "color": BLACK},
                      annotation_text="at training time (held-out test split)")
    who = "all patients" if attribute == "overall" else f"{attribute.replace('_', ' ')}: {group}"
    return _style(fig, title=f"{label} over time — {who}", x_title="Window",
                  y_title=f"{label} ({unit})" if unit else label,
                  subtitle="Bars: 95% bootstrap intervals. A gap: too few patients in that window for a number.")


def drift_figure(doc: dict, *, labels: dict[str, str] | None = None) -> go.Figure:
    """Each feature's population stability index against the training data, per window; 0.10 and 0.25 lines.
    ``labels``: {feature: clinical label} for the legend (else the name in plain words)."""
    labels = labels or {}
    windows = doc["windows"]
    x = [w["window"] for w in windows]
    features = sorted({d["feature"] for w in windows for d in w.get("drift", ())})
    fig = go.Figure()
    for i, f in enumerate(features):
        colour, dash, symbol = SERIES[i % len(SERIES)]
        y = [next((d["psi"] for d in w.get("drift", ()) if d["feature"] == f), None) for w in windows]
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=labels.get(f) or f.replace("_", " "), line={"color": colour, "dash": dash},
                                 marker={"symbol": symbol}))
    alert = doc.get("settings", {}).get("psi_alert", 0.25)
    fig.add_hline(y=alert, line={"dash": "dash", "color": VERMILLION}, annotation_text=f"major shift ({alert:g})")
    fig.add_hline(y=0.10, line={"dash": "dot", "color": BLACK}, annotation_text="moderate shift (0.10)")
    return _style(fig, title="Input drift against the training data", x_title="Window",
                  y_title="Population stability index (unitless; 0 = same distribution)",
                  subtitle="Each model input in the file, binned by the training split's deciles or categories.")
