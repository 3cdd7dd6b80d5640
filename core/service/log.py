"""The store and the audit log: opening them, the log context every result is committed under, and the
decisions and exports people make."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from .._observers import DECISION, EXPORT, _OBSERVERS, _shown, observe
from ..modeling.bundle import ModelBundle


def store_url() -> str:
    """The store's URL as configured now (``EQUIPOISE_DATABASE_URL``, else the data directory's SQLite file)."""
    from ..store import database_url

    return database_url()


def upgrade_store(url: str | None = None):
    """Open the store (``EQUIPOISE_DATABASE_URL``, else the SQLite file in ``EQUIPOISE_DATA_DIR``) and
    apply its migrations; returns the :class:`~core.store.Store`."""
    from ..store import open_store

    return open_store(url)


def open_log(url: str | None = None):
    """The audit log in the store (migrations applied first): an :class:`~core.audit.AuditLog`."""
    from ..audit import AuditLog

    return AuditLog(upgrade_store(url))


def log_context(log, *, user: str | None = None, role: str | None = None, page: str | None = None,
                patient_id=None, session=None):
    """From now on in this script run or command, every result this module returns is first committed
    to ``log`` naming ``user`` (default: the OS user), ``role`` (default ``local``: local mode, every role)
    and ``page``; ``patient_id`` may be a function returning the current patient's identifier; ``session``
    (a :class:`~core.audit.LogSession`) skips exact repeats. ``with service.log_context(...):`` limits it."""
    from ..audit import LOCAL_ROLE, LogContext, local_user, record, set_context

    if record not in _OBSERVERS:
        observe(record)
    return set_context(LogContext(log, user or local_user(), role or LOCAL_ROLE, page, patient_id, session))


def log_session():
    """A browser session's memory of what it has recorded (pass to :func:`log_context` every run)."""
    from ..audit import LogSession

    return LogSession()


def record_decision(bundle: ModelBundle | None, *, decision: str, reason: str, about: str | None = None,
                    patient_id: str | None = None, record: Mapping[str, Any] | None = None):
    """Record what a person decided (``accepted``, ``overridden``, …) about a result, and why."""
    from ..audit import Decision

    return _shown(DECISION, bundle, Decision(decision, reason, about), patient_id=patient_id, record=record,
                  details={"decision": decision})


def record_export(what: str, *, content: bytes | str | None = None, report=None, bundle: ModelBundle | None = None,
                  patient_id: str | None = None, details: Mapping[str, Any] | None = None) -> None:
    """Record that ``what`` is about to leave the application: call it before handing the content over."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    sealed = {} if data is None else {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    _shown(EXPORT, bundle, report, patient_id=patient_id, details={**(details or {}), "what": what, **sealed})


def rotate_log_key():
    """Put a new MAC key first in the audit log's key file (the older ones stay, to verify what they signed);
    returns the :class:`~core.audit.anchors.KeyRing`."""
    from ..audit.anchors import rotate_key
    from ..store import data_dir

    return rotate_key(data_dir())
