"""One patient's export (issue 25): the PDF read back says what the report says (headline numbers and intervals,
formatted here independently, the warnings as shown, the inputs as presented, the model); insufficient evidence
prints no risk number anywhere; user text is inert; the export is in the audit log before its bytes are returned;
the patient-facing view fills exactly round(100 * risk) icons of 100 per option, and none for the dose cohort."""

from __future__ import annotations

import hashlib
import io
import math
import re
import threading

import pytest

from core import service
from core.reporting import icon_count, patient_view
from core.reporting.patient_view import NO_DOSE_VIEW, NO_NUMBERS

SCRIPT = '<script>alert("x")</script>'


def _report(bundle, i: int = 0):
    record = dict(service.held_out_patients(bundle)[i])
    pid = record.pop("patient_id")
    return service.predict(bundle, record, patient_id=pid)


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(content)).pages)


def _html_text(content: bytes) -> str:
    """What a reader of the HTML sees: tags dropped, entities decoded, whitespace collapsed."""
    from html import unescape

    body = content.decode("utf-8").split("</style>", 1)[1]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def _pct(p: float) -> str:  # the report's risk as the screen rounds it, written here, not imported
    return "%d%%" % math.floor(100 * p + 0.5)


def _warned_report(bundle):
    """A held-out patient whose report carries warnings (the first such one)."""
    for i in range(40):
        report = _report(bundle, i)
        if service.shown_warnings(report.to_dict()):
            return report
    pytest.skip("no held-out patient with a warning")


@pytest.fixture
def log(tmp_path):
    return service.open_log(f"sqlite:///{tmp_path / 'store.sqlite3'}")


def test_the_pdf_says_what_an_arm_report_says(bundles):
    bundle = bundles("colon")
    report = _report(bundle)
    data = report.to_dict()
    text = _pdf_text(service.patient_export(bundle, report, format="pdf"))
    assert " ".join(data["summary"]["text"].split()) in text
    for arm in data["arms"]:
        lo, hi = arm["interval"]
        assert f"{arm['arm']}: estimated risk {_pct(arm['probability'])} (95% interval {_pct(lo)} to {_pct(hi)})" in text
    for pair in data["pairwise"]:
        lo, hi = (round(100 * x, 1) for x in pair["interval"])
        assert f"(95% interval {lo:+.1f} to {hi:+.1f})" in text
    for row in service.input_rows(bundle, data):
        assert f"{row['Input']}: {row['Value']}" in text
    assert bundle.bundle_id in text and bundle.sha256 in text
    top = data["explanation"]["contributions"][0]
    assert top["phrase"] in text  # the largest contribution, in clinical words
    assert "Out of 100 people like you" in text and "conversation aid" in text


def test_the_pdf_says_what_a_dose_report_says_with_its_warnings(bundles):
    bundle = bundles("warfarin")
    report = _warned_report(bundle)
    data = report.to_dict()
    text = _pdf_text(service.patient_export(bundle, report, format="pdf"))
    dose = data["dose"]
    lo, hi = dose["interval"]
    assert "%.1f mg/week" % dose["mg_per_week"] in text and "%.1f–%.1f mg/week" % (lo, hi) in text
    assert "%d%% prediction interval" % round(100 * dose["coverage"]) in text
    shown = service.shown_warnings(data)
    assert shown
    for w in shown:
        assert " ".join(w["message"].split()) in text
    for row in service.input_rows(bundle, data):
        assert f"{row['Input']}: {row['Value']}" in text
    assert " ".join(NO_DOSE_VIEW.split()) in text  # no "out of 100" picture for a dose


WIDE = ("The model's estimates of the risk under Obs vary widely between its bootstrap refits for this patient (95% "
        "interval 30% to 83%, wider than for 99% of the training patients): there is insufficient evidence for a number.")


@pytest.mark.parametrize("format", ["pdf", "html"])
def test_insufficient_evidence_prints_no_risk_number(bundles, format):
    bundle = bundles("colon")
    data = _report(bundle).to_dict()
    data["summary"] = {"state": "insufficient_evidence", "text": "Insufficient evidence: no risk is shown.",
                       "best_set": [], "reasons": ["the model's estimates vary widely between refits"]}
    data["warnings"] = [{"kind": "insufficient_evidence", "severity": "high", "arm": "Obs", "interval": [0.3, 0.83],
                         "message": WIDE},
                        {"kind": "outside_evidence", "severity": "medium", "message": "Age 90 is rare in the trial."}]
    out = service.patient_export(bundle, data, format=format)
    text = _pdf_text(out) if format == "pdf" else _html_text(out)
    assert "Insufficient evidence: no risk is shown." in text
    assert "Why no number is shown:" in text and "vary widely between refits" in text
    assert "Age 90 is rare in the trial." in text  # the other warnings stay
    assert not re.search(r"\d\s*%", text), re.findall(r".{40}\d\s*%.{20}", text)
    assert " ".join(NO_NUMBERS.split()) in text
    if format == "html":
        assert 'class="icon' not in out.decode("utf-8")  # no icon array: the words only


def test_user_text_is_inert_in_the_html_and_visible_in_the_pdf(bundles):
    bundle = bundles("colon")
    report = _report(bundle)
    html = service.patient_export(bundle, report, format="html", patient_id=SCRIPT + "\u202eabc").decode("utf-8")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;[U+202E]abc" in html  # shown literally
    assert "\u202e" not in html
    assert "default-src 'none'" in html and not re.search(r"(src|href)=\"", html)  # nothing loaded from elsewhere
    text = _pdf_text(service.patient_export(bundle, report, format="pdf", patient_id=SCRIPT + "\u202eabc"))
    assert SCRIPT + "[U+202E]abc" in text


def test_the_export_is_in_the_audit_log_before_its_bytes_are_returned(bundles, log):
    bundle = bundles("colon")
    report = _report(bundle)
    with service.log_context(log, user="dr.export", page="Patient"):
        content = service.patient_export(bundle, report, format="pdf")
    entry = log.entries(kind="export")[-1]
    details = entry.details
    assert details["what"] == "patient_report_pdf" and entry.user == "dr.export"
    assert details["sha256"] == hashlib.sha256(content).hexdigest() and details["bytes"] == len(content)
    assert details["export_ref"] in _pdf_text(content)  # the document names its own log entry
    assert entry.bundle == {"id": bundle.bundle_id, "sha256": bundle.sha256} and entry.patient_ref is not None

    def refuse(shown):
        if shown.kind == service.EXPORT:
            raise RuntimeError("the log is unavailable")

    stop = service.observe(refuse)
    try:
        with pytest.raises(RuntimeError, match="the log is unavailable"):
            service.patient_export(bundle, report, format="html")  # nothing returned that was not recorded
    finally:
        stop()


def test_a_download_made_on_another_thread_is_logged_under_the_page_context(bundles, log):
    bundle = bundles("colon")
    report = _report(bundle)
    with service.log_context(log, user="dr.later", page="Patient", patient_id=lambda: "held-out 7"):
        make = service.patient_export_later(bundle, report, format="html")
    before = len(log.entries(kind="export"))
    assert before == 0  # nothing made, nothing recorded, until the button is clicked
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("bytes", make()))  # as Streamlit runs deferred data
    worker.start()
    worker.join()
    entry = log.entries(kind="export")[-1]
    assert entry.user == "dr.later" and entry.details["what"] == "patient_report_html"
    assert entry.details["sha256"] == hashlib.sha256(out["bytes"]).hexdigest()


@pytest.mark.parametrize("format", ["docx", "PDF", None])
def test_an_unknown_format_is_refused_by_name(bundles, format):
    bundle = bundles("colon")
    with pytest.raises(ValueError, match=re.escape(f"must be one of 'html', 'pdf'. Got {format!r} instead.")):
        service.patient_export(bundle, _report(bundle), format=format)


def test_each_icon_array_fills_exactly_round_100_risk_icons(bundles):
    bundle = bundles("colon")
    for i in range(5):
        data = _report(bundle, i).to_dict()
        out = service.patient_export(bundle, data, format="html")
        html, text = out.decode("utf-8"), _html_text(out)
        svgs = re.findall(r"<h3>([^<]*)</h3><svg.*?</svg>", html, flags=re.S)
        blocks = re.findall(r"<svg.*?</svg>", html, flags=re.S)
        assert [a["arm"] for a in data["arms"]] == [s.replace("&#x27;", "'") for s in svgs]
        for arm, svg in zip(data["arms"], blocks):
            filled = math.floor(100 * arm["probability"] + 0.5)
            assert svg.count('class="icon filled"') == filled
            assert svg.count('class="icon empty"') == 100 - filled
            assert f"With {arm['arm']}: about {filled} out of 100 people like you" in text or filled == 0


@pytest.mark.parametrize("risk, filled, words", [(0.0, 0, "about 0 out of 100"), (0.004, 0, "fewer than 1 out of 100"),
                                                 (0.126, 13, "about 13 out of 100"), (1.0, 100, "about 100 out of 100")])
def test_the_view_counts_whole_people_and_says_so_plainly(risk, filled, words):
    report = {"summary": {"state": "clear", "best_set": ["A"]}, "outcome": {"label": "Recurrence within 5 years"},
              "arms": [{"arm": "A", "probability": risk}, {"arm": "B", "probability": 0.5}]}
    view = patient_view(report)
    assert [o.filled for o in view.options] == [filled, 50] and words in view.options[0].words
    assert "recurrence within 5 years" in view.options[0].words
    assert "conversation aid" in view.aid


def test_the_view_names_options_the_evidence_cannot_separate():
    report = {"summary": {"state": "similar", "best_set": ["A", "B"]}, "outcome": {"label": "Death"},
              "arms": [{"arm": "A", "probability": 0.3}, {"arm": "B", "probability": 0.31}]}
    assert any("cannot tell A and B apart" in n for n in patient_view(report).notes)


@pytest.mark.parametrize("risk", [-0.1, 1.2, float("nan"), True, "0.3"])
def test_a_risk_outside_zero_to_one_is_refused(risk):
    with pytest.raises(ValueError, match=r"must be a probability in the range \[0, 1\]"):
        icon_count(risk, option="A")
