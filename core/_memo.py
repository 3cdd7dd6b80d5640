"""Results computed once per bundle content, below the service's logging (STYLE: cache underneath the logging).

A model card or a calibration curve depends only on the bundle's sealed content, so it is computed once per
``(what, bundle sha256, options)`` and kept in a small bounded LRU shared by all callers. The service still
records every view: the cache sits *under* the call that records, never above it. Values kept here must be
immutable or treated as read-only by every caller.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

MAX_ENTRIES = 64
_LOCK = threading.Lock()
_VALUES: "OrderedDict[Hashable, Any]" = OrderedDict()


def per_bundle(what: str, bundle: Any, compute: Callable[[], Any], *options: Hashable) -> Any:
    """``compute()`` once per ``(what, bundle.sha256, *options)``; later calls return the same value."""
    key = (what, bundle.sha256, *options)
    with _LOCK:
        if key in _VALUES:
            _VALUES.move_to_end(key)
            return _VALUES[key]
    value = compute()
    with _LOCK:
        _VALUES[key] = value
        _VALUES.move_to_end(key)
        while len(_VALUES) > MAX_ENTRIES:
            _VALUES.popitem(last=False)
    return value


def clear() -> None:
    with _LOCK:
        _VALUES.clear()


def model_card(bundle: Any):
    """The bundle's model card (an immutable value object), computed once per bundle content."""
    from .reporting import model_card as _model_card

    return per_bundle("model_card", bundle, lambda: _model_card(bundle))


def calibration_curves(bundle: Any, by: str | None, n_bins: int) -> list[dict]:
    """Held-out calibration curves, computed once per bundle content; each call gets its own copies."""
    from .reporting import calibration_curve

    curves = per_bundle("calibration_curve", bundle, lambda: calibration_curve(bundle, by=by, n_bins=n_bins), by,
                        n_bins)
    return [dict(c) for c in curves]
