"""Bounds on what a CDS Client's request may store: body size, identifier length, and visible text.

A CDS Hooks request is read at most :data:`MAX_BODY_BYTES` (larger → 413, decided while reading, whatever
``Content-Length`` says); every identifier the audit log keeps (``hookInstance``, user ids, card ids) is at
most :data:`MAX_ID_CHARS` characters (longer → 422 naming the field); text a client chose that is kept (the
``userId`` it claims) has control and bidirectional-override characters written as visible ``\\uXXXX``.
"""

from __future__ import annotations

import re

MAX_BODY_BYTES = 1_000_000        # a patient-view call with its prefetch is tens of kB
MAX_ID_CHARS = 200                # a UUID is 36; FHIR ids at most 64; references a little more
MAX_TIMESTAMP_CHARS = 64
MAX_OVERRIDE_REASON_CHARS = 4_000  # an override reason as JSON (coding plus a user comment)
MAX_FEEDBACK_ITEMS = 100

# C0 and C1 controls, DEL, bidi marks, embeddings, overrides and isolates, line/paragraph separators, BOM
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def visible(text: str) -> str:
    """``text`` with every control or bidi character written as ``\\uXXXX`` (so U+202E cannot reorder a log line)."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
