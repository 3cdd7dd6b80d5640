"""Figures of one patient's report: arms and their difference, icon arrays, explanations, what-if curves, dose."""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..._format import display_value
from ._style import (BLACK, BLUE, MINUS, ORANGE, POINTS, SERIES, VERMILLION, signed, _interval_text, _lower_first, _quantity, _require, _rows,
                     _same_length, _scaled, _style, _wrap, _wrap_lines)
from ..._kinds import WarningKind

WATERFALL_SCALES = ("plain", "model")
# The x-axis titles name what the axis positions are: a waterfall that starts from an absolute value (a risk, a
# dose) is drawn on that absolute scale, from zero, and each bar between is a change of the length shown.
SCALE_TITLES = {
    POINTS: "Estimated risk (%)",
    "difference points": "Change in the difference (percentage points)",
    "log-odds": "Contribution to the predicted risk (log-odds)",
    "log odds ratio": "Contribution to the difference between arms (log odds ratio)",
    "mg/week": "Weekly dose (mg/week)",
}
CHANGE_WORDS = {POINTS: "percentage points", "mg/week": "mg/week"}

MSG_PROBABILITY = "The {name!r} argument must be a probability in the range [0, 1]. Got {got!r} instead."
MSG_SCALE = "The 'scale' argument must be one of {allowed}. Got {got!r} instead."
MSG_MAX_FEATURES = "The 'max_features' argument must be an int >= 1. Got {got!r} instead."


# --- patient report: arms ------------------------------------------------------------------------
def arm_forest(report: Mapping) -> go.Figure:
    """Each arm's predicted risk (%) with its interval; the reference arm and the most favourable arm(s) marked.

    When the headline says the evidence cannot separate several arms (``summary.best_set``), all of them are
    marked "similar, lowest" — none is called favoured."""
    arms = _require(report, "arms", "arm_forest", "an arm cohort's patient report")
    outcome, comparison = report.get("outcome", {}), report.get("comparison") or {}
    favoured, level = comparison.get("favoured"), comparison.get("level", 0.95)
    quantity, what = _quantity(outcome), _lower_first(outcome.get("label", "the outcome"))
    best_set = (report.get("summary") or {}).get("best_set") or [favoured]
    best_word = "favoured" if len(best_set) == 1 else "similar, lowest" if outcome.get("higher_is_worse", True) \
        else "similar, highest"
    rows = []
    for a in arms:
        is_fav = a["arm"] in best_set
        roles = [r for r, on in ((best_word, is_fav), ("reference", a.get("reference"))) if on]
        name = f"<b>{a['arm']}</b>" if is_fav else a["arm"]
        p, iv = 100 * a["probability"], _scaled(a.get("interval"), 100)
        rows.append((f"{name} ({', '.join(roles)})" if roles else name,
                     "favoured" if is_fav else "reference" if a.get("reference") else "other", p, iv,
                     f"{a['arm']}: estimated {quantity} {p:.1f}%<br>{_interval_text(iv, '%', level)}", ""))
    fig = go.Figure()
    _rows(fig, rows, {"favoured": ("Favoured by the model", BLUE, "diamond"), "reference": ("Reference arm", BLACK,
                      "square"), "other": ("Other arms", ORANGE, "circle")}, y_title="Treatment arm",
          value_text=lambda v: f"{v:.1f}%")
    fig.update_xaxes(range=[0, 1.15 * max(max(r[3][1] if r[3] else r[2], r[2]) for r in rows)])
    fig.update_layout(showlegend=False)  # each row's label names its role (favoured, reference)
    return _style(fig, title=f"Estimated {quantity} under each treatment option",
                  subtitle=f"Points: model estimates (%); bars: {level:.0%} intervals from bootstrap models",
                  x_title=_wrap(f"Predicted {quantity} of {what} (%)", 34), y_title="Treatment arm",
                  height=200 + 70 * len(arms), wrap=(48, 70))


def difference_figure(report: Mapping) -> go.Figure:
    """The favoured-vs-compared absolute risk difference (percentage points) with its interval."""
    c = _require(report, "comparison", "difference_figure", "an arm cohort's patient report")
    quantity, level = _quantity(report.get("outcome", {})), c.get("level", 0.95)
    fav, d, iv = c["favoured"], 100 * c["difference"], _scaled(c.get("interval"), 100)
    label = f"{fav} − {c['versus']}"
    hover = f"{label}: {signed(d)} percentage points<br>{_interval_text(iv, ' points', level)}"
    if c.get("favoured_share") is not None:
        hover += f"<br>{fav} had the most favourable estimate in {c['favoured_share']:.0%} of bootstrap models"
    fig = go.Figure()
    _rows(fig, [(label, "d", d, iv, hover, "")], {"d": ("Difference", BLUE, "diamond")}, y_title="Arms compared",
          value_text=lambda v: signed(v))
    span = 1.3 * max([abs(d), 1.0] + [abs(v) for v in iv or []])
    fig.update_xaxes(range=[-span, span], zeroline=False)
    fig.add_vline(x=0, line={"color": BLACK, "dash": "dash", "width": 1.5})
    for x, anchor, text in ((0, "left", f"◀ lower {quantity}<br>with {fav}"),
                            (1, "right", f"higher {quantity}<br>with {fav} ▶")):
        fig.add_annotation(x=x, y=1, xref="paper", yref="paper", yanchor="bottom", showarrow=False, text=text,
                           xanchor=anchor, align=anchor, font={"size": 12})
    note = (f"the {level:.0%} interval {'includes' if iv[0] <= 0 <= iv[1] else 'excludes'} zero" if iv
            else "no interval available for this difference")
    if c.get("insufficient_evidence"):
        note += "; insufficient evidence: at least one interval is wide"
    fig.update_layout(showlegend=False)
    fig.update_traces(textposition="bottom center")
    fig.update_yaxes(showticklabels=False)  # one row: the title names the arms compared
    return _style(fig, title=f"Difference in estimated {quantity}: {label}", height=360, wrap=(34, 50),
                  subtitle=f"Point: model estimate; bar: {level:.0%} interval; dashed line: no difference<br>"
                           f"{note[0].upper() + note[1:]}.",
                  x_title=_wrap(f"Absolute {quantity} difference, {label} (percentage points)", 28),
                  y_title="")


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
def waterfall(explanation: Mapping, *, units: Mapping[str, str] | None = None, max_features: int = 10,
              scale: str = "plain") -> go.Figure:
    """From the starting point to this patient's output, one bar per feature; the smallest aggregated.

    ``scale='plain'`` (the main view) draws the headline's scale: percentage points of risk for an arm
    cohort, mg/week for a dose (the explanation's ``plain`` part). ``scale='model'`` draws the model's own
    scale (log-odds, log odds ratio), for a details view. Both add up exactly.
    """
    if isinstance(max_features, bool) or not isinstance(max_features, int) or max_features < 1:
        raise ValueError(MSG_MAX_FEATURES.format(got=max_features))
    if scale not in WATERFALL_SCALES:
        raise ValueError(MSG_SCALE.format(got=scale, allowed=", ".join(map(repr, WATERFALL_SCALES))))
    contributions = _require(explanation, "contributions", "waterfall", "an explanation")
    plain = explanation.get("plain") if scale == "plain" else None
    if plain is not None:
        unit, base, output, key = plain["scale"], float(plain["base_value"]), float(plain["output"]), "plain"
    else:
        unit, base, output, key = (explanation.get("scale", ""), float(explanation["base_value"]),
                                   float(explanation["output"]), "shap")
    units = units or {}
    ranked = sorted(contributions, key=lambda c: -abs(c[key]))
    shown = [c for c in ranked[:max_features] if c[key] != 0]
    rest = ranked[len(shown):]
    difference = unit == POINTS and base == 0.0
    start = ("No difference" if difference else plain.get("base_label", "Starting point")
             if plain else "Base value (average patient)")
    rows = [(_wrap(start, 24), base, "absolute")] + [(_wrap(_row_label(c, units), 24), float(c[key]), "relative")
                                         for c in shown]
    if rest:
        rows.append((f"other {len(rest)} feature{'s' * (len(rest) > 1)}", float(sum(c[key] for c in rest)),
                     "relative"))
    rows.append(("Difference for this patient" if difference else "This patient's estimate", output, "total"))
    labels, values, measures = zip(*rows)
    texts = [_value_text(v, "difference" if difference else unit, m) for v, m in zip(values, measures)]
    running = base + np.cumsum([0.0, *values[1:-1]])
    lo, hi = min(running.min(), output, base, 0.0), max(running.max(), output, base, 0.0)  # from zero: no bar cut
    pad = 0.3 * max(hi - lo, 1e-6)  # room for the value written beside each bar, inside the axes
    fig = go.Figure(go.Waterfall(
        orientation="h", y=list(labels), x=list(values), measure=list(measures), text=texts, name="Contributions",
        textposition="outside", cliponaxis=False, hoverinfo="text",
        hovertext=[f"{lab}<br>{'contribution ' * (m == 'relative')}{t}" for lab, t, m in zip(labels, texts, measures)],
        increasing={"marker": {"color": VERMILLION}}, decreasing={"marker": {"color": BLUE}},
        totals={"marker": {"color": BLACK}}, connector={"line": {"color": BLACK, "dash": "dot", "width": 1}}))
    fig.update_yaxes(autorange="reversed", type="category", tickfont={"size": 12})
    fig.update_xaxes(range=[lo - pad if lo < 0 else 0.0, hi + pad])  # an axis of doses or risks starts at zero
    fig.update_traces(textfont={"size": 12})
    if plain is not None:
        note = plain.get("summary", "")
    else:
        note = (f"Base value {base:.3f} + contributions {signed(output - base, '.3f')} = {output:.3f} "
                f"{unit}").replace("-", MINUS) + {
            "log-odds": f" (a risk of {100 / (1 + math.exp(-output)):.1f}%)",
            "log odds ratio": f" (an odds ratio of {math.exp(output):.2f})"}.get(unit, "")
    change = "" if difference else CHANGE_WORDS.get(unit, "")
    subtitle = (f"{note}<br>The contributions add up exactly. Orange bars (+) push the estimate up, blue bars "
                f"({MINUS}) push it down" + (f"; each one's length is its change in {change}, and the first and last "
                                             "bars start at zero" if change else ""))
    title = explanation.get("title", "Prediction")
    if plain is not None and unit == POINTS and not difference:
        title = f"{title}: what moves this patient's estimated risk"
    else:
        title = f"{title}: contribution of each feature"
    return _style(fig, title=title, subtitle=subtitle, y_title="This patient's characteristics", wrap=(45, 70),
                  x_title=_wrap(SCALE_TITLES.get("difference points" if difference else unit,
                                                 f"Contribution ({unit})"), 18),
                  height=260 + 22 * _wrap_lines(subtitle, 70).count("<br>") + 24 * sum(1 + r[0].count("<br>")
                                                                                      for r in rows))


def _row_label(c: Mapping, units: Mapping[str, str]) -> str:
    if c.get("phrase"):
        return c["phrase"]
    return f"{c.get('label', c['feature'])} = {display_value(c.get('value'))} {units.get(c['feature'], '')}".rstrip()


def _value_text(v: float, unit: str, measure: str) -> str:
    if unit == "difference":
        return signed(v, ".2f" if measure == "relative" and abs(v) < 0.1 else ".1f")
    if unit == POINTS:
        fmt = ".2f" if measure == "relative" and abs(v) < 0.1 else ".1f"
        return signed(v, fmt) if measure == "relative" else f"{v:.1f}%" if v >= 0 else signed(v, fmt)
    if unit == "mg/week":
        return signed(v, ".1f") if measure == "relative" else f"{v:.1f}"
    return signed(v, ".3f") if measure == "relative" else f"{v:.3f}".replace("-", MINUS)


def ice_figure(curve) -> go.Figure:
    """The prediction along one feature's grid, one line per arm (or the dose); the patient's value marked.

    Reads ``core.explain.ICECurve`` (or its ``to_dict()``: ``curves``, ``current_value``, ``scale`` such as
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
    unit = "" if unit and unit.lower().rstrip("s") in label.lower() else unit  # 'Age decade (...)', not '(decades)'
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
                                 hovertext=[f"{arm}: {label} = {display_value(g)}{x_unit}<br>predicted {v:.1f}{y_unit}"
                                            for g, v in zip(grid, y)]))
        if here is not None and (min(grid) <= here <= max(grid) if numeric else here in grid):
            at = float(np.interp(here, *zip(*sorted(zip(grid, y))))) if numeric else y[grid.index(here)]
            fig.add_trace(go.Scatter(x=[here], y=[at], mode="markers", showlegend=False, hoverinfo="text",
                                     marker={"color": colour, "symbol": symbol, "size": 16,
                                             "line": {"color": BLACK, "width": 2}},
                                     hovertext=f"This patient ({arm}): {label} = {display_value(here)}{x_unit}, "
                                               f"predicted {at:.1f}{y_unit}"))
    if numeric and here is not None:
        fig.add_vline(x=here, line={"color": BLACK, "dash": "dot", "width": 1.5},
                      annotation_text=f"this patient: {display_value(here)}{x_unit}", annotation_position="top")
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
    reason = next((w["message"] for w in report.get("warnings", []) if w.get("kind") == WarningKind.INSUFFICIENT_EVIDENCE),
                  "no interval could be computed")
    rows = [("Equipoise model", "model", model, iv, f"Equipoise model: {model:.1f} {unit}<br>"
             + (_interval_text(iv, " " + unit, coverage) if iv else _wrap(f"no interval: {reason}")), ""),
            ("IWPC pharmacogenetic formula", "formula", formula, None, f"IWPC formula: {formula or 0:.1f} {unit}",
             "not available: " + _lower_first(dose.get("iwpc_formula_note", "no value"))),
            (f"Fixed dose ({display_value(fixed)} {unit})", "fixed", fixed, None,
             f"Fixed dose: {display_value(fixed)} {unit}", "")]
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

