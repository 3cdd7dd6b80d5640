"""Figure builders draw exactly the numbers they are given, with units, palette colours and no orders.

Most tests use hand-built dicts with the shapes of ``equipoise predict`` / ``equipoise audit`` output
(values copied from a real actg175 / warfarin run); the last ones build every figure from freshly
trained bundles.
"""

from __future__ import annotations

import copy
import json
import math
import re
import warnings

import numpy as np
import plotly.graph_objects as go
import pytest

from core.reporting import figures as F

PALETTE = {c.upper() for c in F.PALETTE}
# modal verbs anywhere, or an imperative verb opening a sentence, a line or a label
ORDERS = re.compile(r"\b(should|must|ought|recommend\w*|advised?|prescribe\w*)\b|(^|[.;:!]\s+|<br>)(give|choose|"
                    r"start|stop|switch|use|avoid|prefer|treat|take|consider)\b", re.I)


def _contribution(feature, label, value, shap):
    return {"feature": feature, "label": label, "value": value, "shap": shap}


CONTRIBUTIONS = [
    _contribution("treatment_arm", "Treatment arm", "ZDV+ddI", -0.26533452226749227),
    _contribution("prior_art_days", "Days of antiretroviral therapy before the trial", 59, -0.13424749933353122),
    _contribution("age_years", "Age", 35, -0.09758787037829955),
    _contribution("symptomatic", "Symptomatic HIV infection", 0, -0.09518429207692951),
    _contribution("karnofsky_score", "Karnofsky performance score", 100, -0.09372888003408698),
    _contribution("art_history", "Antiretroviral history", "1-52 weeks", 0.0643433052785445),
    _contribution("weight_kg", "Weight", 73.9368, -0.05249878366026654),
    _contribution("iv_drug_use", "History of intravenous drug use", 0, 0.0344115467355639),
    _contribution("homosexual_activity", "Homosexual activity", 1, 0.015160529989742695),
    _contribution("cd4_cells_per_ul", "CD4 count at baseline", 347, -0.013913446540359971),
    _contribution("cd8_cells_per_ul", "CD8 count at baseline", 891, 0.01228404518958624),
    _contribution("race", "Race", "white", -0.003192328526293093),
    _contribution("sex", "Sex", "male", 0.002321714328869216),
    _contribution("hemophilia", "Hemophilia", 0, -0.0008779804126142058),
]
BASE = -1.764741905616978
UNITS = {"age_years": "years", "weight_kg": "kg", "karnofsky_score": "points (0–100)",
         "cd4_cells_per_ul": "cells/µL", "cd8_cells_per_ul": "cells/µL", "prior_art_days": "days"}

ARM_REPORT = {
    "cohort": "actg175",
    "outcome": {"label": "≥50% CD4 decline, AIDS-defining event or death within 2 years", "type": "time_to_event",
                "higher_is_worse": True, "horizon": 730.0, "time_unit": "days"},
    "arms": [
        {"arm": "ZDV", "probability": 0.18238611376887506, "interval": [0.14054844875882744, 0.2524387515590338],
         "reference": True},
        {"arm": "ZDV+ddI", "probability": 0.08381561251180793, "interval": [0.06553154762298001, 0.11872981129544177],
         "reference": False},
        {"arm": "ZDV+ddC", "probability": 0.08627325480759312, "interval": [0.06451270709007978, 0.12271289498737227],
         "reference": False},
        {"arm": "ddI", "probability": 0.10005500197496218, "interval": [0.07416349293224585, 0.1398249180334289],
         "reference": False},
    ],
    "comparison": {"favoured": "ZDV+ddI", "versus": "ZDV", "reference": "ZDV", "difference": -0.09857050125706714,
                   "interval": [-0.13384145753946838, -0.05820251139759386], "favoured_share": 0.5, "level": 0.95,
                   "difference_is_clear": True, "statement": "..."},
    "explanation": {"title": "Risk under ZDV+ddI", "scale": "log-odds", "base_value": BASE,
                    "output": BASE + math.fsum(c["shap"] for c in CONTRIBUTIONS), "contributions": CONTRIBUTIONS},
    "missing_inputs": [], "warnings": [],
}



def _with_points(expl: dict) -> dict:
    """The plain (percentage-point) part core adds: log-odds rows times (risk change / log-odds change)."""
    p0, p1 = 100 / (1 + math.exp(-expl["base_value"])), 100 / (1 + math.exp(-expl["output"]))
    k = (p1 - p0) / (expl["output"] - expl["base_value"])
    rows = [dict(c, plain=k * c["shap"], phrase=PHRASES.get(c["feature"])) for c in expl["contributions"]]
    return dict(expl, contributions=rows, plain={"scale": "percentage points", "base_value": p0, "output": p1,
                                                   "base_label": "Starting point: the model's average trial patient",
                                                   "summary": "Estimated risk with ZDV+ddI: 8.4%."})


PHRASES = {"treatment_arm": "Treatment: ZDV+ddI", "weight_kg": "Weight 73.9 kg", "symptomatic": "Symptomatic HIV "
           "infection: no", "cd4_cells_per_ul": "CD4 count at baseline: 347 cells/µL"}
ARM_REPORT["explanation"] = _with_points(ARM_REPORT["explanation"])

DOSE_REPORT = {
    "cohort": "warfarin",
    "outcome": {"label": "Stable therapeutic warfarin dose", "type": "continuous", "higher_is_worse": True,
                "unit": "mg/week"},
    "dose": {"mg_per_week": 48.22720996055642, "unit": "mg/week", "interval": [19.36820858635318, 77.08621133475967],
             "coverage": 0.9, "iwpc_formula_mg_per_week": 45.745879144899995, "fixed_dose_mg_per_week": 35.0,
             "interval_group": "White"},
    "explanation": {"title": "Predicted weekly dose", "scale": "mg/week", "base_value": 30.729607528834233,
                    "output": 30.729607528834233 + 8.99612562848751 + 2.538576720547161,
                    "contributions": [_contribution("vkorc1_1639", "VKORC1 −1639 G>A genotype", "G/G",
                                                    8.99612562848751),
                                      _contribution("weight_kg", "Weight", 90, 2.538576720547161)]},
    "warnings": [],
}


def _metric(value, lo, hi, *, flagged=False):
    return {"value": value, "ci_low": lo, "ci_high": hi, "flagged": flagged, "difference": 0.0,
            "difference_ci_low": -0.01, "difference_ci_high": 0.01}


INSUFFICIENT = {"insufficient_data": True, "reason": "n=5 < 50"}
AUDIT = {
    "cohort": "actg175", "split": "test",
    "settings": {"confidence": 0.95, "task": "binary", "min_sizes": {"n": 50, "events": 10}},
    "overall": {"n": 535, "metrics": {"auc": {"value": 0.743, "ci_low": 0.684, "ci_high": 0.798},
                                      "outcome_rate": {"value": 0.174, "ci_low": 0.143, "ci_high": 0.209}}},
    "groups": [
        {"attribute": "race", "group": "non-white", "n": 153, "share": 0.286,
         "metrics": {"auc": _metric(0.769, 0.652, 0.867), "outcome_rate": _metric(0.136, 0.074, 0.181)}},
        {"attribute": "race", "group": "white", "n": 382, "share": 0.714,
         "metrics": {"auc": _metric(0.733, 0.662, 0.799), "outcome_rate": _metric(0.189, 0.150, 0.230)}},
        {"attribute": "sex", "group": "female", "n": 81, "share": 0.151,
         "metrics": {"auc": _metric(0.601, 0.480, 0.700, flagged=True), "outcome_rate": _metric(0.2, 0.1, 0.3)}},
        {"attribute": "sex x age_band", "group": "female x ≥50", "n": 6, "share": 0.011,
         "metrics": {"auc": INSUFFICIENT, "outcome_rate": INSUFFICIENT}},
    ],
}

CURVES = [{"name": "Equipoise model", "predicted": [0.05, 0.1, 0.2, 0.3], "observed": [0.06, 0.09, 0.22, 0.28],
           "n": [100, 120, 90, 40]},
          {"name": "Logistic regression", "predicted": [0.05, 0.1, 0.2, 0.3], "observed": [0.07, 0.12, 0.18, 0.33],
           "n": [100, 120, 90, 40]}]
DECISION_CURVE = {"thresholds": [0.05, 0.1, 0.2, 0.3, 0.4], "model": [0.13, 0.09, 0.05, 0.02, 0.005],
                  "treat_all": [0.13, 0.08, -0.03, -0.18, -0.38], "treat_none": [0.0] * 5}
ICE = {"feature": "cd4_cells_per_ul", "label": "CD4 count at baseline", "unit": "cells/µL",
       "grid": [100, 200, 300, 400, 500], "predictions": {"ZDV": [0.3, 0.25, 0.2, 0.17, 0.15],
                                                          "ZDV+ddI": [0.15, 0.12, 0.09, 0.08, 0.07]},
       "patient_value": 347, "scale": "probability"}
COVERAGE = {"nominal": 0.9, "overall": {"coverage": 0.898, "n": 1470},
            "by_group": [{"group": "Asian", "coverage": 0.887, "n": 389},
                         {"group": "White", "coverage": 0.903, "n": 803, "ci_low": 0.88, "ci_high": 0.92},
                         {"group": "Unknown x ≥80", "coverage": None, "n": 17, "reason": "n=17 < 30"}]}


def _all_figures() -> dict[str, go.Figure]:
    return {
        "arm_forest": F.arm_forest(ARM_REPORT),
        "difference": F.difference_figure(ARM_REPORT),
        "icon_array": F.icon_array(0.0838, 0.1824, label_a="ZDV+ddI", label_b="ZDV",
                                   outcome=ARM_REPORT["outcome"]["label"]),
        "waterfall": F.waterfall(ARM_REPORT["explanation"], units=UNITS),
        "waterfall_model": F.waterfall(ARM_REPORT["explanation"], units=UNITS, scale="model"),
        "dose": F.dose_figure(DOSE_REPORT),
        "subgroups": F.subgroup_forest(AUDIT, "auc", highlight=[("race", "white")]),
        "calibration": F.calibration_figure(CURVES),
        "decision_curve": F.decision_curve_figure(DECISION_CURVE),
        "ice": F.ice_figure(ICE),
        "coverage": F.coverage_figure(COVERAGE),
    }


def _trace(fig, name):
    return next(t for t in fig.data if t.name == name)


def _words(text: str) -> str:
    """A title as read: tags and line breaks as single spaces."""
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def _bounds(trace):
    """(low, high) of each point from its asymmetric error bars."""
    x = np.asarray(trace.x, float)
    return x - np.asarray(trace.error_x.arrayminus), x + np.asarray(trace.error_x.array)


def _texts(fig) -> list[str]:
    """Every string a reader can see: titles, tick labels, trace names, text, hover text, annotations."""
    out = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                if k != "template":
                    walk(v, k)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in {"text", "name", "hovertext", "ticktext", "y"}:
            out.append(node)

    walk(fig.to_plotly_json())
    return out


def _colours(fig) -> list[str]:
    """Colours of the marks (traces and shapes): the things that carry meaning."""
    out = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, (list, tuple, np.ndarray)):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key.endswith("color"):
            out.append(node)

    doc = fig.to_plotly_json()
    walk(doc["data"])
    walk(doc["layout"].get("shapes", []))
    return out


# --- every figure ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(_all_figures()))
def test_every_figure_has_a_title_axis_titles_palette_colours_and_serialises(name):
    fig = _all_figures()[name]
    assert fig.layout.title.text
    for axis in [fig.layout[k] for k in fig.layout if k.startswith(("xaxis", "yaxis"))]:
        if axis.showticklabels is not False:
            assert axis.title.text, f"{name}: an axis with tick labels has no title"
    colours = _colours(fig)
    assert colours and {c.upper() for c in colours} <= PALETTE, set(colours) - PALETTE
    assert {"#FF0000", "#00FF00", "RED", "GREEN"}.isdisjoint(c.upper() for c in colours)
    assert json.loads(fig.to_json())["data"]
    for trace in fig.data:
        assert trace.hoverinfo in ("text", "skip") and (trace.hovertext is not None or trace.hoverinfo == "skip")


@pytest.mark.parametrize("name", sorted(_all_figures()))
def test_no_text_is_phrased_as_an_order(name):
    for text in _texts(_all_figures()[name]):
        assert not ORDERS.search(text), text


def test_every_quantitative_axis_states_its_unit():
    figs = _all_figures()
    assert figs["arm_forest"].layout.xaxis.title.text.endswith("(%)")
    assert "(percentage points)" in _words(figs["difference"].layout.xaxis.title.text)
    assert _words(figs["waterfall"].layout.xaxis.title.text) == "Estimated risk (%)"  # absolute, drawn from zero
    assert "(log-odds)" in figs["waterfall_model"].layout.xaxis.title.text
    assert figs["dose"].layout.xaxis.title.text == "Weekly warfarin dose (mg/week)"
    assert "unitless" in figs["subgroups"].layout.xaxis.title.text
    assert figs["calibration"].layout.xaxis.title.text == "Predicted risk (%)"
    assert figs["calibration"].layout.yaxis.title.text == "Observed risk (%)"
    assert figs["decision_curve"].layout.xaxis.title.text == "Threshold probability (%)"
    assert figs["ice"].layout.xaxis.title.text == "CD4 count at baseline (cells/µL)"
    assert figs["ice"].layout.yaxis.title.text == "Predicted risk (%)"
    assert "(% of patients)" in figs["coverage"].layout.xaxis.title.text


# --- arms -----------------------------------------------------------------------------------------------------


def test_arm_forest_draws_each_probability_and_interval_in_percent():
    fig = F.arm_forest(ARM_REPORT)
    drawn = {}
    for trace in fig.data:
        lo, hi = _bounds(trace)
        for row, x, a, b in zip(trace.y, trace.x, lo, hi):
            drawn[fig.layout.yaxis.ticktext[row]] = (x, a, b)
    assert len(drawn) == 4
    for arm in ARM_REPORT["arms"]:
        label = next(k for k in drawn if re.sub("<[^>]+>", "", k).split(" (")[0] == arm["arm"])
        x, lo, hi = drawn[label]
        assert x == pytest.approx(100 * arm["probability"])
        assert (lo, hi) == pytest.approx((100 * arm["interval"][0], 100 * arm["interval"][1]))
    assert "Predicted risk of ≥50% CD4 decline" in _words(fig.layout.xaxis.title.text)


def test_arm_forest_marks_the_favoured_and_the_reference_arm_by_symbol_and_label():
    fig = F.arm_forest(ARM_REPORT)
    favoured, reference = _trace(fig, "Favoured by the model"), _trace(fig, "Reference arm")
    assert favoured.x == pytest.approx([100 * 0.08381561251180793])
    assert favoured.marker.symbol != reference.marker.symbol != _trace(fig, "Other arms").marker.symbol
    ticks = list(fig.layout.yaxis.ticktext)
    assert ticks[0] == "ZDV (reference)" and ticks[1] == "<b>ZDV+ddI</b> (favoured)"


def test_arm_without_an_interval_is_drawn_without_a_bar():
    report = copy.deepcopy(ARM_REPORT)
    report["arms"][3]["interval"] = None
    trace = _trace(F.arm_forest(report), "Other arms")
    i = list(trace.y).index(3)
    assert trace.error_x.array[i] == 0 and trace.error_x.arrayminus[i] == 0
    assert "no interval available" in trace.hovertext[i]


def test_difference_figure_draws_percentage_points_with_interval_and_zero_line():
    fig = F.difference_figure(ARM_REPORT)
    (trace,) = fig.data
    assert trace.x == pytest.approx([-9.857050125706714])
    lo, hi = _bounds(trace)
    assert (lo[0], hi[0]) == pytest.approx((-13.384145753946838, -5.820251139759386))
    assert any(s.x0 == 0 and s.x1 == 0 for s in fig.layout.shapes)
    assert "excludes zero" in _words(fig.layout.title.text)
    assert fig.layout.xaxis.range[0] < lo[0] and fig.layout.xaxis.range[1] > 0


@pytest.mark.parametrize("p_a, p_b", [(0.0838, 0.1824), (0.0, 1.0), (0.004, 0.5)])
def test_icon_arrays_fill_round_100p_icons_with_filled_symbols(p_a, p_b):
    fig = F.icon_array(p_a, p_b, label_a="ZDV+ddI", label_b="ZDV", outcome="Recurrence within 5 years")
    for axis, p in (("x", p_a), ("x2", p_b)):
        traces = [t for t in fig.data if t.xaxis == axis]
        filled = sum(len(t.x) for t in traces if t.marker.symbol == "circle")
        hollow = sum(len(t.x) for t in traces if t.marker.symbol == "circle-open")
        assert (filled, hollow) == (round(100 * p), 100 - round(100 * p))
        cells = {(x, y) for t in traces for x, y in zip(t.x, t.y)}
        assert len(cells) == 100
    titles = [a.text for a in fig.layout.annotations]
    assert f"about {round(100 * p_b)} of 100" in titles[1]
    assert "recurrence within 5 years" in _words(fig.layout.title.text)


def test_icon_array_says_fewer_than_one_for_a_small_nonzero_risk():
    fig = F.icon_array(0.004, 0.2, label_a="A", label_b="B", outcome="Death")
    assert "fewer than 1 of 100" in fig.layout.annotations[0].text


@pytest.mark.parametrize("p_a, err_msg", [
    (1.2, r"The 'p_a' argument must be a probability in the range \[0, 1\]. Got 1.2 instead."),
    (-0.1, r"Got -0.1 instead"),
    ("0.2", r"Got '0.2' instead"),
    (True, r"Got True instead"),
])
def test_icon_array_refuses_a_non_probability(p_a, err_msg):
    with pytest.raises(ValueError, match=err_msg):
        F.icon_array(p_a, 0.1, label_a="A", label_b="B", outcome="Death")


# --- explanations -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", ["plain", "model"])
@pytest.mark.parametrize("max_features", [1, 5, 10, 14, 50])
def test_waterfall_measures_sum_to_the_output_and_aggregate_the_rest(max_features, scale):
    expl = ARM_REPORT["explanation"]
    key, base, output = (("plain", expl["plain"]["base_value"], expl["plain"]["output"]) if scale == "plain" else
                         ("shap", expl["base_value"], expl["output"]))
    (trace,) = F.waterfall(expl, units=UNITS, max_features=max_features, scale=scale).data
    measures, x = list(trace.measure), list(trace.x)
    assert measures[0] == "absolute" and x[0] == pytest.approx(base)
    assert measures[-1] == "total" and x[-1] == pytest.approx(output)
    assert set(measures[1:-1]) == {"relative"}
    assert x[0] + math.fsum(x[1:-1]) == pytest.approx(output, abs=1e-12)
    assert sorted(x[1:1 + min(max_features, 14)], key=abs, reverse=True) == x[1:1 + min(max_features, 14)]
    shown = min(max_features, len(CONTRIBUTIONS))
    rest = len(CONTRIBUTIONS) - shown
    assert len(measures) == 2 + shown + (rest > 0)
    if rest:
        assert trace.y[-2] == f"other {rest} feature{'s' * (rest > 1)}"
    assert key in expl["contributions"][0]


def test_waterfall_main_view_is_in_percentage_points_without_log_odds():
    fig = F.waterfall(ARM_REPORT["explanation"], units=UNITS)
    text = " ".join([fig.layout.title.text, fig.layout.xaxis.title.text, *fig.data[0].y, *fig.data[0].text])
    assert "log" not in text.lower()
    assert _words(fig.layout.xaxis.title.text) == "Estimated risk (%)"
    assert "length is its change in percentage points" in _words(fig.layout.title.text)
    assert fig.data[0].text[0] == "14.6%" and fig.data[0].text[-1] == "8.4%"  # 100 / (1 + exp(1.7647)) = 14.62


def test_waterfall_rows_read_as_clinical_phrases_largest_first():
    fig = F.waterfall(ARM_REPORT["explanation"], units=UNITS, max_features=10)
    labels = [y.replace("<br>", " ") for y in fig.data[0].y]
    assert labels[1] == "Treatment: ZDV+ddI"
    assert "CD4 count at baseline: 347 cells/µL" in labels
    assert "Weight 73.9 kg" in labels
    assert "Symptomatic HIV infection: no" in labels
    # a row without a phrase (an older report) keeps label = value unit
    assert "Karnofsky performance score = 100 points (0–100)" in labels
    assert "add up exactly" in _words(fig.layout.title.text)


def test_waterfall_model_view_keeps_the_log_odds_and_the_risk():
    fig = F.waterfall(ARM_REPORT["explanation"], units=UNITS, scale="model")
    assert "a risk of 8.4%" in _words(fig.layout.title.text)
    assert "−2.393" in fig.layout.title.text


@pytest.mark.parametrize("scale", ["plain", "model"])
def test_negative_values_carry_a_real_minus_sign(scale):
    fig = F.waterfall(ARM_REPORT["explanation"], units=UNITS, scale=scale)
    for v, t in zip(fig.data[0].x, fig.data[0].text):
        assert "-" not in t
        assert t.startswith("−") == (v < 0 and float(t.replace("−", "-").rstrip("%")) != 0), (v, t)
    assert F.difference_figure(ARM_REPORT).data[0].text[0] == "−9.9"


def test_difference_figure_labels_stay_inside_the_chart():
    fig = F.difference_figure(ARM_REPORT)
    sides = sorted((a.x, a.xanchor) for a in fig.layout.annotations)
    assert sides == [(0, "left"), (1, "right")]
    assert all(a.xref == "paper" for a in fig.layout.annotations)
    assert all(len(line) <= 40 for line in fig.layout.xaxis.title.text.split("<br>"))
    assert fig.layout.xaxis.automargin and fig.layout.yaxis.automargin


def test_waterfall_refuses_an_unknown_scale():
    with pytest.raises(ValueError, match=r"The 'scale' argument must be one of 'plain', 'model'\. Got 'logit' instead\."):
        F.waterfall(ARM_REPORT["explanation"], scale="logit")


@pytest.mark.parametrize("scale, unit", [("log-odds", "(log-odds)"), ("log odds ratio", "(log odds ratio)"),
                                         ("mg/week", "(mg/week)")])
def test_waterfall_x_axis_is_titled_with_the_scale(scale, unit):
    expl = dict(ARM_REPORT["explanation"], scale=scale)
    assert F.waterfall(expl, units=UNITS, scale="model").layout.xaxis.title.text.replace("<br>", " ").endswith(unit)


@pytest.mark.parametrize("max_features", [0, -1, 2.5, True, "10"])
def test_waterfall_refuses_a_bad_max_features(max_features):
    with pytest.raises(ValueError, match=r"The 'max_features' argument must be an int >= 1\. Got .* instead\."):
        F.waterfall(ARM_REPORT["explanation"], units=UNITS, max_features=max_features)


def test_ice_figure_draws_one_line_per_arm_and_marks_the_patient():
    fig = F.ice_figure(ICE)
    for arm, ys in ICE["predictions"].items():
        line = _trace(fig, arm)
        assert list(line.x) == ICE["grid"] and line.y == pytest.approx([100 * v for v in ys])
    patient = [t for t in fig.data if t.showlegend is False]
    assert [t.x[0] for t in patient] == [347, 347]
    assert patient[0].y[0] == pytest.approx(100 * np.interp(347, ICE["grid"], ICE["predictions"]["ZDV"]))
    assert any(s.x0 == 347 for s in fig.layout.shapes)
    assert _trace(fig, "ZDV").line.dash != _trace(fig, "ZDV+ddI").line.dash


def test_ice_figure_for_a_categorical_dose_feature():
    curve = {"feature": "vkorc1_1639", "label": "VKORC1 genotype", "unit": "", "grid": ["G/G", "A/G", "A/A"],
             "predictions": {"dose": [48.0, 38.0, 25.0]}, "patient_value": "A/G", "scale": "mg/week"}
    fig = F.ice_figure(curve)
    assert list(_trace(fig, "dose").y) == [48.0, 38.0, 25.0]
    assert fig.layout.yaxis.title.text == "Predicted weekly dose (mg/week)"
    (patient,) = [t for t in fig.data if t.showlegend is False]
    assert (patient.x[0], patient.y[0]) == ("A/G", 38.0)


def test_ice_figure_reads_the_whatif_ice_curve_shape():
    # core.explain.ICECurve.to_dict(): "curves", "current_value", scale "probability of <outcome label>"
    curve = {"feature": "symptomatic", "label": "Symptomatic HIV infection", "type": "binary", "unit": "",
             "scale": "probability of ≥50% CD4 decline, AIDS-defining event or death within 2 years",
             "grid": [0, 1], "curves": {"ZDV": [0.18, 0.27], "ddI": [0.10, 0.16]}, "current_value": 0,
             "current_index": 0, "favoured": ["ddI", "ddI"], "higher_is_worse": True}
    fig = F.ice_figure(curve)
    assert _trace(fig, "ddI").y == pytest.approx([10.0, 16.0])
    assert fig.layout.yaxis.title.text == "Predicted risk (%)"
    assert "Predicted risk of ≥50% CD4 decline" in fig.layout.title.text
    assert [(t.x[0], t.y[0]) for t in fig.data if t.showlegend is False] == [(0, pytest.approx(18.0)),
                                                                             (0, pytest.approx(10.0))]


# --- dose ---------------------------------------------------------------------------------------------------


def test_dose_figure_draws_the_model_dose_with_its_interval_beside_the_references():
    fig = F.dose_figure(DOSE_REPORT)
    model = _trace(fig, "Equipoise model")
    assert model.x == pytest.approx([48.22720996055642])
    lo, hi = _bounds(model)
    assert (lo[0], hi[0]) == pytest.approx((19.36820858635318, 77.08621133475967))
    assert _trace(fig, "IWPC formula").x == pytest.approx([45.745879144899995])
    assert _trace(fig, "Fixed dose").x == pytest.approx([35.0])
    assert "90% conformal prediction interval" in fig.layout.title.text


def test_dose_figure_says_insufficient_evidence_when_there_is_no_interval():
    report = copy.deepcopy(DOSE_REPORT)
    report["dose"].update(interval=None, insufficient_evidence=True, iwpc_formula_mg_per_week=None,
                          iwpc_formula_note="The IWPC formula needs height and weight; one of them is missing.")
    report["warnings"] = [{"kind": "insufficient_evidence", "message": "Too few calibration patients."}]
    fig = F.dose_figure(report)
    model = _trace(fig, "Equipoise model")
    assert list(model.error_x.array) == [0] and list(model.error_x.arrayminus) == [0]
    notes = [a.text for a in fig.layout.annotations]
    assert any("insufficient evidence" in n for n in notes)
    assert any("not available: the IWPC formula needs height and weight" in n for n in notes)
    assert "IWPC formula" not in [t.name for t in fig.data]


# --- audits and checks --------------------------------------------------------------------------------------


def test_subgroup_forest_draws_each_value_and_interval_and_the_overall_line():
    fig = F.subgroup_forest(AUDIT, "auc")
    drawn = {}
    for trace in fig.data:
        lo, hi = _bounds(trace)
        drawn.update({row: (x, a, b) for row, x, a, b in zip(trace.y, trace.x, lo, hi)})
    for row, group in enumerate(AUDIT["groups"][:3]):
        m = group["metrics"]["auc"]
        assert drawn[row] == pytest.approx((m["value"], m["ci_low"], m["ci_high"]))
    assert any(s.x0 == s.x1 == pytest.approx(0.743) for s in fig.layout.shapes)
    assert fig.layout.xaxis.title.text.startswith("AUC (unitless")


def test_subgroup_forest_shows_insufficient_data_as_text_never_as_a_number():
    fig = F.subgroup_forest(AUDIT, "auc")
    row = 3
    assert fig.layout.yaxis.ticktext[row] == "Sex × age band: female, ≥50 (n=6)"
    assert all(row not in trace.y for trace in fig.data)
    (note,) = [a for a in fig.layout.annotations if a.yref == "y" and a.y == row]
    assert "insufficient data (n=5 < 50)" in note.text and not re.search(r"\d\.\d", note.text)


def test_subgroup_forest_marks_flagged_groups_and_highlights_the_patients_groups():
    fig = F.subgroup_forest(AUDIT, "auc", highlight=[("race", "white"), ("sex", "male")])
    flagged = _trace(fig, "Flagged: worse than the rest (after correction)")
    assert list(flagged.y) == [2] and flagged.marker.symbol != _trace(fig, "Group estimate").marker.symbol
    assert fig.layout.yaxis.ticktext[1] == "<b>Race: white (n=382) ◀ this patient</b>"
    bands = [s for s in fig.layout.shapes if s.fillcolor == F.YELLOW]
    assert [(b.y0, b.y1) for b in bands] == [(0.5, 1.5)]


def test_subgroup_forest_draws_rates_in_percent_and_can_limit_attributes():
    fig = F.subgroup_forest(AUDIT, "outcome_rate", attributes=["race"])
    assert list(fig.layout.yaxis.ticktext) == ["Race: non-white (n=153)", "Race: white (n=382)"]
    assert _trace(fig, "Group estimate").x == pytest.approx([13.6, 18.9])
    assert fig.layout.xaxis.title.text == "Observed outcome rate (%)"


def test_subgroup_forest_refuses_an_unknown_metric():
    with pytest.raises(ValueError, match=r"Unknown metric 'mae' for this subgroup audit\. Available metrics: "
                                         r"auc, outcome_rate\."):
        F.subgroup_forest(AUDIT, "mae")


def test_calibration_figure_draws_percent_and_the_diagonal():
    fig = F.calibration_figure(CURVES)
    for curve in CURVES:
        trace = _trace(fig, curve["name"])
        assert trace.x == pytest.approx([100 * v for v in curve["predicted"]])
        assert trace.y == pytest.approx([100 * v for v in curve["observed"]])
        assert all(str(n) in h for n, h in zip(curve["n"], trace.hovertext))
    diagonal = _trace(fig, "Perfect agreement")
    assert list(diagonal.x) == list(diagonal.y) and diagonal.x[0] == 0


def test_calibration_figure_in_mg_per_week_is_not_rescaled():
    curve = {"name": "Model", "predicted": [20.0, 35.0, 50.0], "observed": [22.0, 33.0, 47.0], "n": [300, 500, 200]}
    fig = F.calibration_figure([curve], unit="mg/week", quantity="dose")
    assert list(fig.data[0].x) == [20.0, 35.0, 50.0]
    assert fig.layout.yaxis.title.text == "Observed dose (mg/week)"


@pytest.mark.parametrize("curves, err_msg", [
    ([], r"calibration_figure needs at least one curve"),
    ([dict(CURVES[0], n=[1, 2])], r"Calibration curve 'Equipoise model': predicted, observed, n must have the same "
                                  r"length\. Got lengths \[4, 4, 2\] instead\."),
])
def test_calibration_figure_refuses_bad_curves(curves, err_msg):
    with pytest.raises(ValueError, match=err_msg):
        F.calibration_figure(curves)


def test_decision_curve_draws_net_benefit_against_threshold_percent():
    fig = F.decision_curve_figure(DECISION_CURVE)
    for key, name in (("model", "Equipoise model"), ("treat_all", "All patients treated"),
                      ("treat_none", "No patient treated")):
        trace = _trace(fig, name)
        assert trace.x == pytest.approx([5, 10, 20, 30, 40]) and list(trace.y) == DECISION_CURVE[key]
    assert len({t.line.dash for t in fig.data}) == 3
    assert "Net benefit" in fig.layout.yaxis.title.text


def test_calibration_bins_without_a_known_outcome_are_gaps_not_points():
    curve = {"name": "race = non-white", "group": "non-white", "predicted": [0.1, 0.2, 0.3],
             "observed": [0.12, float("nan"), 0.25], "n": [40, 3, 40], "n_known": [38, 0, 37], "note": "..."}
    small = {"name": "race = other", "group": "other", "predicted": [], "observed": [], "n": [], "n_known": [],
             "note": "race = other: 12 patients with a known outcome; a calibration curve needs 30."}
    fig = F.calibration_figure([curve, small])
    assert math.isnan(fig.data[0].y[1]) and "no known outcome" in fig.data[0].hovertext[1]
    assert fig.layout.xaxis.range[1] == pytest.approx(30 * 1.1)
    assert fig.data[1].name == "race = other: insufficient data, no curve" and len(fig.data[1].x) == 0
    fig.to_json()


def test_decision_curve_draws_a_baseline_when_given():
    dc = dict(DECISION_CURVE, model_name="equipoise (linear + boosted trees)", baseline_name="logistic regression",
              baseline=[0.13, 0.085, 0.045, 0.02, 0.0])
    fig = F.decision_curve_figure(dc)
    assert [t.name for t in fig.data] == ["equipoise (linear + boosted trees)", "logistic regression",
                                          "All patients treated", "No patient treated"]
    assert list(_trace(fig, "logistic regression").y) == dc["baseline"]
    assert len({t.line.dash for t in fig.data}) == 4


def test_coverage_figure_draws_coverage_in_percent_against_the_nominal_level():
    fig = F.coverage_figure(COVERAGE)
    assert _trace(fig, "All patients").x == pytest.approx([89.8])
    groups = _trace(fig, "Group")
    assert groups.x == pytest.approx([88.7, 90.3]) and list(groups.y) == [1, 2]
    lo, hi = _bounds(groups)
    assert (lo[1], hi[1]) == pytest.approx((88.0, 92.0)) and lo[0] == hi[0] == pytest.approx(88.7)
    assert any(s.x0 == s.x1 == pytest.approx(90.0) for s in fig.layout.shapes)
    (note,) = [a for a in fig.layout.annotations if a.yref == "y"]
    assert note.y == 3 and "insufficient data" in note.text
    assert all(3 not in t.y for t in fig.data)


def test_coverage_figure_names_the_grouping_attribute():
    doc = {"nominal": 0.9, "groups_by": "race", "overall": {"coverage": 0.898, "n": 1470, "n_without_interval": 0},
           "by_group": [{"coverage": 0.887, "group": "Asian", "n": 389, "n_without_interval": 0}]}
    assert list(F.coverage_figure(doc).layout.yaxis.ticktext) == ["<b>All patients</b> (n=1470)",
                                                                  "Race: Asian (n=389)"]


@pytest.mark.parametrize("builder, arg, err_msg", [
    (F.arm_forest, DOSE_REPORT, r"arm_forest needs an arm cohort's patient report with a 'arms' entry"),
    (F.dose_figure, ARM_REPORT, r"dose_figure needs a dose cohort's patient report with a 'dose' entry"),
    (F.subgroup_forest, {"groups": []}, r"subgroup_forest needs a subgroup audit dict with a 'overall' entry"),
])
def test_builders_name_what_they_need(builder, arg, err_msg):
    args = (arg, "auc") if builder is F.subgroup_forest else (arg,)
    with pytest.raises(ValueError, match=err_msg):
        builder(*args)


# --- from freshly trained bundles ---------------------------------------------------------------------------


def _first_report(bundle):
    from core.modeling.heldout import held_out_records
    from core.reporting.patient_report import predict_patient

    record = {k: v for k, v in held_out_records(bundle)[0].items() if k != "patient_id"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return predict_patient(bundle, record).to_dict()


def test_figures_from_a_real_arm_report_and_audit(bundles):
    from core.data.cohorts import load_spec

    bundle = bundles("actg175")
    report = _first_report(bundle)
    units = {f.name: f.unit for f in load_spec("actg175").features}
    forest = F.arm_forest(report)
    drawn = sorted(x for t in forest.data for x in t.x)
    assert drawn == pytest.approx(sorted(100 * a["probability"] for a in report["arms"]))
    for expl in [report["explanation"], report["difference_explanation"], *report["arm_explanations"].values()]:
        (trace,) = F.waterfall(expl, units=units).data  # main view: percentage points
        assert trace.x[0] + math.fsum(trace.x[1:-1]) == pytest.approx(expl["plain"]["output"], abs=1e-9)
        assert expl["plain"]["scale"] == "percentage points"
        (trace,) = F.waterfall(expl, units=units, scale="model").data  # details: log-odds
        assert trace.x[0] + math.fsum(trace.x[1:-1]) == pytest.approx(expl["output"], abs=1e-9)
    fav, versus = report["comparison"]["favoured"], report["comparison"]["versus"]
    (trace,) = F.waterfall(report["difference_explanation"], units=units).data
    assert trace.x[-1] == pytest.approx(100 * report["comparison"]["difference"], abs=1e-9)
    assert trace.x[-1] == pytest.approx(100 * (next(a["probability"] for a in report["arms"] if a["arm"] == fav)
                                               - next(a["probability"] for a in report["arms"] if a["arm"] == versus)))
    F.difference_figure(report).to_json()
    fav = next(a for a in report["arms"] if a["arm"] == report["comparison"]["favoured"])
    ref = next(a for a in report["arms"] if a["reference"])
    F.icon_array(fav["probability"], ref["probability"], label_a=fav["arm"], label_b=ref["arm"],
                 outcome=report["outcome"]["label"]).to_json()
    audit = bundle.audit
    assert audit is not None
    doc = audit.to_dict()
    fig = F.subgroup_forest(audit, "auc", highlight=[("sex", str(report["patient"]["sex"]))])
    insufficient = {i for i, g in enumerate(doc["groups"]) if g["metrics"]["auc"].get("insufficient_data")}
    assert all(insufficient.isdisjoint(t.y) for t in fig.data)
    assert len([a for a in fig.layout.annotations if a.yref == "y"]) == len(insufficient)
    fig.to_json()


def test_figures_from_a_real_dose_report(bundles):
    bundle = bundles("warfarin")
    report = _first_report(bundle)
    fig = F.dose_figure(report)
    assert _trace(fig, "Equipoise model").x == pytest.approx([report["dose"]["mg_per_week"]])
    assert fig.layout.xaxis.title.text == "Weekly warfarin dose (mg/week)"
    (trace,) = F.waterfall(report["explanation"], units={}).data
    assert trace.x[0] + math.fsum(trace.x[1:-1]) == pytest.approx(report["explanation"]["output"], abs=1e-9)
    assert report["explanation"]["plain"]["output"] == pytest.approx(report["dose"]["mg_per_week"], abs=1e-9)
    F.subgroup_forest(bundle.audit, "mae").to_json()
    coverage = bundle.uncertainty.test_coverage
    fig = F.coverage_figure(coverage)
    assert _trace(fig, "All patients").x == pytest.approx([100 * coverage["overall"]["coverage"]])


def test_figures_from_the_whatif_and_model_card_modules(bundles):
    whatif = pytest.importorskip("core.explain")
    calibration = pytest.importorskip("core.reporting.calibration")
    decision_curves = pytest.importorskip("core.reporting.decision_curve")
    bundle = bundles("actg175")
    record = _first_report(bundle)["patient"]
    curve = whatif.ice_curve(bundle, record, "cd4_cells_per_ul")
    fig = F.ice_figure(curve)
    for arm, ys in curve.curves.items():
        assert _trace(fig, arm).y == pytest.approx([100 * v for v in ys])
    assert any(s.x0 == record["cd4_cells_per_ul"] for s in fig.layout.shapes)
    F.ice_figure(whatif.ice_curve(bundle, record, "art_history")).to_json()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        curves = calibration.calibration_curve(bundle) + calibration.calibration_curve(bundle, by="age_band")
        decision = decision_curves.decision_curve(bundle)
    fig = F.calibration_figure(curves)
    assert fig.data[0].x == pytest.approx([100 * v for v in curves[0]["predicted"]])
    fig = F.decision_curve_figure(decision)
    assert _trace(fig, decision["model_name"]).y == pytest.approx(decision["model"])
