"""Trainee-mode tables: sessions, their cases, and every answer — all append-only (migration 0003's triggers
refuse UPDATE and DELETE on SQLite and PostgreSQL). An answer is one row per (session, trainee, case,
stage); giving it again is refused by the unique constraint, so an answer is never overwritten.

Stages of a case, in order: ``initial`` (answer and confidence, before any advice in the decide-first
condition), ``advice`` (the moment the advice was released), ``final``. Consent is stage ``consent`` of case 0.
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base

CONSENT, INITIAL, ADVICE, FINAL = "consent", "initial", "advice", "final"
STAGES = (CONSENT, INITIAL, ADVICE, FINAL)
TRAINING_TABLES = ("training_sessions", "training_cases", "training_answers")


class TrainingSessionRow(Base):
    """One session as the instructor created it: settings JSON (cohort, cases, share, seed, condition, display)."""

    __tablename__ = "training_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(256))
    cohort: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    bundle_id: Mapped[str] = mapped_column(String(128))
    settings: Mapped[str] = mapped_column(Text)


class TrainingCaseRow(Base):
    """One case of a session: its TrainingCase JSON (inputs, truth, model and shown advice, manipulation)."""

    __tablename__ = "training_cases"

    session_id: Mapped[str] = mapped_column(String(32), ForeignKey("training_sessions.id"), primary_key=True)
    case_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    body: Mapped[str] = mapped_column(Text)


class TrainingAnswerRow(Base):
    """One stage of one case for one trainee, with its time (UTC ISO 8601)."""

    __tablename__ = "training_answers"
    __table_args__ = (UniqueConstraint("session_id", "trainee", "case_no", "stage", name="training_answer_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(32), ForeignKey("training_sessions.id"), index=True)
    trainee: Mapped[str] = mapped_column(String(256))
    case_no: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    confidence: Mapped[float | None] = mapped_column(Float)
    time: Mapped[str] = mapped_column(String(32))
