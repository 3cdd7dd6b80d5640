"""Tumor-board tables: meetings, their cases, the snapshot frozen when a case is presented, decision
versions, chair sign-offs and follow-ups.

Meetings and cases may change (a case's place on the agenda, its triage). Snapshots, decisions, sign-offs,
follow-ups and comments are append-only (migration 0002 adds triggers that refuse UPDATE and DELETE, as for the
audit log): a changed decision is a new version, never an overwrite. JSON is kept as the exact text
that was written, so a stored snapshot stays byte-identical.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base

APPEND_ONLY = ("board_snapshots", "board_decisions", "board_signoffs", "board_followups", "board_comments")


class MeetingRow(Base):
    """One meeting: ``attendees`` and ``quorum`` are JSON text."""

    __tablename__ = "board_meetings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    date: Mapped[str] = mapped_column(String(10), index=True)
    type: Mapped[str] = mapped_column(String(100))
    chair: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[str] = mapped_column(Text)
    quorum: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[str] = mapped_column(String(32))


class CaseRow(Base):
    """One case on a meeting's agenda; ``record`` is the patient's inputs as JSON text."""

    __tablename__ = "board_cases"
    __table_args__ = (UniqueConstraint("meeting_id", "label", name="board_cases_label_once"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("board_meetings.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    cohort: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(32))
    source_ref: Mapped[str] = mapped_column(String(300))
    record: Mapped[str] = mapped_column(Text)
    question: Mapped[str] = mapped_column(Text)
    context: Mapped[str] = mapped_column(Text)
    triage: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[str] = mapped_column(String(32))


class SnapshotRow(Base):
    """What was shown when the case was presented, frozen: the full report JSON and the model it came from."""

    __tablename__ = "board_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("board_cases.id"), unique=True)
    report: Mapped[str] = mapped_column(Text)
    report_sha256: Mapped[str] = mapped_column(String(64))
    bundle_id: Mapped[str] = mapped_column(String(128))
    bundle_sha256: Mapped[str] = mapped_column(String(64))
    app_version: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[str] = mapped_column(String(32))


class DecisionRow(Base):
    """One version of the board's decision on a case; ``body`` is the decision as JSON text."""

    __tablename__ = "board_decisions"
    __table_args__ = (UniqueConstraint("case_id", "version", name="board_decisions_version_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("board_cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[str] = mapped_column(String(32))


class SignOffRow(Base):
    """The chair's sign-off of one decision version (once per version)."""

    __tablename__ = "board_signoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("board_decisions.id"), unique=True)
    signed_by: Mapped[str] = mapped_column(String(256))
    signed_at: Mapped[str] = mapped_column(String(32))


class FollowUpRow(Base):
    """Later: was the decision (a given version) implemented, and if not, why."""

    __tablename__ = "board_followups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("board_decisions.id"), index=True)
    implemented: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[str] = mapped_column(String(32))


class CommentRow(Base):
    """A board member's comment on a case (members view and comment; the chair signs off)."""

    __tablename__ = "board_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("board_cases.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[str] = mapped_column(String(32))
