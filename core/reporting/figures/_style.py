"""The look shared by every Equipoise figure: the Okabe–Ito palette, :func:`_style`, and small drawing helpers."""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

# Okabe & Ito (2008), colour-blind safe.
ORANGE, SKY, GREEN, YELLOW = "#E69F00", "#56B4E9", "#009E73", "#F0E442"
BLUE, VERMILLION, PURPLE, BLACK = "#0072B2", "#D55E00", "#CC79A7", "#000000"
PALETTE = (ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE, BLACK)
# Line series: colour, dash and marker change together (yellow is kept for bands, black for references).
SERIES = ((BLUE, "solid", "circle"), (ORANGE, "dash", "square"), (GREEN, "dot", "diamond"),
          (VERMILLION, "dashdot", "triangle-up"), (PURPLE, "longdash", "x"), (SKY, "longdashdot", "star"))

POINTS = "percentage points"  # the plain scale of an arm cohort's explanations (core.explain.explanation.POINTS)
MINUS = "−"  # U+2212: a real minus sign, which no font drops and no reader takes for a hyphen

MSG_MISSING_KEY = "{func} needs {what} with a {key!r} entry. Got keys {keys} instead."
MSG_LENGTHS = "{what}: {names} must have the same length. Got lengths {lengths} instead."


# --- shared styling and small helpers --------------------------------------------------------------
def _style(fig: go.Figure, *, title: str, x_title: str, y_title: str, subtitle: str = "",
           height: int | None = None, wrap: tuple[int, int] = (48, 66), legend_below: bool = False) -> go.Figure:
    """The one place where look and feel is set: palette, fonts, titles, hover labels, margins.

    Margins grow with the tick labels and axis titles (``automargin``), so nothing is cut at the chart's edge;
    ``wrap=(title_chars, subtitle_chars)`` wraps the title and subtitle; the default fits a half-width column
    of a 1280 px page. ``legend_below`` puts the legend under the plot, so a half-width chart keeps its width.
    """
    if wrap:
        title, subtitle = _wrap_lines(title, wrap[0]), _wrap_lines(subtitle, wrap[1])
    text = f"{title}<br><sup>{subtitle.replace('<br>', '</sup><br><sup>')}</sup>" if subtitle else title
    top = 44 + 26 * (title.count("<br>") + 1) + 20 * (subtitle.count("<br>") + 1) * bool(subtitle)
    _use_template(fig)
    fig.update_layout(colorway=list(PALETTE), height=height,
                      title={"text": text, "x": 0.01, "xanchor": "left", "y": 1, "yanchor": "top",
                             "yref": "container", "pad": {"t": 16}},
                      font={"family": "Arial, Helvetica, sans-serif", "size": 14, "color": BLACK},
                      hoverlabel={"font_size": 14, "bgcolor": "white", "font_color": BLACK},
                      separators=".,", margin={"l": 10, "r": 30, "t": top, "b": 10, "autoexpand": True})
    fig.update_xaxes(title_text=x_title, showgrid=True, gridcolor="#E5E5E5", automargin=True)
    fig.update_yaxes(title_text=y_title, automargin=True)
    if legend_below:
        fig.update_layout(legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.38, "yanchor": "top"})
    return fig


TEMPLATE = "simple_white"  # Plotly's template under our own styling


@functools.lru_cache(maxsize=1)
def _template():
    """The Plotly template, validated once per process (read-only: Plotly copies nothing it does not own)."""
    return go.Figure(layout={"template": TEMPLATE}).layout.template


def _use_template(fig: go.Figure) -> None:
    """``fig.update_layout(template=TEMPLATE)`` without validating and copying the template again.

    Plotly validates and deep-copies a template on every assignment: about 25 ms, more than the rest of a small
    figure. Plotly itself assigns its default template this way (validation off for that one property,
    ``BaseFigure._initialize_layout_template``); the figure's JSON is the same (tests/test_figures_speed.py)."""
    layout = fig.layout
    validate, layout._validate = layout._validate, False
    try:
        layout.template = _template()
    finally:
        layout._validate = validate


def _wrap_lines(text: str, width: int) -> str:
    """Wrap each ``<br>``-separated line of ``text`` to ``width`` characters."""
    return "<br>".join(_wrap(line, width) for line in text.split("<br>")) if text else text


def signed(x: float, fmt: str = ".1f") -> str:
    """``+1.2`` / ``−0.4`` with a real minus sign; ``0.0`` without a sign."""
    text = f"{x:+{fmt}}"
    return text[1:] if float(text) == 0 else text.replace("-", MINUS)


def _wrap(text: str, width: int = 60) -> str:
    return "<br>".join(textwrap.wrap(str(text), width)) or str(text)


def _lower_first(label: str) -> str:
    """'Recurrence within 5 years' -> 'recurrence within 5 years'; acronyms ('AIDS') are kept."""
    return label[0].lower() + label[1:] if len(label) > 1 and label[1].islower() else label



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
        fig.add_trace(go.Scatter(x=x, y=at, name=name, error_x=errors, hovertext=hover, hoverinfo="text", cliponaxis=False,
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

