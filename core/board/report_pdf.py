"""The board report as an A4 PDF (fpdf2, pure Python), with the DejaVu Sans font that matplotlib ships so
every character (≥, −, accents) is kept, charts as PNG images and the decision-support footer on every page."""

from __future__ import annotations

import io

from .._documents import TEXT_WIDTH_MM, a4_pdf
from .._format import visible_strings
from .agenda import MeetingRecord
from .content import FOOTER, CaseContent, report_content

WIDTH = TEXT_WIDTH_MM


def _pdf():
    return a4_pdf(FOOTER)


def _rows(pdf, rows) -> None:
    for key, value in rows:
        pdf.set_font("DejaVu", "B", 9)
        pdf.multi_cell(WIDTH, 4.6, key, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_font("DejaVu", "", 9.5)
        pdf.multi_cell(WIDTH, 4.8, value or "—", new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(0.8)


def _heading(pdf, text: str, size: float) -> None:
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", size)
    pdf.multi_cell(WIDTH, size * 0.5, text, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(1)


def _case(pdf, c: CaseContent) -> None:
    pdf.add_page()
    _heading(pdf, c.label, 15)
    _rows(pdf, c.facts)
    if c.model_note:
        pdf.set_fill_color(255, 244, 214)
        pdf.set_font("DejaVu", "B", 9.5)
        pdf.multi_cell(WIDTH, 5, c.model_note, fill=True, new_x="LMARGIN", new_y="NEXT", align="L")
    _heading(pdf, "Summary of the evidence (frozen)", 11.5)
    pdf.set_font("DejaVu", "", 9.5)
    pdf.multi_cell(WIDTH, 4.8, c.summary, new_x="LMARGIN", new_y="NEXT", align="L")
    for line in c.intervals:
        pdf.multi_cell(WIDTH, 4.8, f"•  {line}", new_x="LMARGIN", new_y="NEXT", align="L")
    if c.reasons:
        pdf.multi_cell(WIDTH, 4.8, "Why no number is shown:", new_x="LMARGIN", new_y="NEXT", align="L")
    for reason in c.reasons:
        pdf.multi_cell(WIDTH, 4.8, f"•  {reason}", new_x="LMARGIN", new_y="NEXT", align="L")
    for title, png in c.charts:
        pdf.ln(1)
        pdf.image(io.BytesIO(png), w=150)
        pdf.set_font("DejaVu", "", 8.5)
        pdf.multi_cell(WIDTH, 4, title, new_x="LMARGIN", new_y="NEXT", align="L")
    _heading(pdf, "Warnings", 11.5)
    pdf.set_font("DejaVu", "", 9.5)
    for w in c.warnings or ("None applied.",):
        pdf.multi_cell(WIDTH, 4.8, f"•  {w}", new_x="LMARGIN", new_y="NEXT", align="L")
    if not c.decisions:
        _heading(pdf, "Decision", 11.5)
        pdf.set_font("DejaVu", "", 9.5)
        pdf.multi_cell(WIDTH, 4.8, "No decision recorded.", new_x="LMARGIN", new_y="NEXT", align="L")
    for title, rows in c.decisions:
        _heading(pdf, title, 11.5)
        _rows(pdf, rows)


def report_pdf(record: MeetingRecord, *, current_models: dict | None = None) -> bytes:
    """The meeting (a cover page) and each case (a page or more) as PDF bytes."""
    content = visible_strings(report_content(record, current_models=current_models))  # no bidi/control chars
    pdf = _pdf()
    pdf.alias_nb_pages()
    pdf.set_title(content.title)
    pdf.add_page()
    _heading(pdf, content.title, 17)
    _rows(pdf, content.meeting)
    pdf.set_font("DejaVu", "", 9.5)
    pdf.multi_cell(WIDTH, 4.8, "Agenda: " + ("; ".join(f"{i}. {c.label}" for i, c in enumerate(content.cases, 1))
                                           or "no cases"), new_x="LMARGIN", new_y="NEXT", align="L")
    for c in content.cases:
        _case(pdf, c)
    return bytes(pdf.output())
