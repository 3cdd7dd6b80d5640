"""Plotly figures for Equipoise reports, audits and checks: drawing only, nothing is estimated here.

Each builder takes a JSON-like dict core already produces (``PatientReport.to_dict()``, ``SubgroupAudit.to_dict()``,
...) and returns a ``plotly.graph_objects.Figure``. Colours are Okabe–Ito (:data:`PALETTE`) and never carry meaning
alone (symbols, dashes, signed numbers and labels say the same); every axis names its unit; the look is set in
:func:`_style`; texts describe estimates and never tell anyone what to do.
"""

from __future__ import annotations

import itertools
import math
import numbers
import textwrap
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = ["PALETTE", "arm_forest", "calibration_figure", "coverage_figure", "decision_curve_figure",
           "difference_figure", "dose_figure", "icon_array", "ice_figure", "subgroup_forest", "waterfall"]

# Okabe & Ito (2008), colour-blind safe.
ORANGE, SKY, GREEN, YELLOW = "#E69F00", "#56B4E9", "#009E73", "#F0E442"
BLUE, VERMILLION, PURPLE, BLACK = "#0072B2", "#D55E00", "#CC79A7", "#000000"
PALETTE = (ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE, BLACK)
# Line series: colour, dash and marker change together (yellow is kept for bands, black for references).
SERIES = ((BLUE, "solid", "circle"), (ORANGE, "dash", "square"), (GREEN, "dot", "diamond"),
          (VERMILLION, "dashdot", "triangle-up"), (PURPLE, "longdash", "x"), (SKY, "longdashdot", "star"))

SCALE_TITLES = {
    "log-odds": "Contribution to the predicted risk (log-odds)",
    "log odds ratio": "Contribution to the difference between arms (log odds ratio)",
    "mg/week": "Contribution to the predicted dose (mg/week)",
}
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
    "mean_error": ("Mean error, predicted − observed", "{unit}", 1),
    "mean_outcome": ("Mean observed outcome", "{unit}", 1),
}

MSG_MISSING_KEY = "{func} needs {what} with a {key!r} entry. Got keys {keys} instead."
MSG_PROBABILITY = "The {name!r} argument must be a probability in the range [0, 1]. Got {got!r} instead."
MSG_UNKNOWN_METRIC = "Unknown metric {metric!r} for this subgroup audit. Available metrics: {available}."
MSG_LENGTHS = "{what}: {names} must have the same length. Got lengths {lengths} instead."
MSG_NO_CURVES = "calibration_figure needs at least one curve ({'name', 'predicted', 'observed', 'n'}). Got none."
MSG_MAX_FEATURES = "The 'max_features' argument must be an int >= 1. Got {got!r} instead."


# --- shared styling and small helpers --------------------------------------------------------------
def _style(fig: go.Figure, *, title: str, x_title: str, y_title: str, subtitle: str = "",
           height: int | None = None) -> go.Figure:
    """The one place where look and feel is set: palette, fonts, titles, hover labels, margins."""
    text = f"{title}<br><sup>{subtitle}</sup>" if subtitle else title
    fig.update_layout(template="simple_white", colorway=list(PALETTE), height=height,
                      title={"text": text, "x": 0.01, "xanchor": "left"},
                      font={"family": "Arial, Helvetica, sans-serif", "size": 14, "color": BLACK},
                      hoverlabel={"font_size": 14, "bgcolor": "white", "font_color": BLACK},
                      margin={"l": 10, "r": 10, "t": 64 + 28 * (subtitle.count("<br>") + 1) * bool(subtitle),
                              "b": 10})
    fig.update_xaxes(title_text=x_title, showgrid=True, gridcolor="#E5E5E5")
    fig.update_yaxes(title_text=y_title)
    return fig


def _wrap(text: str, width: int = 60) -> str:
    return "<br>".join(textwrap.wrap(str(text), width)) or str(text)


def _lower_first(label: str) -> str:
    """'Recurrence within 5 years' -> 'recurrence within 5 years'; acronyms ('AIDS') are kept."""
    return label[0].lower() + label[1:] if len(label) > 1 and label[1].islower() else label


def _num(v) -> str:
    """A value as a person writes it: 347, 73.94, 12,500, 'G/G', 'missing'."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "missing"
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
        return str(v)
    return f"{v:,.0f}" if abs(v) >= 1000 else str(int(v)) if float(v).is_integer() else f"{v:.4g}"


def _require(doc: Mapping, key: str, func: str, what: str):
    if not isinstance(doc, Mapping) or doc.get(key) is None:
        keys = sorted(doc) if isinstance(doc, Mapping) else type(doc).__name__
        raise ValueError(MSG_MISSING_KEY.format(func=func, what=what, key=key, keys=keys))
    return doc[key]


def _same_length(what: str, **arrays) -> None:
    lengths = [len(a) for a in arrays.values()]
    if len(set(lengths)) > 1:
        raise ValueError(MSG_LENGTHS.format(what=what, names=", ".join(arrays), lengths=lengths))


def _interval_text(iv, unit: str = "", level: float | None = None, fmt: str = ".1f") -> str:
    """'95% interval 6.6 to 11.9%' from an interval already on the drawn scale."""
    lead = f"{level:.0%} interval" if level else "interval"
    return f"{lead} {iv[0]:{fmt}} to {iv[1]:{fmt}}{unit}" if iv else "no interval available"


def _scaled(iv, factor: float):
    return [iv[0] * factor, iv[1] * factor] if iv and None not in iv[:2] else None


def _rows(fig: go.Figure, rows: Sequence[tuple], kinds: Mapping[str, tuple], *, y_title: str,
          value_text=None) -> None:
    """A forest on numeric rows (0 at the top), so that a row can hold text instead of a number.

    ``rows``: ``(label, kind, value, interval, hover, note)`` on the drawn scale; a row whose value is
    None shows ``note`` in italics. ``kinds``: kind -> (legend name, colour, symbol), one trace each;
    ``value_text`` (a function of the value) writes each value beside its point.
    """
    for kind, (name, colour, symbol) in kinds.items():
        picked = [(i, v, iv, hover) for i, (_, k, v, iv, hover, _) in enumerate(rows) if k == kind and v is not None]
        if not picked:
            continue
        at, x, ivs, hover = (list(col) for col in zip(*picked))
        errors = {"type": "data", "symmetric": False, "color": BLACK, "thickness": 2, "width": 6,
                  "array": [iv[1] - v if iv else 0.0 for v, iv in zip(x, ivs)],
                  "arrayminus": [v - iv[0] if iv else 0.0 for v, iv in zip(x, ivs)]}
        fig.add_trace(go.Scatter(x=x, y=at, name=name, error_x=errors, hovertext=hover, hoverinfo="text",
                                 mode="markers+text" if value_text else "markers", textposition="top center",
                                 text=[value_text(v) for v in x] if value_text else None,
                                 marker={"color": colour, "symbol": symbol, "size": 14}))
    for i, (_, _, value, _, _, note) in enumerate(rows):
        if value is None:
            fig.add_annotation(x=0.5, y=i, xref="paper", yref="y", showarrow=False, text=f"<i>{note}</i>")
    fig.update_yaxes(tickmode="array", tickvals=list(range(len(rows))), ticktext=[r[0] for r in rows],
                     range=[len(rows) - 0.5, -0.5], title_text=y_title, showgrid=False, zeroline=False)


def _quantity(outcome: Mapping) -> str:
    return "risk" if outcome.get("higher_is_worse", True) else "probability"


# --- patient report: arms ------------------------------------------------------------------------
def arm_forest(report: Mapping) -> go.Figure:
    """Each arm's predicted risk (%) with its interval; the reference arm and the favoured arm marked."""
    arms = _require(report, "arms", "arm_forest", "an arm cohort's patient report")
    outcome, comparison = report.get("outcome", {}), report.get("comparison") or {}
    favoured, level = comparison.get("favoured"), comparison.get("level", 0.95)
    quantity, what = _quantity(outcome), _lower_first(outcome.get("label", "the outcome"))
    rows = []
    for a in arms:
        is_fav = a["arm"] == favoured
        roles = [r for r, on in (("favoured", is_fav), ("reference", a.get("reference"))) if on]
        name = f"<b>{a['arm']}</b>" if is_fav else a["arm"]
        p, iv = 100 * a["probability"], _scaled(a.get("interval"), 100)
        rows.append((f"{name} ({', '.join(roles)})" if roles else name,
                     "favoured" if is_fav else "reference" if a.get("reference") else "other", p, iv,
                     f"{a['arm']}: estimated {quantity} {p:.1f}%<br>{_interval_text(iv, '%', level)}", ""))
    fig = go.Figure()
    _rows(fig, rows, {"favoured": ("Favoured by the model", BLUE, "diamond"), "reference": ("Reference arm", BLACK,
                      "square"), "other": ("Other arms", ORANGE, "circle")}, y_title="Treatment arm",
          value_text=lambda v: f"{v:.1f}%")
    fig.update_xaxes(rangemode="tozero")
    return _style(fig, title=f"Estimated {quantity} under each treatment option",
                  subtitle=f"Points: model estimates (%); bars: {level:.0%} intervals from bootstrap models",
                  x_title=_wrap(f"Predicted {quantity} of {what} (%)", 70), y_title="Treatment arm",
                  height=180 + 70 * len(arms))


def difference_figure(report: Mapping) -> go.Figure:
    """The favoured-vs-compared absolute risk difference (percentage points) with its interval."""
    c = _require(report, "comparison", "difference_figure", "an arm cohort's patient report")
    quantity, level = _quantity(report.get("outcome", {})), c.get("level", 0.95)
    fav, d, iv = c["favoured"], 100 * c["difference"], _scaled(c.get("interval"), 100)
    label = f"{fav} − {c['versus']}"
    hover = f"{label}: {d:+.1f} percentage points<br>{_interval_text(iv, ' points', level)}"
    if c.get("favoured_share") is not None:
        hover += f"<br>{fav} had the most favourable estimate in {c['favoured_share']:.0%} of bootstrap models"
    fig = go.Figure()
    _rows(fig, [(label, "d", d, iv, hover, "")], {"d": ("Difference", BLUE, "diamond")}, y_title="Arms compared",
          value_text=lambda v: f"{v:+.1f}")
    span = 1.3 * max([abs(d), 1.0] + [abs(v) for v in iv or []])
    fig.update_xaxes(range=[-span, span], zeroline=False)
    fig.add_vline(x=0, line={"color": BLACK, "dash": "dash", "width": 1.5})
    for side, text in ((-1, f"◀ lower {quantity} with {fav}"), (1, f"higher {quantity} with {fav} ▶")):
        fig.add_annotation(x=0, y=1, xref="x", yref="paper", yanchor="bottom", showarrow=False, text=text,
                           xanchor="right" if side < 0 else "left", xshift=6 * side)
    note = (f"the {level:.0%} interval {'includes' if iv[0] <= 0 <= iv[1] else 'excludes'} zero" if iv
            else "no interval available for this difference")
    if c.get("insufficient_evidence"):
        note += "; insufficient evidence: at least one interval is wide"
    fig.update_layout(showlegend=False)
    return _style(fig, title=f"Difference in estimated {quantity}: {label}", height=320,
                  subtitle=f"Point: model estimate; bar: {level:.0%} interval; dashed line: no difference<br>"
                           f"{note[0].upper() + note[1:]}.",
                  x_title=f"Absolute {quantity} difference, {label} (percentage points)", y_title="Arms compared")


def icon_array(p_a: float, p_b: float, *, label_a: str, label_b: str, outcome: str) -> go.Figure:
    """Two 10x10 icon arrays: of 100 patients like this, about N would have the outcome with A (and B)."""
    what, counts = _lower_first(outcome), []
    for name, p in (("p_a", p_a), ("p_b", p_b)):
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(MSG_PROBABILITY.format(name=name, got=p))
        counts.append(int(round(100 * p)))
    titles = [f"<b>With {arm}</b>: {'fewer than 1' if k == 0 and p > 0 else f'about {k}'} of 100"
              for arm, k, p in ((label_a, counts[0], p_a), (label_b, counts[1], p_b))]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.06, subplot_titles=titles)
    cells = np.arange(100)
    x, y = cells % 10, 9 - cells // 10  # filled row by row from the top left
    for col, (arm, k) in enumerate(zip((label_a, label_b), counts), start=1):
        for has, symbol, colour in ((True, "circle", VERMILLION), (False, "circle-open", BLUE)):
            sel = cells < k if has else cells >= k
            verb = "would have" if has else "would not have"
            fig.add_trace(go.Scatter(
                x=x[sel], y=y[sel], mode="markers", legendgroup=str(has), showlegend=col == 1,
                name=f"{'Filled' if has else 'Hollow'}: {verb} the outcome",
                marker={"symbol": symbol, "size": 18, "color": colour, "line": {"width": 2, "color": colour}},
                hovertext=f"With {arm}: about {k if has else 100 - k} of 100 patients like this {verb} {what} "
                          "(model estimate)", hoverinfo="text"), row=1, col=col)
    axis = {"range": [-0.7, 9.7], "showticklabels": False, "ticks": "", "showline": False, "showgrid": False}
    fig.update_xaxes(**axis)
    fig.update_yaxes(**axis)
    fig.update_yaxes(scaleanchor="x", row=1, col=1).update_yaxes(scaleanchor="x2", row=1, col=2)
    _style(fig, title="Out of 100 patients like this", x_title="Each circle is 1 of 100 patients", y_title="",
           subtitle=f"Filled circles: would have {_wrap(what, 90)}; hollow: would not<br>Model estimates "
                    "rounded to whole patients; they describe similar patients, not certainties", height=560)
    fig.update_xaxes(showgrid=False)
    fig.update_layout(legend={"orientation": "h", "x": 0, "y": -0.08, "yanchor": "top"},
                      margin_t=fig.layout.margin.t + 20)
    return fig


# --- explanations ------------------------------------------------------------------------------------
def waterfall(explanation: Mapping, *, units: Mapping[str, str] | None = None, max_features: int = 10) -> go.Figure:
    """From the base value to this patient's output, one bar per feature; the smallest aggregated."""
    if isinstance(max_features, bool) or not isinstance(max_features, int) or max_features < 1:
        raise ValueError(MSG_MAX_FEATURES.format(got=max_features))
    contributions = _require(explanation, "contributions", "waterfall", "an explanation")
    units, scale = units or {}, explanation.get("scale", "")
    base, output = float(explanation["base_value"]), float(explanation["output"])
    ranked = sorted(contributions, key=lambda c: -abs(c["shap"]))
    shown = [c for c in ranked[:max_features] if c["shap"] != 0]
    rest = ranked[len(shown):]
    rows = [("Base value (average patient)", base, "absolute")] + [
        (_wrap(f"{c.get('label', c['feature'])} = {_num(c.get('value'))} {units.get(c['feature'], '')}".rstrip(), 55),
         float(c["shap"]), "relative") for c in shown]
    if rest:
        rows.append((f"other {len(rest)} feature{'s' * (len(rest) > 1)}", float(sum(c["shap"] for c in rest)),
                     "relative"))
    rows.append(("This patient's prediction", output, "total"))
    labels, values, measures = zip(*rows)
    texts = [f"{v:+.3f}" if m == "relative" else f"{v:.3f}" for v, m in zip(values, measures)]
    running = base + np.cumsum([0.0, *values[1:-1]])
    lo, hi = min(running.min(), output), max(running.max(), output)
    pad = 0.25 * max(hi - lo, 1e-6)
    fig = go.Figure(go.Waterfall(
        orientation="h", y=list(labels), x=list(values), measure=list(measures), text=texts, name="Contributions",
        textposition="outside", hoverinfo="text",
        hovertext=[f"{lab}<br>{'contribution ' * (m == 'relative')}{t} {scale}"
                   for lab, t, m in zip(labels, texts, measures)],
        increasing={"marker": {"color": VERMILLION}}, decreasing={"marker": {"color": BLUE}},
        totals={"marker": {"color": BLACK}}, connector={"line": {"color": BLACK, "dash": "dot", "width": 1}}))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(range=[lo - pad, hi + pad])
    note = f"Base value {base:.3f} + contributions {output - base:+.3f} = {output:.3f} {scale}" + {
        "log-odds": f" (a risk of {100 / (1 + math.exp(-output)):.1f}%)",
        "log odds ratio": f" (an odds ratio of {math.exp(output):.2f})"}.get(scale, "")
    return _style(fig, title=f"{explanation.get('title', 'Prediction')}: contribution of each feature",
                  subtitle=f"{note}: the contributions add up exactly.<br>Orange bars (+) push the estimate "
                           "up, blue bars (−) push it down; black bars: base value and prediction",
                  x_title=SCALE_TITLES.get(scale, f"Contribution ({scale})"), y_title="Feature = this patient's value",
                  height=220 + 40 * len(rows))


def ice_figure(curve) -> go.Figure:
    """The prediction along one feature's grid, one line per arm (or the dose); the patient's value marked.

    Reads ``core.whatif.ICECurve`` (or its ``to_dict()``: ``curves``, ``current_value``, ``scale`` such as
    'probability of <outcome>' or 'mg/week'), or ``predictions`` / ``patient_value`` with the same meaning.
    """
    curve = curve.to_dict() if hasattr(curve, "to_dict") else curve
    grid = list(_require(curve, "grid", "ice_figure", "a what-if curve"))
    scale, here = curve.get("scale", "probability"), curve.get("current_value", curve.get("patient_value"))
    label, unit = curve.get("label", curve.get("feature", "feature")), curve.get("unit", "")
    quantity = "risk" if curve.get("higher_is_worse", True) else "probability"
    what = scale[len("probability"):].strip() if scale.startswith("probability") else ""
    factor, y_title = ((100, f"Predicted {quantity} (%)") if scale.startswith("probability") or scale == "risk" else
                       (1, "Predicted weekly dose (mg/week)") if scale == "mg/week" else (1, f"Prediction ({scale})"))
    x_unit, y_unit = f" {unit}" if unit else "", "%" if factor == 100 else f" {scale}"
    numeric = all(isinstance(g, numbers.Real) and not isinstance(g, bool) for g in grid)
    fig = go.Figure()
    for (arm, ys), (colour, dash, symbol) in zip((curve.get("curves") or curve["predictions"]).items(),
                                                itertools.cycle(SERIES)):
        _same_length(f"ice_figure arm {arm!r}", grid=grid, predictions=ys)
        y = [factor * v for v in ys]
        fig.add_trace(go.Scatter(x=grid, y=y, mode="lines+markers", name=str(arm), hoverinfo="text",
                                 line={"color": colour, "dash": dash, "width": 3},
                                 marker={"color": colour, "symbol": symbol, "size": 8},
                                 hovertext=[f"{arm}: {label} = {_num(g)}{x_unit}<br>predicted {v:.1f}{y_unit}"
                                            for g, v in zip(grid, y)]))
        if here is not None and (min(grid) <= here <= max(grid) if numeric else here in grid):
            at = float(np.interp(here, *zip(*sorted(zip(grid, y))))) if numeric else y[grid.index(here)]
            fig.add_trace(go.Scatter(x=[here], y=[at], mode="markers", showlegend=False, hoverinfo="text",
                                     marker={"color": colour, "symbol": symbol, "size": 16,
                                             "line": {"color": BLACK, "width": 2}},
                                     hovertext=f"This patient ({arm}): {label} = {_num(here)}{x_unit}, "
                                               f"predicted {at:.1f}{y_unit}"))
    if numeric and here is not None:
        fig.add_vline(x=here, line={"color": BLACK, "dash": "dot", "width": 1.5},
                      annotation_text=f"this patient: {_num(here)}{x_unit}", annotation_position="top")
    return _style(fig, title=f"What if {_lower_first(label)} were different?", y_title=y_title, height=450,
                  subtitle=(f"Predicted {quantity} {_wrap(what, 100)}<br>" if what else "") + "Every other input "
                  "held at this patient's values; large outlined markers: this patient",
                  x_title=f"{label} ({unit})" if unit else label)


# --- dose ------------------------------------------------------------------------------------------
def dose_figure(report: Mapping, *, axis_title: str = "Weekly warfarin dose") -> go.Figure:
    """The model's weekly dose with its conformal interval beside the IWPC formula and the fixed dose."""
    dose = _require(report, "dose", "dose_figure", "a dose cohort's patient report")
    unit, iv, coverage = dose.get("unit", "mg/week"), dose.get("interval"), dose.get("coverage")
    level = f"{coverage:.0%} " if coverage else ""
    model, formula, fixed = (dose.get(k) for k in ("mg_per_week", "iwpc_formula_mg_per_week",
                                                  "fixed_dose_mg_per_week"))
    reason = next((w["message"] for w in report.get("warnings", []) if w.get("kind") == "insufficient_evidence"),
                  "no interval could be computed")
    rows = [("Equipoise model", "model", model, iv, f"Equipoise model: {model:.1f} {unit}<br>"
             + (_interval_text(iv, " " + unit, coverage) if iv else _wrap(f"no interval: {reason}")), ""),
            ("IWPC pharmacogenetic formula", "formula", formula, None, f"IWPC formula: {formula or 0:.1f} {unit}",
             "not available: " + _lower_first(dose.get("iwpc_formula_note", "no value"))),
            (f"Fixed dose ({_num(fixed)} {unit})", "fixed", fixed, None, f"Fixed dose: {_num(fixed)} {unit}", "")]
    fig = go.Figure()
    _rows(fig, rows, {"model": ("Equipoise model", BLUE, "diamond"), "formula": ("IWPC formula", ORANGE, "square"),
                      "fixed": ("Fixed dose", BLACK, "circle")}, y_title="Source of the dose",
          value_text=lambda v: f"{v:.1f}")
    if not iv:
        fig.add_annotation(x=0.5, y=0.4, xref="paper", yref="y", showarrow=False, hovertext=_wrap(reason),
                           text=f"<i>insufficient evidence for a {level}interval</i>")
    fig.update_xaxes(range=[0, 1.15 * max([v for v in (model, formula, fixed) if v is not None] + (iv or []))])
    fig.update_layout(showlegend=False)
    group = f" (calibrated within group '{dose['interval_group']}')" if dose.get("interval_group") else ""
    return _style(fig, title="Predicted stable weekly dose beside two reference doses",
                  subtitle=f"Bar: {level}conformal prediction interval{group}" if iv else
                  f"No {level}interval for this patient: insufficient evidence", x_title=f"{axis_title} ({unit})",
                  y_title="Source of the dose", height=340)


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
    name, unit, factor = METRIC_AXES.get(metric, (metric, "as reported", 1))
    unit, level = unit.format(unit=outcome_unit), doc.get("settings", {}).get("confidence", 0.95)
    mine = {(str(a), str(g)) for a, g in highlight}
    groups = [g for g in doc["groups"] if attributes is None or g["attribute"] in attributes]
    fig, rows = go.Figure(), []
    for i, g in enumerate(groups):
        label = f"{g['attribute']}: {g['group']} (n={g['n']})"
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
        hover = (f"{g['attribute']} = {g['group']} (n={g['n']})<br>{name}: {value:.3g} ({unit.split(';')[0]})<br>"
                 f"{_interval_text(iv, '', level, '.3g')}" + "<br>flagged: significantly worse than overall"
                 * bool(m.get("flagged")))
        rows.append((label, "flagged" if m.get("flagged") else "group", value, iv, hover, ""))
    _rows(fig, rows, {"group": ("Group estimate", BLUE, "circle"),
                      "flagged": ("Flagged: significantly worse than overall", VERMILLION, "x")},
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
                  x_title=f"Predicted {quantity} ({unit})", y_title=f"Observed {quantity} ({unit})", height=520)


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
                  height=450)


def coverage_figure(coverage: Mapping) -> go.Figure:
    """Empirical interval coverage overall and by group against the nominal level (all in %)."""
    nominal = 100 * _require(coverage, "nominal", "coverage_figure", "a coverage summary")
    entries = [("<b>All patients</b>", "overall", coverage["overall"])]
    for g in coverage.get("by_group", []):
        by = g.get("attribute") or coverage.get("groups_by")
        entries.append((f"{by}: {g['group']}" if by else str(g["group"]), "group", g))
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
