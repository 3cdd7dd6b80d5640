"""The audit log: an append-only, hash-chained record of what was shown to whom, and what they decided.

Each entry's ``hash`` is ``sha256(prev_hash + canonical JSON of its body)`` (see the README for the exact
rule and an independent verifier); ``verify`` names the first entry changed, deleted, inserted or
reordered. Every entry also carries a MAC under a key held outside the database, and signed checkpoints go to
an append-only file outside it (:mod:`.anchors`), so a rewrite by someone with database access is detected. :mod:`core.service` records through :func:`record` once a :class:`LogContext` is set.
"""

from ._canonical import GENESIS, canonical_json, chain_hash, sha256_hex
from ._key import KEY_ENV, KEY_FILE, load_key, patient_reference
from .anchors import (CHECKPOINTS_ENV, CHECKPOINTS_FILE, MAC_KEY_ENV, MAC_KEY_FILE, AnchorError, KeyRing,
                      load_keyring, read_checkpoints, rotate_key)
from .log import FORMAT_VERSION, AuditError, AuditLog, LogEntry
from .recorder import LOCAL_ROLE, ROLES, Decision, DecisionError, LogContext, LogSession, current_context, local_user, record, set_context
from .verify import (CHANGED, CHECKPOINT, DELETED, INSERTED, REORDERED, TOO_FEW, TRUNCATED, UNSIGNED,
                     ChainVerification, verify_rows)

__all__ = [
    "AnchorError",
    "AuditError",
    "CHECKPOINT",
    "CHECKPOINTS_ENV",
    "CHECKPOINTS_FILE",
    "KeyRing",
    "MAC_KEY_ENV",
    "MAC_KEY_FILE",
    "TOO_FEW",
    "TRUNCATED",
    "UNSIGNED",
    "load_keyring",
    "read_checkpoints",
    "rotate_key",
    "AuditLog",
    "CHANGED",
    "ChainVerification",
    "DELETED",
    "Decision",
    "DecisionError",
    "FORMAT_VERSION",
    "GENESIS",
    "INSERTED",
    "KEY_ENV",
    "KEY_FILE",
    "LOCAL_ROLE",
    "LogContext",
    "LogEntry",
    "LogSession",
    "REORDERED",
    "ROLES",
    "canonical_json",
    "chain_hash",
    "current_context",
    "load_key",
    "local_user",
    "patient_reference",
    "record",
    "set_context",
    "sha256_hex",
    "verify_rows",
]
