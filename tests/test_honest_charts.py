"""Honest charts and rounding: an axis title names what its positions are, a bar is drawn from zero, an estimate and
its interval stay distinguishable when written, and no chart draws what the text refuses to state."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from core._format import estimate_interval, interval_decimals
from core.reporting import figures as F
from tests.test_figures import ARM_REPORT, DOSE_REPORT, UNITS


# --- explanation charts ---------------------------------------------------------------------------------------


def _range(fig) -> tuple[float, float]:
    lo, hi = fig.layout.xaxis.range
    return float(lo), float(hi)


@pytest.mark.parametrize("expl, title", [(ARM_REPORT["explanation"], "Estimated risk (%)"),
                                         (DOSE_REPORT["explanation"], "Weekly dose (mg/week)")])
def test_a_waterfall_on_an_absolute_scale_is_titled_so_and_drawn_from_zero(expl, title):
    fig = F.waterfall(expl, units=UNITS)
    (trace,) = fig.data
    assert " ".join(fig.layout.xaxis.title.text.split("<br>")) == title
    lo, hi = _range(fig)
    # the first and last bars are absolute (a risk, a dose): drawn whole from zero, so their length is their value
    assert trace.measure[0] == "absolute" and trace.measure[-1] == "total"
    assert lo <= 0 <= trace.x[0] <= hi and lo <= 0 <= trace.x[-1] <= hi
    # every running total between (where the relative bars start and end) is inside the axis too
    running = trace.x[0] + np.cumsum(trace.x[1:-1])
    assert lo <= running.min() and running.max() <= hi


def test_the_dose_waterfall_no_longer_starts_near_the_dose():
    """The reported defect: a dose axis that began near 25 mg/week made a 30 mg/week bar look tiny."""
    fig = F.waterfall(DOSE_REPORT["explanation"], units=UNITS)
    assert _range(fig)[0] <= 0
    assert "Change in dose" not in fig.layout.xaxis.title.text


def test_a_difference_waterfall_keeps_its_change_title():
    expl = dict(ARM_REPORT["explanation"])
    plain = dict(expl["plain"], base_value=0.0, output=expl["plain"]["output"] - expl["plain"]["base_value"])
    fig = F.waterfall(dict(expl, plain=plain), units=UNITS)
    assert "Change in the difference (percentage points)" == " ".join(fig.layout.xaxis.title.text.split("<br>"))


# --- rounding -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("estimate, low, high, written", [
    (2.2, 0.1, 2.3, ("+2.2", "+0.1", "+2.3")),      # the reported "2 points (+0 to +2)"
    (1.6, 0.4, 2.4, ("+1.6", "+0.4", "+2.4")),      # "+0" for a non-zero bound: one more decimal
    (16.2, 7.4, 25.1, ("+16", "+7", "+25")),        # already distinguishable: whole points
    (-16.2, -25.1, -7.4, ("−16", "−25", "−7")),     # a true minus sign
    (5.0, 5.0, 9.0, ("+5", "+5", "+9")),            # an estimate on its bound in truth stays on it
    (5.04, 5.0, 9.0, ("+5.04", "+5.00", "+9.00")),  # an estimate inside must not read as the bound
    (0.0, -3.2, 2.9, ("0", "−3", "+3")),            # an exact zero is written 0
    (0.3, -0.2, 0.9, ("+0.3", "−0.2", "+0.9")),
    (-0.0004, -0.002, 0.001, ("−0.0004", "−0.0020", "+0.0010")),  # a Brier difference: never "−0.000"
])
def test_estimate_and_interval_stay_distinguishable(estimate, low, high, written):
    assert estimate_interval(estimate, low, high, most=4) == written


def _violates(e: float, lo: float, hi: float, d: int) -> bool:
    text = [f"{v:.{d}f}" for v in (e, lo, hi)]
    shown = [float(t) for t in text]
    return (any(v != 0 and s == 0 for v, s in zip((e, lo, hi), shown))
            or (lo < e and text[0] == text[1]) or (e < hi and text[0] == text[2])
            or not shown[1] <= shown[0] <= shown[2])


def test_the_decimals_are_the_fewest_that_keep_the_rules_brute_force():
    """Against a brute-force search over every number of decimals: the chosen one satisfies the rules and no
    smaller one does."""
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(3000):
        lo, e, hi = sorted(np.round(rng.normal(0, rng.choice([0.05, 1, 20]), 3), rng.integers(1, 5)))
        d = interval_decimals(e, lo, hi, most=6)
        first_ok = next((k for k in range(0, 7) if not _violates(e, lo, hi, k)), 6)
        assert d == first_ok, (e, lo, hi, d, first_ok)
        checked += 1
    assert checked == 3000


def test_the_headline_never_writes_plus_zero_for_a_non_zero_bound():
    from core.reporting.summary import arm_summary
    from core.uncertainty.arm_comparison import PairwiseDifference

    pairs = (PairwiseDifference("A", "B", difference=-0.022, interval=(-0.023, -0.001), share_a_lower=0.99),)
    s = arm_summary("Death within 2 years", ["A", "B"], [0.30, 0.322], pairs, higher_is_worse=True)
    assert "2.2 points higher (95% interval +0.1 to +2.3 points)" in s.text, s.text
    assert "+0 " not in s.text


# --- the instructor's chart -----------------------------------------------------------------------------------


def _score(value, n, numerator, interval, state="estimate"):
    return {"value": value, "n": n, "numerator": numerator, "interval": interval, "state": state}


def test_the_instructor_chart_has_a_fixed_axis_and_intervals():
    fig = F.trainee_scores_figure({"ana": _score(0.25, 12, 3, [0.09, 0.53]), "ben": _score(0.9, 20, 18, [0.7, 0.97])})
    assert tuple(fig.layout.xaxis.range) == (0, 100)  # 0.25 is a quarter of the axis, not all of it
    (trace,) = fig.data
    assert list(trace.x) == [25.0, 90.0]
    assert list(trace.error_x.arrayminus) == pytest.approx([16, 20]) and list(trace.error_x.array) == pytest.approx([28, 7])


def test_no_instructor_chart_below_the_n_rule():
    few = {"ana": _score(0.25, 4, 1, None, state="insufficient"), "ben": _score(None, 0, 0, None, "not_available")}
    assert F.trainee_scores_figure(few) is None
    mixed = F.trainee_scores_figure({**few, "cy": _score(0.5, 10, 5, [0.2, 0.8])})
    assert [t.split(" ")[0] for t in mixed.layout.yaxis.ticktext] == ["cy"]
