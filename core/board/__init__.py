"""Tumor-board mode: meetings and their agenda, the snapshot frozen when a case is presented, decision
versions signed off by the chair, follow-ups, and the meeting's report (HTML and PDF).

The value objects live in :mod:`.records` and :mod:`.agenda`, the record-integrity rules (labels, explicit and
consistent decisions) in :mod:`.rules`, the store access in :mod:`.repository`, the
report in :mod:`.content` (texts and static charts) with :mod:`.report_html` and :mod:`.report_pdf`.
Pages and the CLI reach all of it through :mod:`core.service` (:mod:`core.service.board`).
"""

from .agenda import CaseRecord, CsvImport, MeetingRecord, Presentation, RefusedRow, csv_rows
from .content import FOOTER
from .records import (CSV_ROW, DECISION_KEYS, FORM, FULL_DISCUSSION, SOURCES, STANDARD_OF_CARE, TEST_PATIENT, TRIAGE,
                      TRIAGE_WORDS, Action, Attendee, BoardError, Case, Comment, Decision, FollowUp, Meeting, Snapshot, iso_date,
                      parse_attendees, parse_decision, text_field)
from .report_html import report_html
from .report_pdf import report_pdf
from .rules import case_label, checked_decision, default_label

__all__ = [
    "CSV_ROW", "DECISION_KEYS", "FOOTER", "FORM", "FULL_DISCUSSION", "SOURCES", "STANDARD_OF_CARE", "TEST_PATIENT",
    "TRIAGE", "TRIAGE_WORDS", "Action", "Attendee", "BoardError", "Case", "CaseRecord", "Comment", "CsvImport", "Decision",
    "FollowUp", "Meeting", "MeetingRecord", "Presentation", "RefusedRow", "Snapshot", "csv_rows", "iso_date",
    "case_label", "checked_decision", "default_label", "parse_attendees", "parse_decision", "report_html", "report_pdf",
    "text_field",
]
