"""What every printable document Equipoise writes shares (the board's report, one patient's report): the A4 page and
type of its HTML, and an A4 PDF with the DejaVu Sans font matplotlib ships (so every character, ≥, −, accents, is
kept) and the decision-support footer on every page."""

from __future__ import annotations

from pathlib import Path

TEXT_WIDTH_MM = 182  # mm of text on A4 with 14 mm margins

PAGE_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; color: #111; max-width: 180mm; margin: auto; }
h1 { font-size: 17pt; margin-bottom: 2mm; } h2 { font-size: 13.5pt; margin-top: 8mm; border-bottom: 1px solid #999; }
h3 { font-size: 11pt; margin: 4mm 0 1mm; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; } th, td { text-align: left; vertical-align: top;
  padding: 1mm 2mm; border-bottom: 1px solid #ddd; } th { font-weight: 600; }
footer { margin-top: 8mm; font-size: 9pt; color: #444; border-top: 1px solid #999; padding-top: 2mm; }
"""


def font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def a4_pdf(footer: str):
    """A new A4 PDF (fpdf2) with DejaVu Sans (regular, bold) and ``footer`` plus the page number on every page."""
    from fpdf import FPDF

    class _Document(FPDF):
        def footer(self):
            self.set_y(-14)
            self.set_font("DejaVu", size=7.5)
            self.multi_cell(TEXT_WIDTH_MM, 3.6, f"{footer}  Page {self.page_no()}/{{nb}}", align="C")

    pdf = _Document(format="A4", unit="mm")
    pdf.set_margins(14, 14, 14)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font("DejaVu", "", str(font_dir() / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(font_dir() / "DejaVuSans-Bold.ttf"))
    pdf.alias_nb_pages()
    return pdf
