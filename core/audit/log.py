"""The append-only audit log: every entry chained to the one before by ``sha256(prev_hash + body)``.

Appends are serialized, so the chain never forks: on SQLite the transaction starts with ``BEGIN
IMMEDIATE`` (the database's write lock), on PostgreSQL it locks the chain-head row with ``SELECT … FOR
UPDATE``; either way the entry and the moved head commit together, or neither does.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .._errors import EquipoiseError
from ..store import ChainHeadRow, LogEntryRow, Store
from ._canonical import GENESIS, canonical_json, chain_hash, report_json, sha256_hex
from ._key import load_key, patient_reference

FORMAT_VERSION = 1
SEVERITIES = ("high", "medium", "low", "info")


class AuditError(EquipoiseError):
    """The audit log could not record an entry (so what it describes must not be shown) or be read."""


@dataclass(frozen=True)
class LogEntry:
    """One entry as exported: ``seq``, ``prev_hash``, ``hash`` and the ``body`` that was hashed."""

    seq: int
    prev_hash: str
    hash: str
    body: dict = field(repr=False)

    def __getattr__(self, name: str):  # entry.kind, entry.user, entry.patient_ref, ...
        body = self.__dict__.get("body", {})
        if name in body:
            return body[name]
        raise AttributeError(name)

    def to_dict(self) -> dict:
        return {"seq": self.seq, "prev_hash": self.prev_hash, "hash": self.hash, "body": self.body}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _warning(w: Mapping) -> dict:
    severity = str(w.get("severity") or "medium")
    return {"kind": str(w.get("kind") or "warning"), "severity": severity, "message": str(w.get("message") or "")}


def _plain(value, where: str):
    """Details hold strings, integers, booleans and None (lists and dicts of them): no floats."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, float):
        return repr(value)  # as text: a body never holds a float
    return str(value)


class AuditLog:
    """The log in one store. ``key`` is the HMAC key for patient references (from the data directory)."""

    def __init__(self, store: Store, *, key: bytes | None = None, data_dir=None):
        from ..store import data_dir as _data_dir

        self.store = store
        self._key = key if key is not None else load_key(data_dir or _data_dir())

    # --- writing ------------------------------------------------------------------------------
    def patient_ref(self, identifier: str | None, *, basis: str = "id") -> str | None:
        """The keyed hash that stands for a patient identifier (None for None)."""
        return None if identifier is None else patient_reference(self._key, str(identifier), basis=basis)

    def append(self, kind: str, *, user: str, role: str, page: str | None = None, patient_ref: str | None = None,
               bundle_id: str | None = None, bundle_sha256: str | None = None, report: Any = None,
               warnings: Sequence[Mapping] = (), details: Mapping[str, Any] | None = None) -> LogEntry:
        """Record one entry and commit it; returns it once it is durable. ``report`` (JSON-able, NaN as
        None) is stored compressed and its sha256 goes in the body. Raises :class:`AuditError`."""
        if not kind or not user or not role:
            raise AuditError(f"An audit-log entry needs a kind, a user and a role; got {kind!r}, {user!r}, {role!r}.")
        blob = report_sha = None
        if report is not None:
            text = report_json(report)
            report_sha, blob = sha256_hex(text), zlib.compress(text.encode("utf-8"), 6)
        body = {"v": FORMAT_VERSION, "kind": kind, "user": str(user), "role": str(role), "page": page,
                "patient_ref": patient_ref, "report_sha256": report_sha,
                "bundle": None if bundle_id is None and bundle_sha256 is None else {"id": bundle_id, "sha256": bundle_sha256},
                "warnings": [_warning(w) for w in warnings], "details": _plain(dict(details or {}), "details")}
        try:
            with self.store.session(write=True) as s:
                head = s.execute(select(ChainHeadRow).where(ChainHeadRow.id == 1).with_for_update()).scalar_one()
                body = {**body, "seq": head.seq + 1, "time": _now()}
                text = canonical_json(body, floats=False)
                digest = chain_hash(head.hash, text)
                s.add(LogEntryRow(seq=body["seq"], time=body["time"], kind=kind, user_name=body["user"], role=body["role"],
                                  page=page, patient_ref=patient_ref, bundle_id=bundle_id, bundle_sha256=bundle_sha256,
                                  report_sha256=report_sha, body=text, report=blob, prev_hash=head.hash, hash=digest))
                s.flush()  # the entry first: the head's trigger checks that it exists
                prev = head.hash
                head.seq, head.hash = body["seq"], digest
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise AuditError(f"The audit log at {self.store.display_url!r} could not record the {kind} entry "
                             f"({reason}); it was not shown.") from exc
        return LogEntry(body["seq"], prev, digest, body)

    # --- reading ------------------------------------------------------------------------------
    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last entry ((0, GENESIS) for an empty log)."""
        with self.store.session() as s:
            head = s.get(ChainHeadRow, 1)
            return (head.seq, head.hash) if head else (0, GENESIS)

    def __len__(self) -> int:
        return self.head()[0]

    def entries(self, *, user: str | None = None, patient_ref: str | None = None, kind: str | None = None,
                since: date | None = None, until: date | None = None, limit: int | None = None,
                newest_first: bool = False) -> list[LogEntry]:
        """Entries matching every filter given (``since``/``until``: UTC dates, both included)."""
        q = select(LogEntryRow)
        if user:
            q = q.where(LogEntryRow.user_name == user)
        if patient_ref:
            q = q.where(LogEntryRow.patient_ref == patient_ref)
        if kind:
            q = q.where(LogEntryRow.kind == kind)
        if since:
            q = q.where(LogEntryRow.time >= f"{since.isoformat()}T00:00:00")
        if until:
            q = q.where(LogEntryRow.time < f"{(until + timedelta(days=1)).isoformat()}T00:00:00")
        q = q.order_by(LogEntryRow.seq.desc() if newest_first else LogEntryRow.seq).limit(limit)
        with self.store.session() as s:
            return [LogEntry(r.seq, r.prev_hash, r.hash, json.loads(r.body)) for r in s.scalars(q)]

    def users(self) -> list[str]:
        """Every user that has an entry, sorted."""
        with self.store.session() as s:
            return list(s.scalars(select(LogEntryRow.user_name).distinct().order_by(LogEntryRow.user_name)))

    def report(self, seq: int) -> Any:
        """The report shown with entry ``seq`` exactly as stored (None if the entry holds none)."""
        with self.store.session() as s:
            blob = s.scalar(select(LogEntryRow.report).where(LogEntryRow.seq == seq))
        return None if blob is None else json.loads(zlib.decompress(blob).decode("utf-8"))

    def export(self, *, reports: bool = False) -> Iterator[dict]:
        """Every entry in seq order as ``{seq, prev_hash, hash, body}`` (with ``report`` if asked)."""
        with self.store.session() as s:
            rows = s.execute(select(LogEntryRow).order_by(LogEntryRow.seq).execution_options(yield_per=500)).scalars()
            for r in rows:
                out = {"seq": r.seq, "prev_hash": r.prev_hash, "hash": r.hash, "body": json.loads(r.body)}
                if reports:
                    out["report"] = None if r.report is None else json.loads(zlib.decompress(r.report).decode("utf-8"))
                yield out

    def export_jsonl(self, stream, *, reports: bool = False) -> int:
        """Write :meth:`export` as JSON Lines to a text stream; returns the number of entries."""
        n = 0
        for item in self.export(reports=reports):
            stream.write(json.dumps(item, ensure_ascii=False, sort_keys=True, allow_nan=False) + "\n")
            n += 1
        return n

    def verify(self):
        """Recompute the whole chain: a :class:`~core.audit.verify.ChainVerification`."""
        from .verify import verify_store

        return verify_store(self.store)
