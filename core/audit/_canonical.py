"""The one serialization that is hashed: canonical JSON (sorted keys, separators ``","`` and ``":"``,
UTF-8, non-ASCII kept as is) and the chain rule ``hash = sha256(prev_hash + canonical body)``."""

from __future__ import annotations

import hashlib
import json
import math

GENESIS = "0" * 64  # the prev_hash of entry 1


def canonical_json(obj, *, floats: bool = True) -> str:
    """``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)``.

    With ``floats=False`` (entry bodies) a float anywhere raises TypeError: every number in a body is an
    integer, so a verifier in any language re-serializes it byte for byte. Numbers that were shown live
    in the stored report, which is covered through its sha256.
    """
    if not floats:
        _refuse_floats(obj, "body")
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _refuse_floats(obj, where: str) -> None:
    if isinstance(obj, float):
        raise TypeError(f"An audit-log entry body holds no floats; {where} is {obj!r}.")
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"An audit-log entry body has string keys only; {where} has {key!r}.")
            _refuse_floats(value, f"{where}.{key}")
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            _refuse_floats(value, f"{where}[{i}]")


def sha256_hex(data: str | bytes) -> str:
    """Hex sha256 of bytes, or of a string's UTF-8 encoding."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def chain_hash(prev_hash: str, body_json: str) -> str:
    """``sha256((prev_hash + body_json).encode("utf-8"))`` in hex: the hash of one entry."""
    return sha256_hex(prev_hash + body_json)


def report_json(report) -> str:
    """Canonical JSON of a report (floats allowed; NaN and infinities must already be None)."""
    if isinstance(report, float) and not math.isfinite(report):
        raise ValueError("A report cannot be a bare non-finite number.")
    return canonical_json(report)
