"""Who is looking, and the observer that records what :mod:`core.service` shows.

A :class:`LogContext` (the log, the user, the role, the page) is set for one Streamlit script run or one
CLI command; it is thread-local (each script run has its own thread), so concurrent sessions never mix. The
observer, :func:`record`, turns each result about to be shown into an entry and commits it *before*
the service returns the result; if the entry cannot be committed it raises, and nothing is shown.
Without a context (a test, a library call) nothing is recorded.
"""

from __future__ import annotations

import getpass
from collections import OrderedDict
from collections.abc import Callable, Mapping
import threading
from dataclasses import dataclass, field
from typing import Any

from .._errors import EquipoiseError
from .._json import jsonable
from ._canonical import report_json, sha256_hex

LOCAL_ROLE = "local"  # local mode: one local user who holds every role
ROLES = ("clinician", "board_chair", "board_member", "trainee", "instructor", "admin")


def local_user() -> str:
    """The operating-system user (local mode's one user)."""
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without /etc/passwd entry)
        return "local"


@dataclass
class LogSession:
    """One browser session: what it has already recorded, so a Streamlit rerun that shows the very same
    result on the same page again adds no entry (anything new — another patient, another change, another
    model — is recorded). Bounded: the oldest keys are forgotten first."""

    limit: int = 512
    seen: OrderedDict = field(default_factory=OrderedDict)

    def first_time(self, key: tuple) -> bool:
        if key in self.seen:
            self.seen.move_to_end(key)
            return False
        self.seen[key] = True
        while len(self.seen) > self.limit:
            self.seen.popitem(last=False)
        return True


@dataclass(frozen=True)
class LogContext:
    """Where entries go and whom they name. ``patient_id`` is the current patient's identifier, or a
    function returning it when asked (a page knows the patient only after its sidebar has run)."""

    log: Any
    user: str
    role: str
    page: str | None = None
    patient_id: str | Callable[[], str | None] | None = None
    session: LogSession | None = None  # None: record every result, even a repeated one (the CLI)

    def current_patient(self) -> str | None:
        value = self.patient_id() if callable(self.patient_id) else self.patient_id
        return None if value is None else str(value)


class _Current(threading.local):
    """The context of this thread (a Streamlit script run has its own thread; Streamlit may run a page's
    code in a copied contextvars context, so a ContextVar would not reach it)."""

    context: LogContext | None = None


_CURRENT = _Current()


class ContextHandle:
    """Returned by :func:`set_context`: ignore it (the context lasts for the run), or use it in ``with``."""

    def __init__(self, previous):
        self._previous = previous

    def __enter__(self):
        return _CURRENT.context

    def __exit__(self, *exc):
        _CURRENT.context = self._previous


def set_context(context: LogContext | None) -> ContextHandle:
    previous, _CURRENT.context = _CURRENT.context, context
    return ContextHandle(previous)


def current_context() -> LogContext | None:
    return _CURRENT.context


class DecisionError(EquipoiseError, ValueError):
    """A decision without its decision or its reason."""


@dataclass(frozen=True)
class Decision:
    """What a person decided about a shown result (accepted, overridden, …) and why."""

    decision: str
    reason: str
    about: str | None = None  # e.g. the report_sha256 of the report decided on

    def __post_init__(self):
        if not isinstance(self.decision, str) or not self.decision.strip():
            raise DecisionError(f"A decision must be a non-empty text (e.g. 'accepted', 'overridden'). Got {self.decision!r}.")
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise DecisionError(f"A decision needs its reason as a non-empty text. Got {self.reason!r}.")

    def to_dict(self) -> dict:
        return {"decision": self.decision, "reason": self.reason, "about": self.about}


def _as_data(result) -> Any:
    if result is None:
        return None
    if hasattr(result, "to_dict"):
        result = result.to_dict()
    elif isinstance(result, (list, tuple)):
        result = [r.to_dict() if hasattr(r, "to_dict") else r for r in result]
    return jsonable(result)


def record(shown) -> None:
    """The observer: commit ``shown`` (a :class:`core.service.Shown`) to the current context's log."""
    ctx = _CURRENT.context
    if ctx is None or ctx.log is None:
        return
    log = ctx.log
    data = _as_data(shown.result)
    basis, ref = None, None
    patient = getattr(shown, "patient_id", None) or ctx.current_patient()
    if patient is not None:
        basis, ref = "identifier", log.patient_ref(patient)
    elif getattr(shown, "record", None) is not None:
        basis, ref = "record", log.patient_ref(report_json(jsonable(dict(shown.record))), basis="record")
    if isinstance(data, dict) and "patient_id" in data:  # never a raw identifier in the stored report
        data = {**{k: v for k, v in data.items() if k != "patient_id"}, "patient_ref": ref}
    warnings = data.get("warnings") if isinstance(data, dict) else None
    warnings = [w for w in warnings if isinstance(w, Mapping)] if isinstance(warnings, list) else []
    details: dict = dict(getattr(shown, "details", None) or {})
    if basis:
        details["patient_ref_basis"] = basis
    if ctx.session is not None:
        key = (shown.kind, ctx.page, ref, shown.bundle_sha256, sha256_hex(report_json(data)),
               report_json(jsonable(details)))
        if not ctx.session.first_time(key):
            return
    log.append(shown.kind, user=ctx.user, role=ctx.role, page=ctx.page, patient_ref=ref,
               bundle_id=shown.bundle_id or None, bundle_sha256=shown.bundle_sha256 or None, report=data,
               warnings=warnings, details=details)
