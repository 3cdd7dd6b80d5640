"""The store a service call writes to: the one given, else the current audit-log context's (so records and
their log entries live together), else the configured store, opened once per URL and process."""

from __future__ import annotations

import threading

from ..audit import current_context
from ..store import database_url, open_store

_STORES: dict = {}
_LOCK = threading.Lock()


def current_store(store=None, *, url: str | None = None):
    """``store``; else the store at ``url``; else the current log context's; else the configured default."""
    if store is not None:
        return store
    if url is None:
        ctx = current_context()
        if ctx is not None and ctx.log is not None:
            return ctx.log.store
    key = url or database_url()
    with _LOCK:
        if key not in _STORES:
            _STORES[key] = open_store(key)
        return _STORES[key]
