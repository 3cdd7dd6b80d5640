"""The board report as one self-contained HTML page (charts inlined as PNG data, no scripts, no external
files), printable on A4 (``@page`` CSS). Every user text is escaped, so it shows literally and never runs."""

from __future__ import annotations

import base64
from html import escape

from .._format import visible_strings
from .._documents import PAGE_CSS
from .agenda import MeetingRecord
from .content import CaseContent, report_content

CSS = PAGE_CSS + """th { width: 32%; }
.note { background: #fff4d6; border-left: 4px solid #e69f00; padding: 2mm 3mm; }
.case { page-break-before: always; } .case:first-of-type { page-break-before: auto; }
img { max-width: 100%; } pre { white-space: pre-wrap; font-family: inherit; margin: 0; }
@media print { footer { position: fixed; bottom: 0; } }
"""


def _rows(rows) -> str:
    return "<table>" + "".join(f"<tr><th>{escape(k)}</th><td><pre>{escape(v)}</pre></td></tr>" for k, v in rows) + "</table>"


def _case(c: CaseContent) -> str:
    parts = [f'<section class="case"><h2>{escape(c.label)}</h2>', _rows(c.facts)]
    if c.model_note:
        parts.append(f'<p class="note">{escape(c.model_note)}</p>')
    parts.append(f"<h3>Summary of the evidence (frozen)</h3><p>{escape(c.summary)}</p>")
    if c.intervals:
        parts.append("<ul>" + "".join(f"<li>{escape(x)}</li>" for x in c.intervals) + "</ul>")
    if c.reasons:
        parts.append("<p>Why no number is shown:</p><ul>" + "".join(f"<li>{escape(x)}</li>" for x in c.reasons)
                     + "</ul>")
    for title, png in c.charts:
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<figure><img alt="{escape(title)}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{escape(title)}</figcaption></figure>")
    parts.append("<h3>Warnings</h3>" + ("<ul>" + "".join(f"<li>{escape(w)}</li>" for w in c.warnings) + "</ul>"
                                        if c.warnings else "<p>None applied.</p>"))
    if not c.decisions:
        parts.append("<h3>Decision</h3><p>No decision recorded.</p>")
    for title, rows in c.decisions:
        parts.append(f"<h3>{escape(title)}</h3>" + _rows(rows))
    return "\n".join(parts) + "</section>"


def report_html(record: MeetingRecord, *, current_models: dict | None = None) -> bytes:
    """The meeting (and each of its cases) as UTF-8 HTML bytes."""
    content = visible_strings(report_content(record, current_models=current_models))  # no bidi/control chars
    body = "\n".join(_case(c) for c in content.cases) or "<p>No cases on the agenda.</p>"
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; style-src \'unsafe-inline\'">'
            f"<title>{escape(content.title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{escape(content.title)}</h1>{_rows(content.meeting)}{body}"
            f"<footer>{escape(content.footer)}</footer></body></html>")
    return page.encode("utf-8")
