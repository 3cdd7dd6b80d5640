"""The instructor's chart: each trainee's share of correct answers with its 95% interval, on a fixed 0–100% axis.

A trainee with fewer cases than the scores' n rule (``state != 'estimate'``) gets no point: the table beside the
chart says "too few cases to give a rate", and a chart must not draw what the text refuses to state. With no
trainee above the rule the builder returns ``None`` and the page draws nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from ._style import BLUE, _rows, _style


def trainee_scores_figure(scores: Mapping[str, Mapping], *, title: str = "Accuracy after the advice") -> go.Figure | None:
    """``{trainee: Score.to_dict()}`` of one proportion score -> a forest of rates (%) with their intervals, the
    x-axis fixed at 0–100%; None when no trainee has enough cases for a rate."""
    rows = []
    for trainee, s in scores.items():
        if s.get("state") != "estimate" or s.get("value") is None:
            continue
        iv = [100 * v for v in s["interval"]] if s.get("interval") else None
        n = f"{s['numerator']} of {s['n']}" if s.get("numerator") is not None else f"n={s['n']}"
        hover = f"{trainee}: {100 * s['value']:.0f}% ({n})"
        rows.append((f"{trainee} ({n})", "trainee", 100 * s["value"], iv, hover, ""))
    if not rows:
        return None
    fig = go.Figure()
    _rows(fig, rows, {"trainee": ("Trainee's rate", BLUE, "circle")}, y_title="Trainee (correct of cases)")
    fig.update_xaxes(range=[0, 100], autorange=False)
    return _style(fig, title=title, subtitle="Dots: share of cases answered correctly; bars: 95% intervals. "
                  "Trainees with too few cases for a rate are not drawn.", x_title="Correct answers (% of cases)",
                  y_title="Trainee (correct of cases)", height=200 + 34 * len(rows))
