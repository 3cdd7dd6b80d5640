"""Trainee mode in the store: sessions, their cases and the append-only answer rows (never updated or deleted).

Pure persistence: the order of answers is checked by :mod:`core.training.sessions` before anything is appended.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..store.training_tables import TrainingAnswerRow, TrainingCaseRow, TrainingSessionRow
from .cases import SessionSettings, TrainingCase
from .sessions import TrainingError, TrainingSession


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def insert_session(store, session: TrainingSession, cohort: str, cases: list[TrainingCase]) -> None:
    with store.session(write=True) as db:
        db.add(TrainingSessionRow(id=session.id, created=session.created, created_by=session.created_by,
                                  cohort=cohort, kind=session.kind, bundle_id=session.bundle_id,
                                  settings=json.dumps(session.settings.to_dict())))
        db.flush()
        db.add_all([TrainingCaseRow(session_id=session.id, case_no=c.case, body=json.dumps(c.to_dict()))
                    for c in cases])


def get_session(store, session_id: str) -> TrainingSession:
    with store.session() as db:
        row = db.get(TrainingSessionRow, str(session_id))
        if row is None:
            raise TrainingError(f"There is no training session {session_id!r}. See `equipoise training sessions`.")
        return TrainingSession(row.id, SessionSettings(**json.loads(row.settings)), row.kind, row.bundle_id,
                               row.created, row.created_by)


def session_ids(store) -> list[str]:
    with store.session() as db:
        return list(db.scalars(select(TrainingSessionRow.id).order_by(TrainingSessionRow.created)).all())


def cases(store, session_id: str) -> list[TrainingCase]:
    with store.session() as db:
        rows = db.scalars(select(TrainingCaseRow).where(TrainingCaseRow.session_id == session_id)
                          .order_by(TrainingCaseRow.case_no)).all()
        return [TrainingCase.from_dict(json.loads(r.body)) for r in rows]


def answers(store, session_id: str, trainee: str | None) -> dict:
    """{(trainee, case, stage): row} of a session (one trainee, or all)."""
    query = select(TrainingAnswerRow).where(TrainingAnswerRow.session_id == session_id)
    if trainee is not None:
        query = query.where(TrainingAnswerRow.trainee == trainee)
    with store.session() as db:
        return {(r.trainee, r.case_no, r.stage): r for r in db.scalars(query.order_by(TrainingAnswerRow.id)).all()}


def append_answer(store, session_id: str, trainee: str, case_no: int, stage: str, value=None,
                  confidence=None) -> None:
    """A new answer row; a second answer for the same case and stage is refused (answers are never changed)."""
    try:
        with store.session(write=True) as db:
            db.add(TrainingAnswerRow(session_id=session_id, trainee=trainee, case_no=case_no, stage=stage,
                                     value=value, confidence=confidence, time=now()))
    except IntegrityError:
        raise TrainingError(f"Case {case_no} already has its {stage} answer from {trainee!r}: an answer is "
                            "recorded once and never changed.") from None
