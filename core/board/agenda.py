"""An agenda's composite views (a case with its snapshot, decision versions and follow-ups; a whole meeting;
a presentation) and the rows of a CSV turned into cases or refusals — never silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .records import Case, Comment, Decision, FollowUp, Meeting, Snapshot

MAX_CSV_CASES = 200  # one meeting's agenda, not a cohort


@dataclass(frozen=True)
class CaseRecord:
    """A case with what was frozen when it was presented, every decision version and every follow-up."""

    case: Case
    snapshot: Snapshot | None = None
    decisions: tuple[Decision, ...] = ()
    followups: tuple[FollowUp, ...] = ()
    comments: tuple[Comment, ...] = ()

    @property
    def decision(self) -> Decision | None:
        """The latest version (None before any decision)."""
        return self.decisions[-1] if self.decisions else None

    @property
    def status(self) -> str:
        d = self.decision
        if d is None:
            return "presented" if self.snapshot else "not presented"
        return f"decision v{d.version} " + ("signed off" if d.signed_off else "awaiting sign-off")

    def to_dict(self) -> dict:
        return {"case": self.case.to_dict(), "snapshot": self.snapshot and self.snapshot.to_dict(),
                "decisions": [d.to_dict() for d in self.decisions], "followups": [f.to_dict() for f in self.followups],
                "comments": [c.to_dict() for c in self.comments], "status": self.status}


@dataclass(frozen=True)
class MeetingRecord:
    """A meeting and its agenda, in order."""

    meeting: Meeting
    cases: tuple[CaseRecord, ...] = ()

    def to_dict(self) -> dict:
        return {"meeting": self.meeting.to_dict(), "cases": [c.to_dict() for c in self.cases]}


@dataclass(frozen=True)
class Presentation:
    """A case as presented: the frozen snapshot, and — when the cohort's current model is not the one that
    was frozen — the current model's estimate beside it, labelled (``current``, None otherwise)."""

    case: Case
    snapshot: Snapshot
    frozen_now: bool
    model_changed: bool = False
    current_bundle_id: str | None = None
    current: Mapping[str, Any] | None = None
    note: str = ""

    def to_dict(self) -> dict:
        return {"case": self.case.to_dict(), "snapshot": self.snapshot.to_dict(), "frozen_now": self.frozen_now,
                "model_changed": self.model_changed, "current_bundle_id": self.current_bundle_id,
                "current_estimate": None if self.current is None else dict(self.current), "note": self.note}


@dataclass(frozen=True)
class RefusedRow:
    """A CSV row that did not become a case: its 1-based row, its label (if any) and every error."""

    row: int
    label: str | None
    errors: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"row": self.row, "label": self.label, "errors": list(self.errors)}


@dataclass(frozen=True)
class CsvImport:
    """What became of each row of a CSV: the cases added and the rows refused (with their errors)."""

    added: tuple[Case, ...] = ()
    refused: tuple[RefusedRow, ...] = field(default_factory=tuple)

    @property
    def n_rows(self) -> int:
        return len(self.added) + len(self.refused)

    def message(self) -> str:
        text = f"{len(self.added)} of {self.n_rows} row(s) added as cases."
        for r in self.refused:
            text += f"\nRow {r.row} ({r.label or 'no label'}) refused: " + " ".join(r.errors)
        return text

    def to_dict(self) -> dict:
        return {"added": [c.to_dict() for c in self.added], "refused": [r.to_dict() for r in self.refused],
                "message": self.message()}


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str) and not value.strip())


def plain(value):
    """A CSV cell as JSON: NaN to None, numpy scalars to Python numbers."""
    if _blank(value) and not isinstance(value, str):
        return None
    return value.item() if hasattr(value, "item") else value


def csv_rows(rows: list[Mapping[str, Any]], *, label_column: str, features: list[str],
             check: Callable[[dict], list[str]]) -> tuple[list[tuple[int, str, dict]], list[RefusedRow]]:
    """Split a CSV's rows into (row, label, record) to add and refused rows. ``check(record)`` returns the
    record's errors (empty when it is valid). A row without a label, a label used twice and any invalid
    row are refused with their reasons."""
    if len(rows) > MAX_CSV_CASES:
        from .records import BoardError

        raise BoardError(f"A CSV of cases may hold at most {MAX_CSV_CASES} rows (one meeting's agenda). "
                         f"Got {len(rows)} instead.")
    if rows and label_column not in rows[0]:
        from .records import BoardError

        raise BoardError(f"The CSV has no column {label_column!r} (the --label-column). Its columns: "
                         f"{', '.join(map(str, rows[0]))[:300]}.")
    good, refused, seen = [], [], set()
    for i, row in enumerate(rows, start=1):
        raw = row.get(label_column)
        label = None if _blank(raw) else str(plain(raw)).strip()[:200]
        errors = []
        if label is None:
            errors.append(f"The label column {label_column!r} is empty.")
        elif label in seen:
            errors.append(f"The label {label!r} is used by an earlier row.")
        record = {k: plain(row[k]) for k in features if k in row}
        errors += check(record)
        if errors:
            refused.append(RefusedRow(i, label, tuple(errors)))
        else:
            seen.add(label)
            good.append((i, label, record))
    return good, refused
