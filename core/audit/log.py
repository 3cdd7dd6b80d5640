"""The append-only audit log: every entry chained to the one before by ``sha256(prev_hash + body)``,
MAC'd under a key held outside the database, and checkpointed now and then to an append-only file outside
it (:mod:`core.audit.anchors`).

Appends are serialized, so the chain never forks: on SQLite the transaction starts with ``BEGIN
IMMEDIATE`` (the database's write lock), on PostgreSQL it locks the chain-head row with ``SELECT … FOR
UPDATE``; either way the entry and the moved head commit together, or neither does.
"""

from __future__ import annotations

import json
import threading
import time as _time
import zlib
from pathlib import Path
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
from .anchors import (CHECKPOINT_SECONDS, AnchorError, append_checkpoint, checkpoints_path,
                      load_keyring, read_checkpoints, verify_anchors)

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
    """The log in one store. ``key`` is the HMAC key for patient references (from the data directory).
    ``checkpoints`` (default ``$EQUIPOISE_AUDIT_CHECKPOINTS``, else beside the keys in the data directory)
    is the append-only file of signed checkpoints; this object writes one on its first append, then every
    ``checkpoint_every`` entries it appends and after any quiet spell of ``checkpoint_seconds``."""

    def __init__(self, store: Store, *, key: bytes | None = None, data_dir=None, checkpoints=None,
                 checkpoint_every: int | None = None, checkpoint_seconds: float = CHECKPOINT_SECONDS):
        from ..store import data_dir as _data_dir
        from .anchors import checkpoint_every as _every

        self.store = store
        self._data_dir = Path(data_dir or _data_dir())
        self._key = key if key is not None else load_key(self._data_dir)
        self.checkpoints_path = Path(checkpoints) if checkpoints else checkpoints_path(self._data_dir)
        self._every = checkpoint_every if checkpoint_every is not None else _every()
        self._seconds = checkpoint_seconds
        self._ring = None  # the MAC keys, read (or created) at the first append
        self._lock = threading.Lock()
        self._last_checkpoint: tuple[int, float] | None = None  # (seq, monotonic time) of this object's last

    def _signing_ring(self):
        if self._ring is None:
            self._ring = load_keyring(self._data_dir)
        return self._ring

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
            ring = self._signing_ring()
        except AnchorError as exc:
            raise AuditError(f"The audit log could not record the {kind} entry: {exc} It was not shown.") from exc
        try:
            with self.store.session(write=True) as s:
                head = s.execute(select(ChainHeadRow).where(ChainHeadRow.id == 1).with_for_update()).scalar_one()
                body = {**body, "seq": head.seq + 1, "time": _now()}
                text = canonical_json(body, floats=False)
                digest = chain_hash(head.hash, text)
                s.add(LogEntryRow(seq=body["seq"], time=body["time"], kind=kind, user_name=body["user"], role=body["role"],
                                  page=page, patient_ref=patient_ref, bundle_id=bundle_id, bundle_sha256=bundle_sha256,
                                  report_sha256=report_sha, body=text, report=blob, prev_hash=head.hash, hash=digest,
                                  mac=ring.entry_mac(digest)))
                s.flush()  # the entry first: the head's trigger checks that it exists
                prev = head.hash
                head.seq, head.hash = body["seq"], digest
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise AuditError(f"The audit log at {self.store.display_url!r} could not record the {kind} entry "
                             f"({reason}); it was not shown.") from exc
        self._after_append(body["seq"], digest)
        return LogEntry(body["seq"], prev, digest, body)

    def _after_append(self, seq: int, digest: str) -> None:
        """Write a checkpoint when one is due; a checkpoint that cannot be written fails the append's caller
        (the entry is committed, but what it describes is not shown until checkpoints can be written)."""
        now = _time.monotonic()
        with self._lock:
            last = self._last_checkpoint
            if last is not None and seq - last[0] < self._every and now - last[1] < self._seconds:
                return
            try:
                append_checkpoint(self.checkpoints_path, self._signing_ring(), seq, digest, _now())
            except (AnchorError, OSError) as exc:
                raise AuditError(f"The audit log recorded entry {seq} but could not write its checkpoint: "
                                 f"{exc} It was not shown.") from exc
            self._last_checkpoint = (seq, now)

    def checkpoint(self) -> dict | None:
        """Verify the log, then write a checkpoint of its head now (for a scheduled job, and to seal entries
        written before entries carried MACs). Returns it (None for an empty log); raises :class:`AuditError`
        naming the fault when the log does not verify, so a rewritten log is never sealed."""
        result = self.verify(sealing=True)
        if not result.ok:
            raise AuditError(f"The audit log was not checkpointed because it does not verify: {result.message}")
        if result.head_seq == 0:
            return None
        with self._lock:
            item = append_checkpoint(self.checkpoints_path, self._signing_ring(), result.head_seq, result.head_hash,
                                     _now())
            self._last_checkpoint = (result.head_seq, _time.monotonic())
        return item

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

    def verify(self, *, checkpoints=None, expect_at_least: int | None = None, sealing: bool = False):
        """Recompute the whole chain, then check its anchors: every entry's MAC under the key file, the
        checkpoint file (``checkpoints``, which must then exist; default: this log's, if it exists) and
        ``expect_at_least`` entries. A :class:`~core.audit.verify.ChainVerification`."""
        from dataclasses import replace

        from .verify import verify_store

        chain = verify_store(self.store)
        if not chain.ok:
            return chain
        try:
            ring, no_key = load_keyring(self._data_dir, create=False), ""
        except AnchorError as exc:
            ring, no_key = None, str(exc)
        try:
            marks = read_checkpoints(checkpoints or self.checkpoints_path)
        except AnchorError as exc:
            return replace(chain, problem="checkpoint", message=str(exc))
        with self.store.session(snapshot=True) as s:
            rows = s.execute(select(LogEntryRow.seq, LogEntryRow.hash, LogEntryRow.mac)
                             .where(LogEntryRow.seq <= chain.head_seq).order_by(LogEntryRow.seq)
                             .execution_options(yield_per=1000))
            problem, seq, message = verify_anchors(rows, entries=chain.entries, ring=ring, checkpoints=marks,
                                                   expect_at_least=expect_at_least, no_key=no_key,
                                                   must_have_checkpoints=checkpoints is not None, sealing=sealing)
        if problem:
            return replace(chain, problem=problem, seq=seq, message=message)
        return replace(chain, message=f"{chain.message[:-1]}; {message}." if message else chain.message)
