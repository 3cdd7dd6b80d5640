"""Re-verify the chain from the stored rows: each entry's hash, its columns against its hashed body, its
stored report against the report's sha256, each link to the entry before, and the chain head. The first
fault is named: an entry *changed*, *deleted*, *inserted* or *reordered*."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

from sqlalchemy import func, select

from ._canonical import GENESIS, canonical_json, chain_hash, sha256_hex

CHANGED, DELETED, INSERTED, REORDERED = "changed", "deleted", "inserted", "reordered"
# the anchors' verdicts (core.audit.anchors): an entry without a valid MAC, a checkpoint the log no longer
# reaches, a checkpoint that cannot be trusted or does not match, fewer entries than expected
UNSIGNED, TRUNCATED, CHECKPOINT, TOO_FEW = "unsigned", "truncated", "checkpoint", "too_few"


@dataclass(frozen=True)
class ChainVerification:
    """The verdict on the whole log: ``problem`` is None when the chain is intact (and its anchors hold),
    else one of changed, deleted, inserted, reordered (the chain), unsigned, truncated, checkpoint, too_few
    (the anchors), with ``seq`` the first entry at fault and ``message`` a sentence."""

    entries: int
    head_seq: int
    head_hash: str
    problem: str | None = None
    seq: int | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "head_seq": self.head_seq, "head_hash": self.head_hash,
                "problem": self.problem, "seq": self.seq, "message": self.message}


def _columns(body: dict) -> dict:
    bundle = body.get("bundle") or {}
    return {"time": body.get("time"), "kind": body.get("kind"), "user_name": body.get("user"),
            "role": body.get("role"), "page": body.get("page"), "patient_ref": body.get("patient_ref"),
            "bundle_id": bundle.get("id"), "bundle_sha256": bundle.get("sha256"),
            "report_sha256": body.get("report_sha256")}


def row_problem(row) -> tuple[str | None, dict | None]:
    """Why a row is not what was appended (None if it is consistent), and its parsed body."""
    if chain_hash(row.prev_hash, row.body) != row.hash:
        return "its hash does not match its prev_hash and body", None
    try:
        body = json.loads(row.body)
        if canonical_json(body, floats=False) != row.body:
            return "its body is not in canonical form", body
    except (ValueError, TypeError):
        return "its body is not a canonical JSON object", None
    if not isinstance(body, dict) or not isinstance(body.get("seq"), int):
        return "its body has no integer seq", None
    for column, value in _columns(body).items():
        if getattr(row, column) != value:
            return f"its {column} column says {getattr(row, column)!r} but its hashed body says {value!r}", body
    expected = body.get("report_sha256")
    if row.report is None and expected is not None:
        return "its stored report is missing", body
    if row.report is not None:
        try:
            actual = sha256_hex(zlib.decompress(row.report))
        except zlib.error:
            actual = "unreadable"
        if actual != expected:
            return "its stored report does not match the report_sha256 in its body", body
    return None, body


def verify_rows(rows, head_seq: int, head_hash: str, *, seq_of_hash, first_seq_after) -> ChainVerification:
    """Walk ``rows`` (in seq-column order). ``seq_of_hash(h)`` gives the seq column of the row whose hash
    is ``h`` (0 for the genesis hash, None if no row has it); ``first_seq_after(s)`` the next seq column."""
    prev_hash, prev_seq, prev_col, n = GENESIS, 0, None, 0

    def bad(problem, seq, message):
        return ChainVerification(n, head_seq, head_hash, problem, seq, message)

    for row in rows:
        n += 1
        why, body = row_problem(row)
        if why:
            return bad(CHANGED, row.seq, f"Entry {row.seq} was changed: {why}.")
        body_seq = body["seq"]
        if row.prev_hash != prev_hash:
            target = seq_of_hash(row.prev_hash)
            if target is None and body_seq > prev_seq + 1:
                gap = f"{prev_seq + 1}" if body_seq == prev_seq + 2 else f"{prev_seq + 1} to {body_seq - 1}"
                return bad(DELETED, prev_seq + 1, f"Entry {gap} was deleted: entry {body_seq} is chained to a hash "
                           "that no remaining entry has.")
            if target is None:
                at = prev_col if prev_col is not None else row.seq
                return bad(CHANGED, at, f"Entry {at} was changed (and its hash recomputed): entry {row.seq} "
                           "is chained to a different hash.")
            if target > row.seq:
                return bad(REORDERED, row.seq, f"Entries were reordered: entry {body_seq}, stored at seq {row.seq}, "
                           f"is chained to the entry stored at seq {target}, after it.")
            first = first_seq_after(target)
            return bad(INSERTED, first, f"Entry {first} was inserted: entry {row.seq} is chained directly to "
                       f"{'the start of the log' if target == 0 else f'entry {target}'}.")
        if body_seq != prev_seq + 1:
            return bad(CHANGED, row.seq, f"Entry {row.seq} was changed: its body is numbered {body_seq} but it "
                       f"follows entry {prev_seq}.")
        if row.seq != body_seq:
            return bad(REORDERED, row.seq, f"Entries were renumbered: entry {body_seq} is stored at seq {row.seq}.")
        prev_hash, prev_seq, prev_col = row.hash, body_seq, row.seq
    if head_seq > prev_seq:
        gap = f"{head_seq}" if head_seq == prev_seq + 1 else f"{prev_seq + 1} to {head_seq}"
        return bad(DELETED, prev_seq + 1, f"Entry {gap} was deleted: the chain head records {head_seq} entries "
                   f"but the log ends at entry {prev_seq}.")
    if head_seq < prev_seq:
        return bad(INSERTED, head_seq + 1, f"Entry {head_seq + 1} was inserted: it was not appended through the "
                   f"chain head, which records {head_seq} entries.")
    if head_hash != prev_hash:
        return bad(CHANGED, prev_seq, f"Entry {prev_seq} was changed: its hash is not the one the chain head records.")
    return ChainVerification(n, head_seq, head_hash, message=f"{n} entries, chain intact (head hash {head_hash}).")


def verify_store(store) -> ChainVerification:
    """Verify the log in ``store`` from one consistent snapshot of the database."""
    from ..store import ChainHeadRow, LogEntryRow

    with store.session(snapshot=True) as s:
        head = s.get(ChainHeadRow, 1)
        head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)

        def seq_of_hash(h):
            return 0 if h == GENESIS else s.scalar(select(func.min(LogEntryRow.seq)).where(LogEntryRow.hash == h))

        def first_seq_after(seq):
            return s.scalar(select(func.min(LogEntryRow.seq)).where(LogEntryRow.seq > seq))

        rows = s.execute(select(LogEntryRow).order_by(LogEntryRow.seq).execution_options(yield_per=500)).scalars()
        return verify_rows(rows, head_seq, head_hash, seq_of_hash=seq_of_hash, first_seq_after=first_seq_after)
