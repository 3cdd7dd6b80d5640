"""Figures of a model's populations and checks: subgroup forests, calibration, decision and coverage curves."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import plotly.graph_objects as go

from ..words import group_text
from ._style import (BLACK, BLUE, GREEN, ORANGE, SERIES, SKY, VERMILLION, YELLOW, _interval_text, _require, _rows,
                     _same_length, _scaled, _style)

# metric -> (label, unit; "{unit}" is the outcome's unit, factor applied to the stored value)
METRIC_AXES = {
    "auc": ("AUC", "unitless; 0.5 = chance, 1 = perfect", 1),
    "brier": ("Brier score", "unitless; lower is better", 1),
    "calibration_intercept": ("Calibration intercept", "log-odds; 0 = ideal", 1),
    "calibration_slope": ("Calibration slope", "unitless; 1 = ideal", 1),
    "c_for_benefit": ("C-for-benefit", "unitless; 0.5 = chance", 1),
    "outcome_rate": ("Observed outcome rate", "%", 100),
    "mean_predicted": ("Mean predicted risk", "%", 100),
    "coverage": ("Prediction-interval coverage", "%", 100),
    "within_20": ("Predictions within 20% of the observed value", "%", 100),
    "mae": ("Mean absolute error", "{unit}", 1),
    "mape": ("Mean absolute error as a share of the observed value", "%", 100),
    "mean_error": ("Mean error, predicted − observed", "{unit}", 1),
    "mean_outcome": ("Mean observed outcome", "{unit}", 1),
}

MSG_UNKNOWN_METRIC = "Unknown metric {metric!r} for this subgroup audit. Available metrics: {available}."
MSG_NO_CURVES = "calibration_figure needs at least one curve ({'name', 'predicted', 'observed', 'n'}). Got none."


# --- audits and checks ------------------------------------------------------------------------------
def subgroup_forest(audit_doc, metric: str, *, highlight: Iterable[tuple[str, str]] = (),
                    attributes: Sequence[str] | None = None, outcome_unit: str = "mg/week") -> go.Figure:
    """One metric per group (``SubgroupAudit`` or its ``to_dict()``) with its interval, the overall value as a line.

    Insufficient data is shown as text, never as a number; flagged groups get their own symbol; the
    ``highlight`` rows (the patient's ``(attribute, group)`` pairs) a band and a bold label.
    """
    doc = audit_doc.to_dict() if hasattr(audit_doc, "to_dict") else audit_doc
    overall = _require(doc, "overall", "subgroup_forest", "a subgroup audit dict")
    available = sorted(set(overall["metrics"]).union(*(g["metrics"] for g in doc["groups"])))
    if metric not in available:
        raise ValueError(MSG_UNKNOWN_METRIC.format(metric=metric, available=", ".join(available)))
    base = "c_for_benefit" if metric.startswith("c_for_benefit[") else metric  # one per active arm
    name, unit, factor = METRIC_AXES.get(base, (metric, "as reported", 1))
    if base != metric:
        name = f"{name}, {metric[len(base) + 1:-1]}"
    unit, level = unit.format(unit=outcome_unit), doc.get("settings", {}).get("confidence", 0.95)
    mine = {(str(a), str(g)) for a, g in highlight}
    groups = [g for g in doc["groups"] if attributes is None or g["attribute"] in attributes]
    fig, rows = go.Figure(), []
    for i, g in enumerate(groups):
        label = f"{group_text(None, g['attribute'], g['group'])} (n={g['n']})"
        if (g["attribute"], g["group"]) in mine:
            label = f"<b>{label} ◀ this patient</b>"
            fig.add_hrect(y0=i - 0.5, y1=i + 0.5, fillcolor=YELLOW, opacity=0.45, line_width=0, layer="below")
        m = g["metrics"].get(metric, {"insufficient_data": True, "reason": "not computed"})
        if m.get("insufficient_data") or m.get("value") is None:
            why = m.get("reason") or "not estimable on these patients"
            note = f"insufficient data ({why})" if m.get("insufficient_data") else why
            rows.append((label, "", None, None, "", note))
            continue
        value, iv = m["value"] * factor, _scaled([m.get("ci_low"), m.get("ci_high")], factor)
        hover = (f"{group_text(None, g['attribute'], g['group'])} (n={g['n']})<br>{name}: {value:.3g} ({unit.split(';')[0]})<br>"
                 f"{_interval_text(iv, '', level, '.3g')}" + "<br>flagged: worse than the rest (after correction)"
                 * bool(m.get("flagged")))
        rows.append((label, "flagged" if m.get("flagged") else "group", value, iv, hover, ""))
    _rows(fig, rows, {"group": ("Group estimate", BLUE, "circle"),
                      "flagged": ("Flagged: worse than the rest (after correction)", VERMILLION, "x")},
          y_title=f"Subgroup (n in the {doc.get('split', 'test')} split)")
    whole = overall["metrics"].get(metric, {})
    if whole.get("value") is not None:
        fig.add_vline(x=whole["value"] * factor, line={"color": BLACK, "dash": "dash", "width": 1.5},
                      annotation_text=f"overall {whole['value'] * factor:.3g} (n={overall.get('n', '?')})",
                      annotation_position="top")
        band = _scaled([whole.get("ci_low"), whole.get("ci_high")], factor)
        if band:
            fig.add_vrect(x0=band[0], x1=band[1], fillcolor=SKY, opacity=0.2, line_width=0, layer="below")
    return _style(fig, title=f"{name} by subgroup", x_title=f"{name} ({unit})",
                  y_title=fig.layout.yaxis.title.text, height=200 + 30 * len(groups),
                  subtitle=f"Bars: {level:.0%} bootstrap intervals; dashed line and blue band: all patients"
                           + "; yellow band: this patient's groups" * bool(mine))


def calibration_figure(curves: Sequence[Mapping], *, unit: str = "%", quantity: str = "risk") -> go.Figure:
    """Predicted vs observed with the diagonal; ``unit='%'``: probabilities drawn ×100, else drawn as given."""
    if not curves:
        raise ValueError(MSG_NO_CURVES)
    factor = 100 if unit == "%" else 1
    fig, extent = go.Figure(), [0.0]
    for i, c in enumerate(curves):
        _same_length(f"Calibration curve {c['name']!r}", predicted=c["predicted"], observed=c["observed"], n=c["n"])
        colour, dash, symbol = SERIES[i % len(SERIES)]
        x, y = [factor * v for v in c["predicted"]], [factor * v for v in c["observed"]]
        biggest = max(c["n"], default=1) or 1
        if not x:  # a group too small for a curve: named in the legend, never drawn as numbers
            fig.add_trace(go.Scatter(x=[], y=[], mode="markers", name=f"{c['name']}: insufficient data, no curve",
                                     marker={"color": colour, "symbol": f"{symbol}-open"}, hoverinfo="skip"))
            continue
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="lines+markers", name=c["name"], line={"color": colour, "dash": dash, "width": 2},
            marker={"color": colour, "symbol": symbol, "size": [8 + 10 * math.sqrt(k / biggest) for k in c["n"]]},
            hoverinfo="text", hovertext=[f"{c['name']}: predicted {a:.1f} {unit}, " + (
                "no known outcome" if math.isnan(b) else f"observed {b:.1f} {unit}") + f" ({k} patients)"
                for a, b, k in zip(x, y, c["n"])]))
        extent += [v for v in x + y if not math.isnan(v)]  # NaN (no known outcome in a bin): a gap, not a point
    top = min(100.0, max(extent) * 1.1) if unit == "%" else max(extent) * 1.05
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="Perfect agreement", hoverinfo="skip",
                             line={"color": BLACK, "dash": "dot", "width": 1}))
    fig.update_xaxes(range=[0, top], constrain="domain")
    fig.update_yaxes(range=[0, top], scaleanchor="x", constrain="domain")
    return _style(fig, title=f"Calibration: predicted vs observed {quantity}",
                  subtitle="Points above the dotted line: more observed than predicted; marker size: patients",
                  x_title=f"Predicted {quantity} ({unit})", y_title=f"Observed {quantity} ({unit})", height=520,
                  legend_below=True)


def decision_curve_figure(dc: Mapping) -> go.Figure:
    """Net benefit across threshold probabilities: the model (and ``baseline`` if given), all or no patients treated."""
    thresholds = [100 * t for t in _require(dc, "thresholds", "decision_curve_figure", "a decision curve")]
    lines = (("model", dc.get("model_name", "Equipoise model"), BLUE, "solid"),
             ("baseline", dc.get("baseline_name", "Baseline model"), GREEN, "dashdot"),
             ("treat_all", "All patients treated", ORANGE, "dash"), ("treat_none", "No patient treated", BLACK, "dot"))
    fig, values = go.Figure(), []
    for key, name, colour, dash in [line for line in lines if dc.get(line[0]) is not None]:
        _same_length(f"Decision curve {key!r}", thresholds=thresholds, **{key: dc[key]})
        values += list(dc[key])
        fig.add_trace(go.Scatter(x=thresholds, y=list(dc[key]), mode="lines", name=name, hoverinfo="text",
                                 line={"color": colour, "dash": dash, "width": 3},
                                 hovertext=[f"{name}: net benefit {v:.3f} at a threshold of {t:.0f}%"
                                            for t, v in zip(thresholds, dc[key])]))
    top = max(max(values), 0.01) * 1.1
    fig.update_yaxes(range=[-0.25 * top, top])
    return _style(fig, title="Decision curve: net benefit across threshold probabilities",
                  subtitle="Higher net benefit is better; the axis is cut a little below zero",
                  x_title="Threshold probability (%)", y_title="Net benefit (net true positives per patient)",
                  height=450, legend_below=True)


def coverage_figure(coverage: Mapping) -> go.Figure:
    """Empirical interval coverage overall and by group against the nominal level (all in %)."""
    nominal = 100 * _require(coverage, "nominal", "coverage_figure", "a coverage summary")
    entries = [("<b>All patients</b>", "overall", coverage["overall"])]
    for g in coverage.get("by_group", []):
        by = g.get("attribute") or coverage.get("groups_by")
        entries.append((group_text(None, by, g["group"]) if by else str(g["group"]), "group", g))
    rows = []
    for name, kind, e in entries:
        x = None if e.get("coverage") is None else 100 * e["coverage"]
        hover = f"{name}: {x or 0:.1f}% of {e.get('n', '?')} observed values lay inside their interval"
        rows.append((f"{name} (n={e.get('n', '?')})", kind, x, _scaled([e.get("ci_low"), e.get("ci_high")], 100),
                     hover, "insufficient data" + (f" ({e['reason']})" if e.get("reason") else "")))
    fig = go.Figure()
    _rows(fig, rows, {"overall": ("All patients", BLACK, "diamond"), "group": ("Group", BLUE, "circle")},
          y_title="Group (n patients)")
    fig.add_vline(x=nominal, line={"color": BLACK, "dash": "dash", "width": 1.5},
                  annotation_text=f"nominal {nominal:.0f}%", annotation_position="top")
    fig.update_xaxes(range=[max(0.0, min([r[2] for r in rows if r[2] is not None] + [nominal]) - 10), 101])
    return _style(fig, title="Empirical coverage of the prediction intervals",
                  subtitle="Share of held-out patients whose observed value lay inside their interval",
                  x_title="Empirical coverage (% of patients)", y_title="Group (n patients)",
                  height=200 + 32 * len(entries))
