"""Tumor-board service functions (re-exported by :mod:`core.service`): meetings, agenda, presenting with a
frozen snapshot, decision versions, the chair's sign-off, follow-up and the meeting's report.

Every action is stored in the store and handed to the observers (:func:`core._observers._shown`), so with a
log context it is committed to the audit log before it is returned. The store is the one the current
log context writes to (else the default store), so the board's records and their log entries live together.
Roles: board chairs and members may create, present and decide; only a chair signs off.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, NamedTuple

from .. import __version__
from .._errors import EquipoiseError, PatientValidationError
from .._json import jsonable
from .._observers import (BOARD_CASE, BOARD_COMMENT, BOARD_DECISION, BOARD_FOLLOWUP, BOARD_MEETING, BOARD_SIGNOFF, BOARD_SNAPSHOT,
                         BOARD_VIEW, _shown)
from ..audit import current_context
from ..auth import local_identity
from ..board import (CSV_ROW, FORM, TRIAGE, BoardError, Case, CaseRecord, CsvImport, Meeting, MeetingRecord,
                     Presentation, RefusedRow, Snapshot, case_label, checked_decision, csv_rows, iso_date,
                     parse_attendees, report_html, report_pdf, text_field)
from ..board import repository as repo
from ..board.rules import (CHAIR_ROLE, MEMBER_ROLES, check_sign_off, check_source, check_triage,  # noqa: F401
                           default_label, may_sign_off, require_role)
from ..data import limits
from .bundles import bundle_path, bundle_status, open_bundle
from .log import record_export
from .patients import predict, validate
from .stores import current_store



class _Model(NamedTuple):
    """A bundle's identity (for the log entry of a frozen snapshot, whose bundle may no longer be on disk)."""

    bundle_id: str
    sha256: str


def board_store(store=None):
    """The store the board writes to: ``store``, else the current audit-log context's, else the default one."""
    return current_store(store)


def _who(by, *roles: str) -> str:
    """The acting person's name, if they hold one of ``roles``. Without ``by``: local mode's user, named as
    the current log context names them (the CLI's ``--user``)."""
    identity = by
    if identity is None:
        ctx = current_context()
        identity = local_identity() if ctx is None else replace(local_identity(), user=ctx.user)
    return require_role(identity, *roles)


def _details(case: Case, action: str, **more) -> dict:
    return {"action": action, "meeting": case.meeting_id, "case": case.label, **more}


# --- meetings and agenda -------------------------------------------------------------------------------

def new_meeting(*, title: str, date, type: str = "MDT", chair: str = "", attendees=(), quorum=(), by=None,
                store=None) -> Meeting:
    """Create a meeting (date YYYY-MM-DD; attendees as 'Name:Specialty'; quorum: the specialties it needs)."""
    user = _who(by, *MEMBER_ROLES)
    meeting = Meeting(repo.new_id(), text_field("title", title, required=True, limit=200), iso_date("date", date),
                      text_field("type", type, limit=100) or "MDT", text_field("chair", chair, limit=200) or user,
                      parse_attendees(attendees),
                      tuple(text_field("quorum", q, required=True, limit=100) for q in quorum or ()),
                      user, repo.now())
    repo.insert_meeting(board_store(store), meeting)
    return _shown(BOARD_MEETING, None, meeting, details={"action": "create", "meeting": meeting.id})


def meetings(*, store=None) -> list[Meeting]:
    """Every meeting, newest first."""
    return _shown(BOARD_VIEW, None, repo.list_meetings(board_store(store)), details={"action": "list"})


def _checked_case(meeting_id: str, bundle, record: Mapping[str, Any], *, label, source, source_ref, question,
                  context, triage) -> Case:
    check_source(source)
    check_triage(triage)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # implausible values are warned about when the case is presented
        validate(bundle, record)  # raises PatientValidationError naming every bad field
    features = set(bundle.spec.feature_names)
    label = case_label(text_field("label", label, limit=200), cohort=bundle.spec.name, source=source,
                       source_ref=source_ref)
    return Case(repo.new_id(), meeting_id, text_field("label", label, required=True, limit=200), bundle.spec.name,
                source, text_field("source", source_ref, limit=300),
                jsonable({k: v for k, v in record.items() if k in features}),
                text_field("question", question), text_field("context", context), triage)


def add_case(meeting_id: str, bundle, record: Mapping[str, Any], *, label: str = "", source: str = FORM,
             source_ref: str = "", question: str = "", context: str = "", triage: str = TRIAGE[0], by=None,
             store=None) -> Case:
    """Put one patient on the agenda (at its end); the record is validated against the bundle's cohort first.
    Without a ``label``, the case is named after the patient chosen (:func:`core.board.rules.default_label`)."""
    user, store = _who(by, *MEMBER_ROLES), board_store(store)
    repo.get_meeting(store, meeting_id)
    case = repo.insert_case(store, _checked_case(meeting_id, bundle, record, label=label, source=source,
                                                 source_ref=source_ref, question=question, context=context,
                                                 triage=triage), by=user)
    return _shown(BOARD_CASE, None, case, record=case.record, details=_details(case, "add", source=source))


def add_cases_from_csv(meeting_id: str, bundle, data: bytes, *, label_column: str, name: str = "CSV",
                       question: str = "", context_column: str | None = None, triage: str = TRIAGE[0], by=None,
                       store=None) -> CsvImport:
    """Every row of a CSV becomes a case (labelled by ``label_column``) or is refused with its errors."""
    _who(by, *MEMBER_ROLES)
    rows = limits.parse_csv(data, f"The CSV {name}").to_dict("records")

    def check(record: dict) -> list[str]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                validate(bundle, record)
        except PatientValidationError as exc:
            return [e.message for e in exc.errors]
        return []

    good, refused = csv_rows(rows, label_column=label_column, features=bundle.spec.feature_names, check=check)
    added = []
    for row, label, record in good:
        context = rows[row - 1].get(context_column) if context_column else ""
        try:
            added.append(add_case(meeting_id, bundle, record, label=label, source=CSV_ROW,
                                  source_ref=f"row {row} of {name}", question=question,
                                  context="" if context is None or context != context else str(context),
                                  triage=triage, by=by, store=store))
        except EquipoiseError as exc:  # e.g. the label is already on the agenda
            refused.append(RefusedRow(row, label, (str(exc),)))
    result = CsvImport(tuple(added), tuple(sorted(refused, key=lambda r: r.row)))
    return _shown(BOARD_CASE, None, result, details={"action": "csv", "meeting": meeting_id,
                                                     "added": len(added), "refused": len(result.refused)})


def reorder_cases(meeting_id: str, labels: list[str], *, by=None, store=None) -> list[Case]:
    """Put the agenda in the order of ``labels`` (each case's label once)."""
    _who(by, *MEMBER_ROLES)
    result = repo.reorder(board_store(store), meeting_id, [str(x) for x in labels])
    return _shown(BOARD_CASE, None, result, details={"action": "reorder", "meeting": meeting_id})


def set_triage(meeting_id: str, label: str, triage: str, *, by=None, store=None) -> Case:
    """Route a case to full discussion or standard of care."""
    _who(by, *MEMBER_ROLES)
    check_triage(triage)
    store = board_store(store)
    case = repo.set_triage(store, repo.get_case(store, meeting_id, label), triage)
    return _shown(BOARD_CASE, None, case, record=case.record, details=_details(case, "triage", triage=triage))


# --- presenting ------------------------------------------------------------------------------------------

def _current_bundle(case: Case, bundle):
    if bundle is not None and bundle.spec.name == case.cohort:
        return bundle, ""
    try:
        return open_bundle(bundle_path(case.cohort)), ""
    except EquipoiseError as exc:
        return None, f"The current {case.cohort} model could not be loaded: {exc}"


def _report(bundle, record) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the warnings are in the report
        return jsonable(predict(bundle, record).to_dict())


def present(meeting_id: str, label: str, *, bundle=None, by=None, store=None) -> Presentation:
    """Show a case. The first time, the full report is frozen (with the bundle's id and sha256, the app
    version and the time); afterwards exactly that snapshot is shown. If the cohort's current model differs
    from the frozen one, the current estimate is offered beside it, labelled."""
    user, store = _who(by, *MEMBER_ROLES), board_store(store)
    case = repo.get_case(store, meeting_id, label)
    snapshot = repo.snapshot_of(store, case.id)
    current_bundle, problem = _current_bundle(case, bundle)
    frozen_now = False
    if snapshot is None:
        if current_bundle is None:
            raise BoardError(problem + " The case cannot be presented without it.")
        text = repo.canonical(_report(current_bundle, case.record))
        snapshot, frozen_now = repo.insert_snapshot(store, Snapshot(
            case.id, text, repo.sha256(text), current_bundle.bundle_id, current_bundle.sha256, __version__,
            repo.now(), user))
    changed, current, note = False, None, problem
    if current_bundle is not None and current_bundle.sha256 != snapshot.bundle_sha256:
        changed, current = True, _report(current_bundle, case.record)
        note = (f"The {case.cohort} model has changed since this case was presented: frozen bundle "
                f"{snapshot.bundle_id}, current bundle {current_bundle.bundle_id}. The frozen snapshot is what the "
                "board saw; the current estimate is shown beside it for comparison only.")
    result = Presentation(case, snapshot, frozen_now, changed, current_bundle and current_bundle.bundle_id, current,
                          note)
    return _shown(BOARD_SNAPSHOT, _Model(snapshot.bundle_id, snapshot.bundle_sha256), result, record=case.record,
                  details=_details(case, "present", frozen_now=frozen_now, model_changed=changed,
                                   snapshot_sha256=snapshot.report_sha256))


# --- decisions ------------------------------------------------------------------------------------------

def decide(meeting_id: str, label: str, decision: Mapping[str, Any], *, by=None, store=None):
    """Record the board's decision on a presented case as its next version (never overwriting an earlier one)."""
    user, store = _who(by, *MEMBER_ROLES), board_store(store)
    case = repo.get_case(store, meeting_id, label)
    snapshot = repo.snapshot_of(store, case.id)
    if snapshot is None:
        raise BoardError(f"Case {case.label!r} has not been presented yet: present it first, so the decision "
                         "refers to the frozen snapshot the board saw.")
    parsed = checked_decision(decision, case_id=case.id, snapshot_report=snapshot.report)
    stored = repo.insert_decision(store, replace(parsed, snapshot_sha256=snapshot.report_sha256), by=user)
    return _shown(BOARD_DECISION, _Model(snapshot.bundle_id, snapshot.bundle_sha256), stored, record=case.record,
                  details=_details(case, "decide", version=stored.version, agrees_with_model=stored.agrees_with_model))


def sign_off(meeting_id: str, label: str, *, version: int | None = None, by=None, store=None):
    """The meeting's chair signs off a decision version (default: the latest). A later change is a new
    version. Only the chair named on the meeting (by sign-in name) may: another board chair may not."""
    user, store = _who(by, CHAIR_ROLE), board_store(store)
    check_sign_off(repo.get_meeting(store, meeting_id), user)
    case = repo.get_case(store, meeting_id, label)
    versions = repo.decisions(store, case.id)
    if not versions:
        raise BoardError(f"Case {case.label!r} has no decision to sign off yet.")
    signed = repo.insert_signoff(store, case.id, int(version or versions[-1].version), by=user)
    return _shown(BOARD_SIGNOFF, None, signed, record=case.record,
                  details=_details(case, "sign_off", version=signed.version))


def follow_up(meeting_id: str, label: str, *, implemented: bool, reason: str = "", by=None, store=None):
    """Later: was the latest signed-off decision implemented? If not, the reason is required."""
    user, store = _who(by, *MEMBER_ROLES), board_store(store)
    case = repo.get_case(store, meeting_id, label)
    signed = [d for d in repo.decisions(store, case.id) if d.signed_off]
    if not signed:
        raise BoardError(f"Case {case.label!r} has no signed-off decision to follow up.")
    if not isinstance(implemented, bool):
        raise BoardError(f"'implemented' must be true or false. Got {implemented!r} instead.")
    reason = text_field("reason", reason, required=not implemented)
    result = repo.insert_followup(store, case.id, signed[-1].version, implemented=implemented, reason=reason, by=user)
    return _shown(BOARD_FOLLOWUP, None, result, record=case.record,
                  details=_details(case, "follow_up", version=result.decision_version, implemented=implemented))


def comment(meeting_id: str, label: str, text: str, *, by=None, store=None):
    """A board member's (or the chair's) comment on a case; comments are never changed or removed."""
    user, store = _who(by, *MEMBER_ROLES), board_store(store)
    case = repo.get_case(store, meeting_id, label)
    result = repo.insert_comment(store, case.id, text_field("comment", text, required=True), by=user)
    return _shown(BOARD_COMMENT, None, result, record=case.record, details=_details(case, "comment"))


# --- reading and reporting ---------------------------------------------------------------------------

def _case_record(store, case: Case) -> CaseRecord:
    return CaseRecord(case, repo.snapshot_of(store, case.id), tuple(repo.decisions(store, case.id)),
                      tuple(repo.followups(store, case.id)), tuple(repo.comments(store, case.id)))


def meeting_record(meeting_id: str, *, store=None) -> MeetingRecord:
    """The meeting, its agenda in order, each case's snapshot, decision versions and follow-ups."""
    store = board_store(store)
    meeting = repo.get_meeting(store, meeting_id)
    result = MeetingRecord(meeting, tuple(_case_record(store, c) for c in repo.cases(store, meeting_id)))
    return _shown(BOARD_VIEW, None, result, details={"action": "view", "meeting": meeting_id})


def board_export(meeting_id: str, *, format: str, case: str | None = None, store=None) -> bytes:
    """The meeting's report (or one case's) as ``html`` or ``pdf`` bytes; the export is logged before it
    is returned. A snapshot whose model has since been replaced says so."""
    if format not in ("html", "pdf"):
        raise BoardError(f"The report format must be html or pdf. Got {str(format)[:20]!r} instead.")
    store = board_store(store)
    record = MeetingRecord(repo.get_meeting(store, meeting_id),
                           tuple(_case_record(store, c) for c in repo.cases(store, meeting_id)
                                 if case is None or c.label == case))
    if case is not None and not record.cases:
        repo.get_case(store, meeting_id, case)  # raises, naming the cases on the agenda
    current = {}
    for c in record.cases:
        if c.case.cohort not in current:
            bundle, _ = _current_bundle(c.case, None) if bundle_status(c.case.cohort).state == "ready" else (None, "")
            current[c.case.cohort] = bundle and _Model(bundle.bundle_id, bundle.sha256)
    content = (report_pdf if format == "pdf" else report_html)(record, current_models=current)
    record_export(f"board_report_{format}", content=content, details={"meeting": meeting_id, "case": case,
                                                                      "cases": len(record.cases)})
    return content
