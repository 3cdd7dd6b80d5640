"""What anchors the audit log outside its database, so that someone with full database access (an
administrator, a PostgreSQL superuser, whoever holds the SQLite file) cannot rewrite history unnoticed.

- **A MAC on every entry.** ``mac = <key id>:HMAC-SHA256(key, "equipoise-audit-entry-v1:" + hash)``, stored
  beside the entry (not in its hashed body). The key lives in a file outside the database
  (``$EQUIPOISE_AUDIT_MAC_KEY_FILE``, default ``DATA_DIR/audit-log-mac.key``, mode 0600). Because an entry's
  hash covers its predecessor's, a valid MAC on entry *n* vouches for entries 1..n as well.
- **Signed checkpoints.** Now and then (every :data:`DEFAULT_EVERY` entries a process appends, and on the
  first append after :data:`CHECKPOINT_SECONDS` seconds without one) the appending process adds one line
  ``{"seq", "head_hash", "time", "key_id", "mac"}`` to an append-only file (``$EQUIPOISE_AUDIT_CHECKPOINTS``,
  default ``DATA_DIR/audit-checkpoints.jsonl``; in production on another volume, append-only). The line's
  ``mac`` is ``HMAC-SHA256(key, "equipoise-audit-checkpoint-v1:" + canonical JSON of the other four)``.

:func:`verify_anchors` (``equipoise log verify``) then fails on an entry without a valid MAC (a forged
append, even one with a correct prev_hash and hash), on a checkpoint the log no longer reaches (tail
truncated and head rewound, the database deleted or replaced by an older copy), on an entry that is not the
one checkpointed, and on fewer entries than ``--expect-at-least``. The README's "The store and the audit
log" gives the threat model: what is detected, against whom, with which key, and how to rotate it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .._errors import EquipoiseError
from ._key import write_new_secret

MAC_KEY_FILE = "audit-log-mac.key"
MAC_KEY_ENV = "EQUIPOISE_AUDIT_MAC_KEY_FILE"
CHECKPOINTS_FILE = "audit-checkpoints.jsonl"
CHECKPOINTS_ENV = "EQUIPOISE_AUDIT_CHECKPOINTS"
EVERY_ENV = "EQUIPOISE_AUDIT_CHECKPOINT_EVERY"
DEFAULT_EVERY = 10         # entries a process appends between two of its checkpoints
EVERY_RANGE = (1, 100_000)
CHECKPOINT_SECONDS = 60.0  # a quiet spell longer than this: the next append writes a checkpoint
ENTRY_DOMAIN = "equipoise-audit-entry-v1:"
CHECKPOINT_DOMAIN = "equipoise-audit-checkpoint-v1:"

# error messages (tests assert them)
NO_KEY = ("The audit log's key file {path} is missing, so the entries' MACs cannot be checked. Restore it from "
          "your backup (it is never in the database); a new key would not vouch for the old entries.")
BAD_KEY = "The audit log's key file {path} must hold one hex key of at least 16 bytes per line."
NOT_A_FILE = "The audit checkpoint location {path} is not an ordinary file; checkpoints are never written through a link."
BAD_EVERY = (f"{EVERY_ENV} must be a whole number of entries in the range [{EVERY_RANGE[0]}, {EVERY_RANGE[1]}]. "
             "Got {value!r} instead.")


class AnchorError(EquipoiseError):
    """The key or the checkpoint file cannot be used (missing, malformed, not an ordinary file)."""


def key_id(key: bytes) -> str:
    """The first 16 hex digits of sha256(key): names the key without revealing it."""
    return hashlib.sha256(key).hexdigest()[:16]


def _mac(key: bytes, domain: str, text: str) -> str:
    return hmac.new(key, (domain + text).encode("utf-8"), "sha256").hexdigest()


@dataclass(frozen=True)
class KeyRing:
    """The log's MAC keys as read from ``path``: the first signs, every one verifies (older keys stay in the
    file after a rotation so that the entries and checkpoints they signed still verify)."""

    path: str
    keys: tuple[tuple[str, bytes], ...]

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def _key(self, kid: str) -> bytes | None:
        return next((k for i, k in self.keys if i == kid), None)

    def entry_mac(self, entry_hash: str) -> str:
        kid, key = self.keys[0]
        return f"{kid}:{_mac(key, ENTRY_DOMAIN, entry_hash)}"

    def entry_problem(self, entry_hash: str, mac: str | None) -> str | None:
        """Why ``mac`` does not vouch for the entry whose hash is ``entry_hash`` (None when it does)."""
        if not mac:
            return "it carries no MAC"
        kid, _, digest = mac.partition(":")
        key = self._key(kid)
        if key is None:
            return f"its MAC names key {kid!r}, which is not in {self.path}"
        if not hmac.compare_digest(digest, _mac(key, ENTRY_DOMAIN, entry_hash)):
            return "its MAC does not match its hash"
        return None

    def checkpoint(self, seq: int, head_hash: str, time: str) -> dict:
        kid, key = self.keys[0]
        signed = {"seq": seq, "head_hash": head_hash, "time": time, "key_id": kid}
        return {**signed, "mac": _mac(key, CHECKPOINT_DOMAIN, _canonical(signed))}

    def checkpoint_problem(self, item: dict) -> str | None:
        signed = {k: item.get(k) for k in ("seq", "head_hash", "time", "key_id")}
        if not (isinstance(signed["seq"], int) and isinstance(signed["head_hash"], str)
                and isinstance(signed["key_id"], str) and isinstance(item.get("mac"), str)):
            return "it lacks seq, head_hash, key_id or mac"
        key = self._key(signed["key_id"])
        if key is None:
            return f"it is signed with key {signed['key_id']!r}, which is not in {self.path}"
        if not hmac.compare_digest(item["mac"], _mac(key, CHECKPOINT_DOMAIN, _canonical(signed))):
            return "its signature does not match: it was altered or forged"
        return None


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- the key ----------------------------------------------------------------------------------------
def mac_key_path(data_dir: str | Path) -> Path:
    """``$EQUIPOISE_AUDIT_MAC_KEY_FILE``, else ``DATA_DIR/audit-log-mac.key``."""
    return Path(os.environ.get(MAC_KEY_ENV) or Path(data_dir) / MAC_KEY_FILE)


def load_keyring(data_dir: str | Path, *, create: bool = True) -> KeyRing:
    """The key ring, created (one new key, mode 0600, atomically) if absent and ``create``; raises
    :class:`AnchorError` when it is missing and not to be created, or malformed."""
    path = mac_key_path(data_dir)
    if not path.exists():
        if not create:
            raise AnchorError(NO_KEY.format(path=path))
        write_new_secret(path, secrets.token_hex(32) + "\n")
    try:
        lines = [line.strip() for line in path.read_text(encoding="ascii").splitlines() if line.strip()]
        keys = tuple((key_id(k), k) for k in (bytes.fromhex(line) for line in lines))
    except (ValueError, UnicodeDecodeError):
        raise AnchorError(BAD_KEY.format(path=path)) from None
    if not keys or any(len(k) < 16 for _, k in keys):
        raise AnchorError(BAD_KEY.format(path=path))
    return KeyRing(str(path), keys)


def rotate_key(data_dir: str | Path) -> KeyRing:
    """Put a new key first in the key file (it signs from now on); the older keys stay, to verify what they
    signed. The file is replaced atomically, mode 0600."""
    ring = load_keyring(data_dir)
    new = secrets.token_bytes(32)
    write_new_secret(Path(ring.path), "".join(k.hex() + "\n" for k in (new, *(k for _, k in ring.keys))),
                     replace=True)
    return load_keyring(data_dir, create=False)


# --- the checkpoint file ----------------------------------------------------------------------------
def checkpoints_path(data_dir: str | Path) -> Path:
    """``$EQUIPOISE_AUDIT_CHECKPOINTS``, else ``DATA_DIR/audit-checkpoints.jsonl``."""
    return Path(os.environ.get(CHECKPOINTS_ENV) or Path(data_dir) / CHECKPOINTS_FILE)


def checkpoint_every() -> int:
    """``$EQUIPOISE_AUDIT_CHECKPOINT_EVERY`` (entries), else :data:`DEFAULT_EVERY`."""
    raw = os.environ.get(EVERY_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_EVERY
    try:
        value = int(raw)
    except ValueError:
        raise AnchorError(BAD_EVERY.format(value=raw)) from None
    if not EVERY_RANGE[0] <= value <= EVERY_RANGE[1]:
        raise AnchorError(BAD_EVERY.format(value=raw))
    return value


def append_checkpoint(path: str | Path, ring: KeyRing, seq: int, head_hash: str, time: str) -> dict:
    """Append one signed checkpoint line to ``path`` (created 0600; never through a symlink; fsynced)."""
    path = Path(path)
    item = ring.checkpoint(seq, head_hash, time)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        if path.is_symlink():
            raise AnchorError(NOT_A_FILE.format(path=path)) from None
        raise AnchorError(f"The audit checkpoint file {path} could not be opened: {exc.strerror}.") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise AnchorError(NOT_A_FILE.format(path=path))
        os.write(fd, (_canonical(item) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return item


@dataclass(frozen=True)
class Checkpoints:
    """The lines of a checkpoint file: ``items`` (line number, parsed object) and the ``unreadable`` line
    numbers (a line cut short by a crash; never silently trusted, reported in the verdict)."""

    path: str
    items: tuple[tuple[int, dict], ...] = ()
    unreadable: tuple[int, ...] = ()
    exists: bool = True


def read_checkpoints(path: str | Path) -> Checkpoints:
    """Every line of the checkpoint file (a missing file: ``exists`` False, no items)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return Checkpoints(str(path), exists=False)
    except OSError:
        raise AnchorError(NOT_A_FILE.format(path=path)) from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise AnchorError(NOT_A_FILE.format(path=path))
        items, unreadable = [], []
        for number, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
                if not isinstance(item, dict):
                    raise ValueError
                items.append((number, item))
            except (ValueError, UnicodeDecodeError):
                unreadable.append(number)
    return Checkpoints(str(path), tuple(items), tuple(unreadable))


def _seq_label(seq: int, time) -> str:
    return f"entry {seq} (checkpointed {time})"


def verify_anchors(rows: Iterable, *, entries: int, ring: KeyRing | None, checkpoints: Checkpoints,
                   expect_at_least: int | None = None, must_have_checkpoints: bool = False,
                   no_key: str = "", sealing: bool = False):
    """The anchors' verdict on a log whose chain is intact: ``rows`` are (seq, hash, mac) in seq order,
    ``entries`` their number; ``ring`` None when the key file is missing (``no_key`` says so). Returns
    ``(problem, seq, message)``; ``problem`` None when everything holds, with ``message`` saying what was
    checked. ``sealing``: entries from before MACs existed, not yet covered, are not a fault (they are about
    to be checkpointed)."""
    from .verify import CHECKPOINT, TOO_FEW, TRUNCATED, UNSIGNED

    cp_path = checkpoints.path
    if must_have_checkpoints and not checkpoints.exists:
        return CHECKPOINT, None, (f"There is no checkpoint file at {cp_path}: the log cannot be checked against "
                                  "its anchors. Give the path where checkpoints are written.")
    marks: dict[int, tuple[str, str, int]] = {}  # seq -> (head_hash, time, line)
    for line, item in checkpoints.items:
        why = ring.checkpoint_problem(item) if ring is not None else no_key
        if why:
            return CHECKPOINT, item.get("seq") if isinstance(item.get("seq"), int) else None, (
                f"Checkpoint line {line} of {cp_path} cannot be trusted: {why}.")
        seq, head_hash, time = item["seq"], item["head_hash"], item.get("time")
        if seq in marks and marks[seq][0] != head_hash:
            return CHECKPOINT, seq, (f"Checkpoint lines {marks[seq][2]} and {line} of {cp_path} record different "
                                     f"hashes for entry {seq}: the log was rewritten between them.")
        marks.setdefault(seq, (head_hash, time, line))
    furthest = max(marks, default=0)
    if furthest > entries:
        time = marks[furthest][1]
        if entries == 0:
            return TRUNCATED, 1, (f"The log holds no entries, but {_seq_label(furthest, time)} existed: the "
                                  "database was deleted, emptied or replaced.")
        gap = f"{entries + 1}" if furthest == entries + 1 else f"{entries + 1} to {furthest}"
        return TRUNCATED, entries + 1, (f"The log ends at entry {entries}, but {_seq_label(furthest, time)} "
                                        f"existed: entry {gap} was removed (tail truncated and head rewound, or "
                                        "an older copy of the database restored).")
    if expect_at_least is not None and entries < expect_at_least:
        return TOO_FEW, entries + 1, (f"The log holds {entries} entries, but at least {expect_at_least} were "
                                      "expected (--expect-at-least): entries were removed, or this is not the "
                                      "database you meant.")
    unsigned_from, last_signed = None, 0
    for seq, entry_hash, mac in rows:
        if seq in marks and marks[seq][0] != entry_hash:
            return CHECKPOINT, seq, (f"Entry {seq} is not the entry checkpointed at {marks[seq][1]} (line "
                                     f"{marks[seq][2]} of {cp_path}): the log was rewritten from there on.")
        if mac is None and last_signed == 0:
            unsigned_from = unsigned_from or seq  # written before entries carried MACs
            continue
        if ring is None:
            return UNSIGNED, seq, no_key
        why = ring.entry_problem(entry_hash, mac)
        if why:
            return UNSIGNED, seq, (f"Entry {seq} was not written by Equipoise with this installation's key: {why}. "
                                   "It was forged or altered in the database.")
        last_signed = seq
    if unsigned_from is not None and last_signed == 0 and furthest < entries and not sealing:
        return UNSIGNED, max(unsigned_from, furthest + 1), (
            f"Entries {max(unsigned_from, furthest + 1)} to {entries} carry no MAC and no checkpoint covers "
            "them: they were written before entries carried MACs, or forged. If you trust them, seal them "
            "with `equipoise log checkpoint`.")
    parts = []
    if last_signed:
        parts.append(f"entries up to {last_signed} are vouched for by their MACs (key file {ring.path})")
    if marks:
        parts.append(f"{len(marks)} checkpoints in {cp_path} agree (the latest: entry {furthest})")
    elif not checkpoints.exists:
        parts.append(f"no checkpoint file at {cp_path} yet")
    if checkpoints.unreadable:
        parts.append(f"checkpoint lines {', '.join(map(str, checkpoints.unreadable))} are unreadable and were "
                     "not used")
    return None, None, "; ".join(parts)
