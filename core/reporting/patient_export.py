"""One patient's report to take away, as self-contained HTML (printable on A4, no script, nothing loaded from
elsewhere) and as an A4 PDF (fpdf2 with the DejaVu Sans font matplotlib ships), laid out like the tumor-board
report. The export says what the screen says: the headline with its intervals, the reasons instead of any number
when the evidence is insufficient, the explanation's largest contributions in clinical words, the warnings as
shown (:func:`core.reporting.banners.shown_warnings`, passed in), the inputs as presented, the model (bundle id
and sha256) and the audit-log reference of the export, then the patient-facing view (:mod:`.patient_view`).

:func:`export_content` gathers the texts; the writers lay them out and compute nothing. Every text is made
visible (bidi and control characters shown as ``[U+XXXX]``) and, in HTML, escaped, so a ``<script>`` in a patient
identifier shows literally and never runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from .._format import visible_strings
from .._documents import PAGE_CSS, TEXT_WIDTH_MM, a4_pdf
from .banners import digest
from .patient_view import EMPTY, FILLED, PatientView, icon_svg, patient_view

TOP_CONTRIBUTIONS = 5
INSUFFICIENT = "insufficient_evidence"
MINUS = "−"


@dataclass(frozen=True)
class ExportContent:
    """One patient's export as texts: labelled facts, the headline and its numbers (or why there are none),
    explanations (title, lines), warnings, input rows (input, value, note) and the patient-facing view."""

    title: str
    facts: tuple[tuple[str, str], ...]
    headline: str
    numbers: tuple[str, ...]
    reasons: tuple[str, ...]
    explanations: tuple[tuple[str, str, tuple[str, ...], str], ...]  # title, summary, contributions, method
    warnings: tuple[str, ...]
    inputs: tuple[tuple[str, str, str], ...]
    view: PatientView
    disclaimer: str


def _signed(x: float) -> str:
    text = f"{x:+.1f}"
    return text[1:] if float(text) == 0 else text.replace("-", MINUS)


def _pct(p: float) -> str:
    return f"{100 * p:.0f}%"


def _numbers(report: Mapping) -> list[str]:
    """The headline's numbers as the Patient page shows them (none with insufficient evidence)."""
    if (report.get("summary") or {}).get("state") == INSUFFICIENT:
        return []
    lines = []
    for a in report.get("arms") or ():
        iv = a.get("interval")
        lines.append(f"{a['arm']}: estimated risk {_pct(a['probability'])}"
                     + (f" (95% interval {_pct(iv[0])} to {_pct(iv[1])})" if iv else " (no interval)"))
    for p in report.get("pairwise") or ():
        iv = p.get("interval")
        lines.append(f"{p['a']} − {p['b']}: difference in risk {100 * p['difference']:+.1f} percentage points"
                     + (f" (95% interval {100 * iv[0]:+.1f} to {100 * iv[1]:+.1f})" if iv else " (no interval)"))
    dose = report.get("dose")
    if dose:
        lo, hi = dose["interval"]
        guideline = (report.get("summary") or {}).get("state") == "guideline_caution"
        lines.append(f"Model estimate{' (not a substitute)' if guideline else ''}: {dose['mg_per_week']:.1f} mg/week "
                     f"({dose['coverage']:.0%} prediction interval {lo:.1f}–{hi:.1f} mg/week)")
        formula = dose.get("iwpc_formula_mg_per_week")
        lines.append("IWPC formula: " + (f"{formula:.1f} mg/week" if formula is not None else "—")
                     + (f" ({dose['iwpc_formula_note']})" if dose.get("iwpc_formula_note") else ""))
        lines.append(f"Fixed starting dose: {dose['fixed_dose_mg_per_week']:.0f} mg/week")
    return lines


def _explanation(title: str, expl: Mapping) -> tuple[str, str, tuple[str, ...], str]:
    """The plain summary, the largest contributions in clinical words on the headline's scale (those that round
    to 0.0 left out), and how the split was made."""
    plain = expl.get("plain") or {}
    unit = "mg/week" if plain.get("scale") == "mg/week" else "percentage points"
    rows = [r for r in expl.get("contributions") or () if round(r.get("plain", 0.0), 1)][:TOP_CONTRIBUTIONS]
    lines = tuple(f"{r.get('phrase') or r['label']}: {_signed(r['plain'])} {unit}" for r in rows)
    return title, plain.get("summary") or expl.get("title", ""), lines, plain.get("method", "")


def _explanations(report: Mapping) -> list[tuple[str, tuple[str, ...]]]:
    if (report.get("summary") or {}).get("state") == INSUFFICIENT or not report.get("explanation"):
        return []
    comp = report.get("comparison")
    if not comp:
        return [_explanation("Why this dose", report["explanation"])]
    out = []
    if report.get("difference_explanation"):
        out.append(_explanation(f"Why {comp['favoured']} differs from {comp['versus']}",
                                report["difference_explanation"]))
    out.append(_explanation(f"Risk under {comp['favoured']}", report["explanation"]))
    return out


def _warnings(warnings: Sequence[Mapping]) -> list[str]:
    shown = digest(list(warnings))
    return [f"{b.title} ({b.severity}): {m}" for b in (*shown.banners, *shown.more) for m in b.messages]


def export_content(bundle, report: Mapping, *, inputs: Sequence[Mapping], warnings: Sequence[Mapping],
                   log_ref: str) -> ExportContent:
    """The texts of ``report`` (a ``PatientReport.to_dict()``) for ``bundle``; ``inputs`` and ``warnings`` as the
    service gives them (``service.input_rows``, ``service.shown_warnings``); ``log_ref`` names the audit-log entry."""
    summary = report.get("summary") or {}
    pid = report.get("patient_id")
    facts = (("Patient", "not given" if pid is None else str(pid)), ("Cohort", bundle.spec.title),
             ("Outcome", (report.get("outcome") or {}).get("label", "")),
             ("Model", f"bundle {bundle.bundle_id}, sha256 {bundle.sha256}"), ("Audit-log reference", log_ref))
    reasons = tuple(summary.get("reasons") or ()) if summary.get("state") == INSUFFICIENT else ()
    content = ExportContent(
        "Equipoise: one patient's report", facts, summary.get("text", ""), tuple(_numbers(report)), reasons,
        tuple(_explanations(report)), tuple(_warnings(warnings)),
        tuple((str(r["Input"]), str(r["Value"]), str(r["Note"])) for r in inputs), patient_view(report),
        report.get("disclaimer") or "Decision support, not a decision.")
    return visible_strings(content)  # no bidi or control character from anyone's text


# --- HTML --------------------------------------------------------------------------------------------------
CSS = PAGE_CSS + """.aid { background: #fff4d6; border-left: 4px solid #e69f00; padding: 2mm 3mm; }
.view { page-break-before: always; } .option { display: inline-block; width: 82mm; vertical-align: top; margin: 2mm 0; }
.method { font-size: 9pt; color: #444; }
"""


def _list(items) -> str:
    return "<ul>" + "".join(f"<li>{escape(x)}</li>" for x in items) + "</ul>"


def _table(head, rows) -> str:
    return ("<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>" for row in rows) + "</table>")


def _view_html(view: PatientView) -> str:
    parts = [f'<section class="view"><h2>{escape(view.heading)}</h2><p class="aid">{escape(view.aid)}</p>']
    parts += [f"<p>{escape(n)}</p>" for n in view.notes]
    for o in view.options:
        parts.append(f'<div class="option"><h3>{escape(o.option)}</h3>{icon_svg(o)}<p>{escape(o.words)}</p></div>')
    return "".join(parts) + "</section>"


def patient_report_html(bundle, report: Mapping, *, inputs: Sequence[Mapping], warnings: Sequence[Mapping],
                        log_ref: str) -> bytes:
    """The export as UTF-8 HTML bytes (arguments as :func:`export_content`)."""
    c = export_content(bundle, report, inputs=inputs, warnings=warnings, log_ref=log_ref)
    body = [f"<h1>{escape(c.title)}</h1>", "<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>"
                                                             for k, v in c.facts) + "</table>",
            f"<h2>What the evidence supports</h2><p>{escape(c.headline)}</p>"]
    if c.numbers:
        body.append(_list(c.numbers))
    if c.reasons:
        body.append("<p>Why no number is shown:</p>" + _list(c.reasons))
    if c.explanations:
        body.append("<h2>Why</h2>")
    for title, summary, lines, method in c.explanations:
        body.append(f"<h3>{escape(title)}</h3><p>{escape(summary)}</p>" + _list(lines)
                    + f'<p class="method">{escape(method)}</p>')
    body.append("<h2>Warnings</h2>" + (_list(c.warnings) if c.warnings else "<p>None applied.</p>"))
    body.append("<h2>Inputs used for this estimate</h2>" + _table(("Input", "Value", "Note"), c.inputs))
    body.append(_view_html(c.view))
    page = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
            f"<title>{escape(c.title)}</title><style>{CSS}</style></head><body>{''.join(body)}"
            f"<footer>{escape(c.disclaimer)}</footer></body></html>")
    return page.encode("utf-8")


# --- PDF ---------------------------------------------------------------------------------------------------
WIDTH = TEXT_WIDTH_MM


def _pdf(footer: str):
    return a4_pdf(footer)


def _text(pdf, text: str, *, size: float = 9.5, bold: bool = False, fill: bool = False) -> None:
    pdf.set_font("DejaVu", "B" if bold else "", size)
    pdf.multi_cell(WIDTH, size * 0.5, text, fill=fill, new_x="LMARGIN", new_y="NEXT", align="L")


def _heading(pdf, text: str, size: float = 12) -> None:
    pdf.ln(2)
    _text(pdf, text, size=size, bold=True)
    pdf.ln(1)


def _icons(pdf, filled: int) -> None:
    """A 10x10 array of circles, 4 mm apart, filled first, row by row from the top left."""
    x0, y0, step, d = pdf.get_x(), pdf.get_y(), 4.0, 3.0
    for i in range(100):
        x, y = x0 + (i % 10) * step, y0 + (i // 10) * step
        if i < filled:
            pdf.ellipse(x, y, d, d, style="F")
        else:
            pdf.ellipse(x, y, d, d, style="D")
    pdf.set_y(y0 + 10 * step + 1)


def _view_pdf(pdf, view: PatientView) -> None:
    pdf.add_page()
    _heading(pdf, view.heading, 15)
    pdf.set_fill_color(255, 244, 214)
    _text(pdf, view.aid, bold=True, fill=True)
    pdf.ln(1)
    for note in view.notes:
        _text(pdf, note)
        pdf.ln(1)
    fill, draw = (int(FILLED[i:i + 2], 16) for i in (1, 3, 5)), (int(EMPTY[i:i + 2], 16) for i in (1, 3, 5))
    pdf.set_fill_color(*fill)
    pdf.set_draw_color(*draw)
    for o in view.options:
        if pdf.get_y() > 297 - 20 - 60:
            pdf.add_page()
        _heading(pdf, o.option, 11)
        _icons(pdf, o.filled)
        _text(pdf, o.words)


def patient_report_pdf(bundle, report: Mapping, *, inputs: Sequence[Mapping], warnings: Sequence[Mapping],
                       log_ref: str) -> bytes:
    """The export as A4 PDF bytes (arguments as :func:`export_content`)."""
    c = export_content(bundle, report, inputs=inputs, warnings=warnings, log_ref=log_ref)
    pdf = _pdf(c.disclaimer)
    pdf.set_title(c.title)
    pdf.add_page()
    _heading(pdf, c.title, 17)
    for key, value in c.facts:
        _text(pdf, f"{key}: {value}")
    _heading(pdf, "What the evidence supports", 13)
    _text(pdf, c.headline)
    for line in c.numbers:
        _text(pdf, f"•  {line}")
    if c.reasons:
        _text(pdf, "Why no number is shown:")
    for reason in c.reasons:
        _text(pdf, f"•  {reason}")
    if c.explanations:
        _heading(pdf, "Why", 13)
    for title, summary, lines, method in c.explanations:
        _heading(pdf, title, 11)
        _text(pdf, summary)
        for line in lines:
            _text(pdf, f"•  {line}")
        _text(pdf, method, size=8)
    _heading(pdf, "Warnings", 13)
    for w in c.warnings or ("None applied.",):
        _text(pdf, f"•  {w}")
    _heading(pdf, "Inputs used for this estimate", 13)
    for name, value, note in c.inputs:
        _text(pdf, f"{name}: {value}" + (f" ({note})" if note else ""))
    _view_pdf(pdf, c.view)
    return bytes(pdf.output())
