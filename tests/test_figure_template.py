"""The figures' template is assigned once-validated (core/reporting/figures/_style.py, issue 29): the figure's JSON
must be exactly what Plotly's own validated ``update_layout(template="simple_white")`` gives."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest

from core.reporting import figures
from core.reporting.figures import _style


def _plotly_way(fig: go.Figure) -> go.Figure:
    return fig.update_layout(template=_style.TEMPLATE)  # validated and copied by Plotly on every call


@pytest.mark.parametrize("make", [
    lambda: go.Figure(go.Scatter(x=[1, 2, 3], y=[0.1, 0.5, 0.2], name="a")),
    lambda: figures.icon_array(0.29, 0.4, label_a="A", label_b="B", outcome="Death"),
])
def test_the_fast_template_gives_plotly_s_own_json(make):
    fast = make()
    _style._use_template(fast)
    assert json.loads(fast.to_json()) == json.loads(_plotly_way(make()).to_json())


def test_a_styled_figure_carries_the_template_and_stays_validated():
    fig = _style._style(go.Figure(go.Bar(x=["a"], y=[1])), title="t", x_title="x", y_title="y")
    assert fig.layout.template.layout.plot_bgcolor == "white"  # simple_white's, reached through the figure
    with pytest.raises(ValueError, match="Invalid property"):  # validation is back on for everything else
        fig.update_layout(not_a_property=1)
    fig.layout.template.layout.paper_bgcolor = "black"  # a figure may change its template: never the shared one
    assert _style._template().layout.paper_bgcolor != "black"
