"""The board report: self-contained, A4-printable HTML in which user text is inert (a ``<script>`` in the
clinical context shows as text and never runs); an A4 PDF with the frozen charts, decisions and footer; a
snapshot with insufficient evidence shows no number and no chart, as on screen."""

from __future__ import annotations

import io
import json
import re
from html import escape as html_escape

import pytest

from core.board import (FOOTER, Action, Attendee, Case, CaseRecord, Comment, Decision, FollowUp, Meeting, MeetingRecord,
                        Snapshot, report_html, report_pdf)

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'
REPORT = {
    "cohort": "colon", "model": {"bundle_id": "colon-abc", "sha256": "a" * 64},
    "outcome": {"label": "Recurrence within 5 years"},
    "summary": {"state": "clear", "text": "Lowest with Lev+5FU (41%).", "best_set": ["Lev+5FU"], "reasons": []},
    "arms": [{"arm": "Obs", "probability": 0.57, "interval": [0.49, 0.67], "reference": True},
             {"arm": "Lev+5FU", "probability": 0.41, "interval": [0.33, 0.52], "reference": False}],
    "warnings": [{"kind": "ood", "severity": "medium", "message": "Age ≥ 80 is rare in the trial."}],
}


def _record(report: dict, *, context: str = SCRIPT, label: str = "Case <b>1</b>") -> MeetingRecord:
    text = json.dumps(report, sort_keys=True)
    case = Case("c1", "m1", label, "colon", "form", "p.json", {"age_years": 60}, "Chemo?", context, "full_discussion", 1)
    snap = Snapshot("c1", text, "b" * 64, "colon-abc", "a" * 64, "0.1.0", "2026-12-03T10:00:00Z", "dr.a")
    d1 = Decision("c1", 1, "Lev+5FU", "Stage III " + SCRIPT, True, True, actions=(Action("Book clinic", "Dr A", "2026-12-10"),),
                  created_by="dr.a", created_at="2026-12-03T10:05:00Z", signed_off_by="dr.chair",
                  signed_off_at="2026-12-03T10:06:00Z")
    d2 = Decision("c1", 2, "FOLFOX", "Current standard", False, False, disagreement_reason="Trial predates oxaliplatin")
    meeting = Meeting("m1", "MDT <i>today</i>", "2026-12-03", "colorectal", "Dr Chair",
                      (Attendee("Dr A", "oncology"),), ("oncology",))
    follow = FollowUp("c1", 1, False, "Patient preference")
    note = Comment("c1", "Radiology: " + SCRIPT, "dr.b", "2026-12-03T10:07:00Z")
    return MeetingRecord(meeting, (CaseRecord(case, snap, (d1, d2), (follow,), (note,)),))


def test_user_text_is_inert_in_the_html():
    html = report_html(_record(REPORT)).decode("utf-8")
    assert "<script" not in html.lower() and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html  # shown literally
    assert "Case &lt;b&gt;1&lt;/b&gt;" in html and "MDT &lt;i&gt;today&lt;/i&gt;" in html
    assert not re.search(r"<img(?![^>]*src=\"data:image/png;base64,)", html)  # the only images are inlined charts


def test_the_html_is_self_contained_and_printable_on_a4():
    html = report_html(_record(REPORT)).decode("utf-8")
    assert "@page { size: A4;" in html
    assert not re.search(r"(src|href)=\"(?!data:)", html)  # nothing loaded from elsewhere
    assert "default-src 'none'" in html  # and the page may not load anything even if it tried
    assert html.count('src="data:image/png;base64,') == 1
    for needed in ("Lev+5FU: 41% (95% interval 33% to 52%)", "Age ≥ 80 is rare", "colon-abc", "a" * 64,
                   "Decision version 2 (current)", "Decision version 1 (superseded by version 2)",
                   "Trial predates oxaliplatin", "Book clinic (owner Dr A, due 2026-12-10)", "Patient preference",
                   "Dr A (oncology)", "Quorum met (oncology)", "Radiology: &lt;script&gt;", html_escape(FOOTER)):
        assert needed in html, needed


def test_insufficient_evidence_shows_no_number_and_no_chart():
    report = {**REPORT, "summary": {"state": "insufficient_evidence", "text": "Insufficient evidence: outside the data.",
                                    "best_set": [], "reasons": ["outside"]}}
    html = report_html(_record(report)).decode("utf-8")
    assert "Insufficient evidence: outside the data." in html
    assert "data:image/png" not in html and "41%" not in html and "57%" not in html


def test_the_pdf_is_a4_with_charts_decisions_and_the_footer_on_every_page():
    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(report_pdf(_record(REPORT))))
    assert len(pdf.pages) >= 2
    for page in pdf.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)  # A4 in points
    pages = [" ".join(p.extract_text().split()) for p in pdf.pages]
    assert all("Model output is decision support" in p for p in pages)
    text = " ".join(pages)
    for needed in ("Case <b>1</b>", SCRIPT.split("<img")[0], "FOLFOX", "Trial predates oxaliplatin", "colon-abc",
                   "Age ≥ 80 is rare", "Patient preference"):
        assert needed in text, needed
    assert sum(len(p.images) for p in pdf.pages) == 1  # the frozen chart, as a static image


@pytest.mark.parametrize("writer", [report_html, report_pdf])
def test_a_case_not_yet_presented_is_reported_as_such(writer):
    record = _record(REPORT)
    bare = MeetingRecord(record.meeting, (CaseRecord(record.cases[0].case),))
    out = writer(bare)
    if writer is report_pdf:
        from pypdf import PdfReader

        out = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(out)).pages).encode()
    assert b"Not presented: no snapshot was frozen" in out.replace(b"\n", b" ").replace(b"  ", b" ")


WIDE = ("The model's estimates of the risk under Obs vary widely between its bootstrap refits for this patient (95% "
        "interval 30% to 83%, wider than for 99% of the training patients): there is insufficient evidence for a number.")


@pytest.mark.parametrize("writer", [report_html, report_pdf])
def test_insufficient_evidence_prints_no_risk_number_even_in_its_warnings(writer):
    report = {**REPORT, "summary": {"state": "insufficient_evidence", "text": "Insufficient evidence: no risk is shown.",
                                    "best_set": [], "reasons": ["the model's estimates vary widely between refits"]},
              "warnings": [{"kind": "insufficient_evidence", "severity": "high", "arm": "Obs", "interval": [0.3, 0.83],
                            "message": WIDE}, *REPORT["warnings"]]}
    out = writer(_record(report))
    if writer is report_pdf:
        from pypdf import PdfReader

        text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(out)).pages)
    else:
        text = " ".join(re.sub(r"<[^>]+>", " ", out.decode("utf-8").split("</style>")[1]).split())
    assert "Insufficient evidence: no risk is shown." in text
    assert "Why no number is shown:" in text and "vary widely between refits" in text
    assert "Age ≥ 80 is rare in the trial." in text  # the other warnings stay
    assert not re.search(r"\d\s*%", text), re.findall(r".{40}\d\s*%.{20}", text)  # no risk, interval or share
    assert "30%" not in text and "83%" not in text and "41%" not in text
