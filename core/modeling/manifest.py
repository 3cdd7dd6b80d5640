"""The bundle manifest: a strict, bounded parser and the bundle id derived from the files' hashes.

A manifest is untrusted input: it is size-limited before parsing, every field's type is checked, file
names must be plain relative paths inside the bundle, hashes must be 64 lowercase hex digits, and the
``bundle_id`` it claims must equal the id recomputed from its ``files`` (:func:`content_id`). Anything
else is a :class:`BundleRefusedError` naming the field; never another exception.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .._errors import BundleIntegrityError

FORMAT = "equipoise-bundle/4"
MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
RESERVED = frozenset({MANIFEST, SIGNATURE})  # the only files a bundle may hold that the manifest does not list
FIELDS = ("format", "bundle_id", "cohort", "created_utc", "files")
MAX_MANIFEST_BYTES = 1 << 20   # 1 MiB; a trained bundle's manifest is ~11 kB
MAX_FILES = 4096               # a trained bundle has ~110
MAX_NAME = 255                 # characters in one file's relative path
MAX_DEPTH = 8                  # folders deep inside a bundle
MAX_COHORT = 200
ID_RULE = ("cohort name + '-' + the first 12 hex digits of the sha256 of the canonical JSON (keys sorted, no "
           "spaces, ASCII) of the map from file name to sha256")
# Format 4 (issue 24): bootstrap within arm only; risk modelling unless heterogeneity is validated.
# Format 3 (issue 16): the bundle id is recomputed from the file hashes on load, links and special files are
# refused, and a bundle may carry an Ed25519 signature.json over its manifest.
FORMAT_CHANGES = {
    "equipoise-bundle/1": ("its dose intervals were calibrated on out-of-fold residuals of a model tuned on them "
                           "(no valid guarantee) and its recalibration was never tested"),
    "equipoise-bundle/2": ("its bundle id was not checked against its files, so a manifest edited together with a "
                           "file still passed, and it could not carry a signature"),
    "equipoise-bundle/3": ("its bootstrap intervals resampled within arm and outcome, which fixed every arm's event "
                           "count and made the intervals on treatment differences about three times too narrow, and "
                           "it let trees model treatment-covariate interactions without validated heterogeneity"),
}
MSG_OLD_FORMAT = ("Bundle {path!r} has format {found!r}, written by an older Equipoise; this version reads {expected!r} "
                  "only ({why}). Refusing to load it. Retrain it: `equipoise train --cohort {cohort} --out {path}`, or "
                  "press 'Retrain this bundle' in the dashboard.")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class BundleRefusedError(BundleIntegrityError):
    """A bundle that exists but is refused: ``path``, the ``file`` at fault (None if the whole bundle), ``problem``,
    and for a malformed manifest or signature the ``field`` at fault."""

    def __init__(self, message: str, *, path: Path, file: str | None = None, problem: str = "",
                 field: str | None = None):
        super().__init__(message)
        self.path, self.file, self.problem, self.field = Path(path), file, problem or message, field


@dataclass(frozen=True)
class Manifest:
    """A parsed, checked manifest; ``raw`` is the exact bytes read (its sha256 is the bundle's sha256)."""

    format: str
    bundle_id: str
    cohort: str
    created_utc: str
    files: dict
    raw: bytes = b""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    def to_dict(self) -> dict:
        return {"format": self.format, "bundle_id": self.bundle_id, "cohort": self.cohort,
                "created_utc": self.created_utc, "files": dict(self.files)}

    def canonical(self) -> bytes:
        """The bytes a signature covers: the manifest's fields as canonical JSON."""
        return canonical_json(self.to_dict())


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def content_id(cohort: str, hashes: dict[str, str]) -> str:
    """The bundle id implied by the files' hashes (see ``ID_RULE``)."""
    return f"{cohort}-{hashlib.sha256(canonical_json(hashes)).hexdigest()[:12]}"


def check_file_name(name: Any) -> str | None:
    """Why ``name`` is not a safe relative path inside a bundle, or None if it is."""
    if not isinstance(name, str):
        return f"is a {type(name).__name__}, not a string"
    if not 1 <= len(name) <= MAX_NAME:
        return f"has {len(name)} characters; allowed 1–{MAX_NAME}"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in name):
        return "contains control or unassigned characters"
    if "\\" in name or name.startswith("/"):
        return "is absolute or uses backslashes; file names are relative, with '/' between folders"
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "has an empty, '.' or '..' part: it must stay inside the bundle"
    if len(parts) > MAX_DEPTH:
        return f"is {len(parts)} folders deep; allowed {MAX_DEPTH}"
    if name in RESERVED:
        return f"is reserved ({', '.join(sorted(RESERVED))} are never listed in the manifest)"
    return None


def parse_manifest(data: bytes, *, path: str | Path = "<bundle>") -> Manifest:
    """Parse and check a manifest's bytes; raise :class:`BundleRefusedError` naming the field at fault."""
    path = Path(path)

    def refuse(field: str | None, problem: str):
        where = f"field {field!r} of " if field else ""
        raise BundleRefusedError(f"The {where}{MANIFEST} of bundle {str(path)!r} {problem}: refusing to load it.",
                                 path=path, file=MANIFEST, problem=f"{field}: {problem}" if field else problem,
                                 field=field)

    if not isinstance(data, (bytes, bytearray)):
        refuse(None, f"is a {type(data).__name__}, not bytes")
    if len(data) > MAX_MANIFEST_BYTES:
        refuse(None, f"is {len(data):,} bytes; the limit is {MAX_MANIFEST_BYTES:,}")
    doc = _decode(bytes(data), refuse)
    if not isinstance(doc, dict):
        refuse(None, f"holds a JSON {_kind(doc)}, not an object of fields")
    found = doc.get("format")
    if found != FORMAT:
        if found is None:
            refuse("format", "is missing")
        if not isinstance(found, str):
            refuse("format", f"is a JSON {_kind(found)}, not a string")
        cohort = doc.get("cohort") if isinstance(doc.get("cohort"), str) and _cohort_problem(doc["cohort"]) is None \
            else "NAME"
        why = FORMAT_CHANGES.get(found, "an unknown format")
        shown = found[:60] if isinstance(found, str) else found
        raise BundleRefusedError(MSG_OLD_FORMAT.format(path=str(path), found=shown, expected=FORMAT, why=why,
                                                       cohort=cohort), path=path, file=MANIFEST, field="format",
                                 problem=f"format {_short(found)}, expected {FORMAT!r}")
    unknown = sorted(set(doc) - set(FIELDS))
    if unknown:
        refuse(unknown[0][:60], f"is not a manifest field (allowed: {', '.join(FIELDS)})")
    for name in FIELDS:
        if name not in doc:
            refuse(name, "is missing")
        if name != "files" and not isinstance(doc[name], str):
            refuse(name, f"is a JSON {_kind(doc[name])}, not a string")
    cohort = doc["cohort"]
    if (problem := _cohort_problem(cohort)) is not None:
        refuse("cohort", problem)
    if len(doc["created_utc"]) > 64 or not _is_iso_time(doc["created_utc"]):
        refuse("created_utc", f"is {_short(doc['created_utc'])}, not an ISO 8601 time")
    files = doc["files"]
    if not isinstance(files, dict):
        refuse("files", f"is a JSON {_kind(files)}, not an object mapping file names to sha256 hashes")
    if not 1 <= len(files) <= MAX_FILES:
        refuse("files", f"lists {len(files)} files; allowed 1–{MAX_FILES}")
    for name, digest in files.items():
        if (problem := check_file_name(name)) is not None:
            refuse("files", f"names a file {_short(name)} that {problem}")
        if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            refuse(f"files.{name}", f"is {_short(digest)}; a sha256 must be 64 lowercase hex digits")
    expected = content_id(cohort, files)
    if doc["bundle_id"] != expected:
        raise BundleRefusedError(
            f"The {MANIFEST} of bundle {str(path)!r} claims bundle id {_short(doc['bundle_id'])}, but its file hashes "
            f"give {expected!r}: the manifest was edited after the bundle was built (for example a file replaced "
            "together with its hash). Refusing to load it.", path=path, file=MANIFEST, field="bundle_id",
            problem=f"bundle_id {_short(doc['bundle_id'])} does not match its file hashes ({expected!r})")
    return Manifest(format=FORMAT, bundle_id=expected, cohort=cohort, created_utc=doc["created_utc"],
                    files=dict(files), raw=bytes(data))


def make_manifest(cohort: str, hashes: dict[str, str], created_utc: str) -> Manifest:
    doc = {"format": FORMAT, "bundle_id": content_id(cohort, hashes), "cohort": cohort,
           "created_utc": created_utc, "files": dict(sorted(hashes.items()))}
    raw = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return parse_manifest(raw)  # what is written is exactly what a loader accepts


# --- helpers -------------------------------------------------------------------------------------


def _decode(data: bytes, refuse):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        refuse(None, f"is not UTF-8 text (byte {exc.start})")

    def pairs(items):
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            dup = next(k for k in keys if keys.count(k) > 1)
            refuse(str(dup)[:60], "appears twice in one object (ambiguous)")
        return dict(items)

    def constant(name):
        refuse(None, f"contains {name}, which is not JSON")

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        refuse(None, f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})")
    except RecursionError:
        refuse(None, "is nested too deeply")
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        refuse(None, f"holds a value that cannot be read ({str(exc)[:80]})")


def _cohort_problem(cohort: str) -> str | None:
    if not 1 <= len(cohort) <= MAX_COHORT:
        return f"has {len(cohort)} characters; allowed 1–{MAX_COHORT}"
    if any(unicodedata.category(c).startswith("C") for c in cohort):
        return "contains control characters"
    return None


def _is_iso_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number",
            type(None): "null"}.get(type(value), type(value).__name__)


def _short(value: Any, limit: int = 60) -> str:
    """A value as it may appear in a message: its repr, cut to ``limit`` characters."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10 ** limit:
        return f"an integer of more than {limit} digits"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
