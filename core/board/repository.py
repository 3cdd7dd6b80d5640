"""Reading and writing the board's records in the store (SQLAlchemy sessions over ``core.store.board_tables``).

Writes take the database's write lock for their whole transaction (``store.session(write=True)``), so two
people deciding on one case at once get versions 1 and 2, never two versions 1. Snapshots, decisions,
sign-offs and follow-ups are only ever inserted.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..store.board_tables import CaseRow, CommentRow, DecisionRow, FollowUpRow, MeetingRow, SignOffRow, SnapshotRow
from .records import Action, Attendee, BoardError, Case, Comment, Decision, FollowUp, Meeting, Snapshot, now


def canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_id() -> str:
    return uuid.uuid4().hex[:12]


# --- meetings ---------------------------------------------------------------------------------------

def _meeting(row: MeetingRow) -> Meeting:
    return Meeting(row.id, row.title, row.date, row.type, row.chair,
                   tuple(Attendee(**a) for a in json.loads(row.attendees)), tuple(json.loads(row.quorum)),
                   row.created_by, row.created_at)


def insert_meeting(store, meeting: Meeting) -> Meeting:
    with store.session(write=True) as s:
        s.add(MeetingRow(id=meeting.id, title=meeting.title, date=meeting.date, type=meeting.type, chair=meeting.chair,
                         attendees=canonical([a.to_dict() for a in meeting.attendees]),
                         quorum=canonical(list(meeting.quorum)), created_by=meeting.created_by,
                         created_at=meeting.created_at))
    return meeting


def get_meeting(store, meeting_id: str) -> Meeting:
    with store.session() as s:
        row = s.get(MeetingRow, str(meeting_id))
        if row is None:
            raise BoardError(f"No meeting with id {str(meeting_id)[:40]!r}. `equipoise board show` lists none; "
                             "create one with `equipoise board new`.")
        return _meeting(row)


def list_meetings(store) -> list[Meeting]:
    with store.session() as s:
        return [_meeting(r) for r in s.scalars(select(MeetingRow).order_by(MeetingRow.date.desc(),
                                                                          MeetingRow.created_at.desc()))]


# --- cases ------------------------------------------------------------------------------------------

def _case(row: CaseRow) -> Case:
    return Case(row.id, row.meeting_id, row.label, row.cohort, row.source, row.source_ref, json.loads(row.record),
                row.question, row.context, row.triage, row.position)


def insert_case(store, case: Case, *, by: str) -> Case:
    """Append a case at the end of its meeting's agenda; a label already on the agenda is refused."""
    try:
        with store.session(write=True) as s:
            if s.scalar(select(CaseRow.id).where(CaseRow.meeting_id == case.meeting_id, CaseRow.label == case.label)):
                raise BoardError(f"The label {case.label!r} is already on this meeting's agenda: each case needs "
                                 "its own label.")
            last = s.scalar(select(func.max(CaseRow.position)).where(CaseRow.meeting_id == case.meeting_id)) or 0
            s.add(CaseRow(id=case.id, meeting_id=case.meeting_id, label=case.label, cohort=case.cohort,
                          source=case.source, source_ref=case.source_ref, record=canonical(dict(case.record)),
                          question=case.question, context=case.context, triage=case.triage, position=last + 1,
                          created_by=by, created_at=now()))
    except IntegrityError:
        raise BoardError(f"The label {case.label!r} is already on this meeting's agenda.") from None
    return get_case(store, case.meeting_id, case.label)


def cases(store, meeting_id: str) -> list[Case]:
    with store.session() as s:
        q = select(CaseRow).where(CaseRow.meeting_id == meeting_id).order_by(CaseRow.position, CaseRow.created_at)
        return [_case(r) for r in s.scalars(q)]


def get_case(store, meeting_id: str, label: str) -> Case:
    with store.session() as s:
        row = s.scalar(select(CaseRow).where(CaseRow.meeting_id == meeting_id, CaseRow.label == str(label)))
        if row is None:
            labels = [c.label for c in cases(store, meeting_id)]
            raise BoardError(f"No case labelled {str(label)[:60]!r} in meeting {meeting_id}. On its agenda: "
                             f"{', '.join(labels) or '(no cases yet)'}.")
        return _case(row)


def reorder(store, meeting_id: str, labels: list[str]) -> list[Case]:
    """Put the agenda in the order of ``labels`` (every case's label, each once)."""
    with store.session(write=True) as s:
        rows = {r.label: r for r in s.scalars(select(CaseRow).where(CaseRow.meeting_id == meeting_id))}
        if sorted(labels) != sorted(rows):
            raise BoardError(f"A new order must list every case of the meeting once: {', '.join(sorted(rows))}. "
                             f"Got {', '.join(labels)} instead.")
        for position, label in enumerate(labels, start=1):
            rows[label].position = position
    return cases(store, meeting_id)


def set_triage(store, case: Case, triage: str) -> Case:
    with store.session(write=True) as s:
        s.get(CaseRow, case.id).triage = triage
    return get_case(store, case.meeting_id, case.label)


# --- snapshots --------------------------------------------------------------------------------------

def _snapshot(row: SnapshotRow) -> Snapshot:
    return Snapshot(row.case_id, row.report, row.report_sha256, row.bundle_id, row.bundle_sha256, row.app_version,
                    row.created_at, row.created_by)


def snapshot_of(store, case_id: str) -> Snapshot | None:
    with store.session() as s:
        row = s.scalar(select(SnapshotRow).where(SnapshotRow.case_id == case_id))
        return None if row is None else _snapshot(row)


def insert_snapshot(store, snapshot: Snapshot) -> tuple[Snapshot, bool]:
    """Freeze ``snapshot`` unless the case already has one: (the stored snapshot, whether it is new)."""
    with store.session(write=True) as s:
        row = s.scalar(select(SnapshotRow).where(SnapshotRow.case_id == snapshot.case_id))
        if row is not None:
            return _snapshot(row), False
        s.add(SnapshotRow(case_id=snapshot.case_id, report=snapshot.report_json, report_sha256=snapshot.report_sha256,
                          bundle_id=snapshot.bundle_id, bundle_sha256=snapshot.bundle_sha256,
                          app_version=snapshot.app_version, created_by=snapshot.created_by,
                          created_at=snapshot.created_at))
    return snapshot, True


# --- decisions, sign-offs, follow-ups ----------------------------------------------------------------

def _decision(row: DecisionRow, signoff: SignOffRow | None) -> Decision:
    body = json.loads(row.body)
    actions = tuple(Action(**a) for a in body.pop("actions", []))
    option = body.pop("recommendation_is_option", False)
    return Decision(case_id=row.case_id, version=row.version, actions=actions, recommendation_is_option=option,
                    alternatives=tuple(body.pop("alternatives", [])),
                    attendees_present=tuple(body.pop("attendees_present", [])), **body,
                    snapshot_sha256=row.snapshot_sha256, created_by=row.created_by, created_at=row.created_at,
                    signed_off_by=signoff.signed_by if signoff else None,
                    signed_off_at=signoff.signed_at if signoff else None)


def decisions(store, case_id: str) -> list[Decision]:
    """Every version of the case's decision, oldest first, each with its sign-off if it has one."""
    with store.session() as s:
        q = (select(DecisionRow, SignOffRow).outerjoin(SignOffRow, SignOffRow.decision_id == DecisionRow.id)
             .where(DecisionRow.case_id == case_id).order_by(DecisionRow.version))
        return [_decision(d, o) for d, o in s.execute(q)]


def insert_decision(store, decision: Decision, *, by: str) -> Decision:
    """Store ``decision`` as the case's next version (1 for the first)."""
    body = canonical({**decision.body(), "recommendation_is_option": decision.recommendation_is_option})
    with store.session(write=True) as s:
        last = s.scalar(select(func.max(DecisionRow.version)).where(DecisionRow.case_id == decision.case_id)) or 0
        s.add(DecisionRow(case_id=decision.case_id, version=last + 1, body=body, body_sha256=sha256(body),
                          snapshot_sha256=decision.snapshot_sha256, created_by=by, created_at=now()))
    return decisions(store, decision.case_id)[-1]


def _decision_row(s, case_id: str, version: int) -> DecisionRow:
    row = s.scalar(select(DecisionRow).where(DecisionRow.case_id == case_id, DecisionRow.version == version))
    if row is None:
        raise BoardError(f"This case has no decision version {version}.")
    return row


def insert_signoff(store, case_id: str, version: int, *, by: str) -> Decision:
    with store.session(write=True) as s:
        row = _decision_row(s, case_id, version)
        if s.scalar(select(SignOffRow.id).where(SignOffRow.decision_id == row.id)):
            raise BoardError(f"Decision version {version} is already signed off; a change is a new version.")
        s.add(SignOffRow(decision_id=row.id, signed_by=by, signed_at=now()))
    return next(d for d in decisions(store, case_id) if d.version == version)


def insert_followup(store, case_id: str, version: int, *, implemented: bool, reason: str, by: str) -> FollowUp:
    at = now()
    with store.session(write=True) as s:
        row = _decision_row(s, case_id, version)
        s.add(FollowUpRow(decision_id=row.id, implemented=implemented, reason=reason, created_by=by, created_at=at))
    return FollowUp(case_id, version, implemented, reason, by, at)


def followups(store, case_id: str) -> list[FollowUp]:
    with store.session() as s:
        q = (select(FollowUpRow, DecisionRow.version).join(DecisionRow, DecisionRow.id == FollowUpRow.decision_id)
             .where(DecisionRow.case_id == case_id).order_by(FollowUpRow.id))
        return [FollowUp(case_id, v, bool(f.implemented), f.reason, f.created_by, f.created_at) for f, v in s.execute(q)]


def insert_comment(store, case_id: str, text: str, *, by: str) -> Comment:
    at = now()
    with store.session(write=True) as s:
        s.add(CommentRow(case_id=case_id, text=text, created_by=by, created_at=at))
    return Comment(case_id, text, by, at)


def comments(store, case_id: str) -> list[Comment]:
    with store.session() as s:
        q = select(CommentRow).where(CommentRow.case_id == case_id).order_by(CommentRow.id)
        return [Comment(case_id, c.text, c.created_by, c.created_at) for c in s.scalars(q)]
