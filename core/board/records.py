"""The tumor board's records as small frozen value objects: a meeting, a case on its agenda, the snapshot
frozen when the case was presented, a decision version (with its sign-off), a follow-up.

Each has ``to_dict()``; the parsing helpers (:func:`parse_decision`, :func:`parse_attendees`) refuse bad
input with a :class:`BoardError` that names the field, what arrived and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._errors import EquipoiseError

FULL_DISCUSSION, STANDARD_OF_CARE = "full_discussion", "standard_of_care"
TRIAGE = (FULL_DISCUSSION, STANDARD_OF_CARE)
TRIAGE_WORDS = {FULL_DISCUSSION: "full discussion", STANDARD_OF_CARE: "standard of care"}
TEST_PATIENT, FORM, CSV_ROW = "test_patient", "form", "csv_row"
SOURCES = (TEST_PATIENT, FORM, CSV_ROW)
MAX_TEXT = 10_000  # characters in any one free-text field

DECISION_KEYS = {  # key: (type, required)
    "recommendation": (str, True), "alternatives": (list, False), "rationale": (str, True),
    "guideline_concordant": (bool, False), "guideline_note": (str, False), "agrees_with_model": (bool, True),
    "disagreement_reason": (str, False), "agreement_note": (str, False), "dissent": (str, False),
    "trial_eligible": (bool, False), "actions": (list, False), "attendees_present": (list, False),
}
MSG_UNKNOWN_KEY = "The decision has an unknown key {key!r}. Allowed keys: {allowed}."
MSG_MISSING_KEY = "The decision needs the key {key!r} ({what})."
MSG_TYPE = "The decision's {key!r} must be {what}. Got {got!r} instead."
MSG_REASON = ("The decision says it does not agree with the model's summary: 'disagreement_reason' must say why "
              "(a non-empty text).")
MSG_GUIDELINE = "The decision is not guideline-concordant: 'guideline_note' must say why (a non-empty text)."
WHAT = {str: "a non-empty text", bool: "true or false", list: "a list"}


class BoardError(EquipoiseError, ValueError):
    """A tumor-board request that cannot be carried out: bad input, an unknown meeting or case, a role missing."""


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def text_field(name: str, value, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    """A free-text field, stripped; refused if required and empty, or longer than ``limit`` characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BoardError(f"The {name!r} field must be a text. Got {type(value).__name__} {value!r:.40} instead.")
    value = value.strip()
    if required and not value:
        raise BoardError(f"The {name!r} field must not be empty.")
    if len(value) > limit:
        raise BoardError(f"The {name!r} field may hold at most {limit:,} characters. Got {len(value):,} instead.")
    return value


def iso_date(name: str, value) -> str:
    """A calendar date as YYYY-MM-DD."""
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise BoardError(f"The {name!r} field must be a date as YYYY-MM-DD. Got {str(value)[:40]!r} instead.") from None


@dataclass(frozen=True)
class Attendee:
    name: str
    specialty: str

    def to_dict(self) -> dict:
        return {"name": self.name, "specialty": self.specialty}


def parse_attendees(items) -> tuple[Attendee, ...]:
    """Attendees from ``"Name:Specialty"`` texts, ``{name, specialty}`` mappings or :class:`Attendee` objects."""
    out = []
    for i, item in enumerate(items or ()):
        if isinstance(item, Attendee):
            out.append(item)
            continue
        if isinstance(item, Mapping):
            name, specialty = item.get("name"), item.get("specialty")
        elif isinstance(item, str) and ":" in item:
            name, specialty = item.split(":", 1)
        else:
            raise BoardError(f"Attendee {i + 1} must be 'Name:Specialty' (e.g. 'Dr Ada Lovelace:oncology'). "
                             f"Got {str(item)[:60]!r} instead.")
        out.append(Attendee(text_field("attendee name", name, required=True, limit=200),
                            text_field("attendee specialty", specialty, required=True, limit=100)))
    return tuple(out)


@dataclass(frozen=True)
class Meeting:
    """A meeting: its date, type, chair, attendees (with specialty) and the specialties its quorum needs."""

    id: str
    title: str
    date: str
    type: str
    chair: str
    attendees: tuple[Attendee, ...] = ()
    quorum: tuple[str, ...] = ()
    created_by: str = ""
    created_at: str = ""

    @property
    def missing_for_quorum(self) -> tuple[str, ...]:
        present = {a.specialty.casefold() for a in self.attendees}
        return tuple(q for q in self.quorum if q.casefold() not in present)

    @property
    def quorate(self) -> bool:
        return not self.missing_for_quorum

    def quorum_text(self) -> str:
        if not self.quorum:
            return "No quorum set for this meeting."
        if self.quorate:
            return f"Quorum met ({', '.join(self.quorum)})."
        return f"Quorum not met: no attendee for {', '.join(self.missing_for_quorum)}."

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "date": self.date, "type": self.type, "chair": self.chair,
                "attendees": [a.to_dict() for a in self.attendees], "quorum": list(self.quorum),
                "quorate": self.quorate, "quorum_text": self.quorum_text(), "created_by": self.created_by,
                "created_at": self.created_at}


@dataclass(frozen=True)
class Case:
    """One case on the agenda: where it came from, the question put to the board, the clinical context (free
    text), the triage route and its place in the agenda (1 first)."""

    id: str
    meeting_id: str
    label: str
    cohort: str
    source: str
    source_ref: str
    record: Mapping[str, Any]
    question: str = ""
    context: str = ""
    triage: str = FULL_DISCUSSION
    position: int = 0

    def to_dict(self) -> dict:
        return {"id": self.id, "meeting_id": self.meeting_id, "label": self.label, "cohort": self.cohort,
                "source": self.source, "source_ref": self.source_ref, "record": dict(self.record),
                "question": self.question, "context": self.context, "triage": self.triage,
                "triage_text": TRIAGE_WORDS[self.triage], "position": self.position}


@dataclass(frozen=True)
class Snapshot:
    """What was shown when the case was presented: the report JSON exactly as stored, the bundle it came from
    (id and sha256), the app version and the time."""

    case_id: str
    report_json: str = field(repr=False)
    report_sha256: str
    bundle_id: str
    bundle_sha256: str
    app_version: str
    created_at: str
    created_by: str = ""

    @property
    def report(self) -> dict:
        return json.loads(self.report_json)

    def to_dict(self) -> dict:
        return {"case_id": self.case_id, "report": self.report, "report_sha256": self.report_sha256,
                "bundle_id": self.bundle_id, "bundle_sha256": self.bundle_sha256, "app_version": self.app_version,
                "created_at": self.created_at, "created_by": self.created_by}


@dataclass(frozen=True)
class Action:
    action: str
    owner: str
    due: str

    def to_dict(self) -> dict:
        return {"action": self.action, "owner": self.owner, "due": self.due}


@dataclass(frozen=True)
class Decision:
    """One version of the board's decision. ``recommendation`` is one of the options the model compared or
    another treatment in words (``recommendation_is_option`` says which); ``signed_off_by`` is set once the
    chair has signed this version off."""

    case_id: str
    version: int
    recommendation: str
    rationale: str
    agrees_with_model: bool
    recommendation_is_option: bool = False
    alternatives: tuple[str, ...] = ()
    guideline_concordant: bool | None = None
    guideline_note: str = ""
    disagreement_reason: str = ""
    agreement_note: str = ""
    dissent: str = ""
    trial_eligible: bool | None = None
    actions: tuple[Action, ...] = ()
    attendees_present: tuple[str, ...] = ()
    snapshot_sha256: str | None = None
    created_by: str = ""
    created_at: str = ""
    signed_off_by: str | None = None
    signed_off_at: str | None = None

    @property
    def signed_off(self) -> bool:
        return self.signed_off_by is not None

    def body(self) -> dict:
        """The decision as entered (the JSON the CLI accepts), stored as the version's body."""
        return {"recommendation": self.recommendation, "alternatives": list(self.alternatives),
                "rationale": self.rationale, "guideline_concordant": self.guideline_concordant,
                "guideline_note": self.guideline_note, "agrees_with_model": self.agrees_with_model,
                "disagreement_reason": self.disagreement_reason, "agreement_note": self.agreement_note,
                "dissent": self.dissent,
                "trial_eligible": self.trial_eligible, "actions": [a.to_dict() for a in self.actions],
                "attendees_present": list(self.attendees_present)}

    def to_dict(self) -> dict:
        return {"case_id": self.case_id, "version": self.version, **self.body(),
                "recommendation_is_option": self.recommendation_is_option, "snapshot_sha256": self.snapshot_sha256,
                "created_by": self.created_by, "created_at": self.created_at, "signed_off": self.signed_off,
                "signed_off_by": self.signed_off_by, "signed_off_at": self.signed_off_at}


@dataclass(frozen=True)
class FollowUp:
    """Whether a decision version was implemented and, if not, why (patient preference is the commonest)."""

    case_id: str
    decision_version: int
    implemented: bool
    reason: str
    created_by: str = ""
    created_at: str = ""

    def to_dict(self) -> dict:
        return {"case_id": self.case_id, "decision_version": self.decision_version, "implemented": self.implemented,
                "reason": self.reason, "created_by": self.created_by, "created_at": self.created_at}


@dataclass(frozen=True)
class Comment:
    """A board member's comment on a case."""

    case_id: str
    text: str
    created_by: str = ""
    created_at: str = ""

    def to_dict(self) -> dict:
        return {"case_id": self.case_id, "text": self.text, "created_by": self.created_by, "created_at": self.created_at}


def _typed(key: str, value, kind: type):
    if kind is bool and not isinstance(value, bool):
        raise BoardError(MSG_TYPE.format(key=key, what=WHAT[bool], got=value))
    if kind is list and not isinstance(value, (list, tuple)):
        raise BoardError(MSG_TYPE.format(key=key, what=WHAT[list], got=value))
    if kind is str:
        return text_field(key, value, required=False)
    return value


def _texts(key: str, items) -> tuple[str, ...]:
    return tuple(t for t in (text_field(f"{key}[{i}]", v, limit=500) for i, v in enumerate(items)) if t)


def _actions(items) -> tuple[Action, ...]:
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or set(item) - {"action", "owner", "due"}:
            raise BoardError(f"The decision's actions[{i}] must be an object with the keys 'action', 'owner' and "
                             f"'due' (YYYY-MM-DD). Got {str(item)[:80]!r} instead.")
        out.append(Action(text_field(f"actions[{i}].action", item.get("action"), required=True, limit=500),
                          text_field(f"actions[{i}].owner", item.get("owner"), required=True, limit=200),
                          iso_date(f"actions[{i}].due", item.get("due"))))
    return tuple(out)


def parse_decision(data: Mapping[str, Any], *, case_id: str = "", options=()) -> Decision:
    """A decision from its JSON (the keys of :data:`DECISION_KEYS`); unknown keys, a missing required key, a
    wrong type and a disagreement or a non-concordance without its reason are refused, naming the key."""
    if not isinstance(data, Mapping):
        raise BoardError(f"A decision must be one JSON object. Got {type(data).__name__} instead.")
    for key in data:
        if key not in DECISION_KEYS:
            raise BoardError(MSG_UNKNOWN_KEY.format(key=key, allowed=", ".join(DECISION_KEYS)))
    values = {}
    for key, (kind, required) in DECISION_KEYS.items():
        value = data.get(key)
        if value is None or (kind is str and isinstance(value, str) and not value.strip()):
            if required:
                raise BoardError(MSG_MISSING_KEY.format(key=key, what=WHAT[kind]))
            continue
        values[key] = _typed(key, value, kind)
    if not values["agrees_with_model"] and not values.get("disagreement_reason"):
        raise BoardError(MSG_REASON)
    if values.get("guideline_concordant") is False and not values.get("guideline_note"):
        raise BoardError(MSG_GUIDELINE)
    recommendation = values["recommendation"]
    return Decision(
        case_id=case_id, version=0, recommendation=recommendation, rationale=values["rationale"],
        agrees_with_model=values["agrees_with_model"],
        recommendation_is_option=recommendation.casefold() in {str(o).casefold() for o in options},
        alternatives=_texts("alternatives", values.get("alternatives", ())),
        guideline_concordant=values.get("guideline_concordant"), guideline_note=values.get("guideline_note", ""),
        disagreement_reason=values.get("disagreement_reason", ""), agreement_note=values.get("agreement_note", ""),
        dissent=values.get("dissent", ""),
        trial_eligible=values.get("trial_eligible"), actions=_actions(values.get("actions", ())),
        attendees_present=_texts("attendees_present", values.get("attendees_present", ())))
