"""Reading a bundle safely: every file once, through no link, within size limits, checked against the manifest,
its id and (with ``trust``) its signature *before* anything is parsed. :mod:`core.modeling.bundle` parses the
very bytes returned here; :mod:`core.modeling.bundle_store` uses :func:`verify_bundle` before it replaces anything."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .._errors import BundleIntegrityError  # noqa: F401  (raised through BundleRefusedError, its subclass)
from ..data.cohorts._sources import sha256_bytes
from .manifest import MANIFEST, MAX_DEPTH, MAX_FILES, MAX_MANIFEST_BYTES, SIGNATURE, BundleRefusedError, Manifest, parse_manifest
from .signing import UNSIGNED, SignatureInfo, check_signature, trusted_keys_from_env

MAX_FILE_BYTES = 256 << 20    # one file; a trained bundle's largest is ~130 kB
MAX_BUNDLE_BYTES = 1 << 30    # all files together; a trained bundle is ~3 MB


def verify_bundle(path: str | Path, *, trust: bool = True) -> dict:
    """Check the manifest against the files on disk; return the manifest or raise BundleIntegrityError.

    A bundle that does not exist raises :class:`BundleIntegrityError`; one that exists but fails its
    manifest raises :class:`BundleRefusedError`, naming the file and what failed. With ``trust`` (the
    default) the signature is checked against ``EQUIPOISE_TRUSTED_KEYS`` too. The returned dict adds the
    manifest's ``sha256`` and ``signed_by`` to its fields.
    """
    manifest, _contents, signature = read_bundle(Path(path), trust=trust)
    return {**manifest.to_dict(), "sha256": manifest.sha256,
            "signed_by": signature.to_dict() if signature else dict(UNSIGNED)}



def read_bundle(path: Path, *, trust: bool) -> tuple[Manifest, dict[str, bytes], SignatureInfo | None]:
    if not path.is_dir():
        raise BundleIntegrityError(f"Model bundle {str(path)!r} does not exist or is not a directory. "
                                   "Train one with `equipoise train --cohort NAME --out DIR`.")

    def refuse(message: str, file: str | None, problem: str):
        raise BundleRefusedError(message, path=path, file=file, problem=problem)

    try:
        root = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        refuse(f"Model bundle {str(path)!r} cannot be opened ({exc.strerror}).", None, "cannot be opened")
    try:
        raw = _read_at(root, MANIFEST, MANIFEST, MAX_MANIFEST_BYTES, path)
        if raw is None:
            refuse(f"Model bundle {str(path)!r} has no {MANIFEST}: refusing to load it.", MANIFEST, "missing")
        manifest = parse_manifest(raw, path=path)
        contents: dict[str, bytes] = {}
        extra: list[str] = []
        try:
            _walk(root, "", set(manifest.files) | {SIGNATURE}, contents, extra, path, [0, 0])
        except OSError as exc:  # e.g. an unreadable folder, or a file swapped for a link while we read
            refuse(f"Model bundle {str(path)!r} cannot be read ({exc.strerror}: {exc.filename or ''}).", None,
                   "cannot be read")
    finally:
        os.close(root)
    signature_bytes = contents.pop(SIGNATURE, None)
    missing, extra = sorted(set(manifest.files) - set(contents)), sorted(extra)
    if missing:
        refuse(f"Bundle {str(path)!r} is missing file(s) {missing[:10]} listed in its manifest.", missing[0],
               "missing (listed in the manifest)")
    if extra:
        refuse(f"Bundle {str(path)!r} has file(s) {extra[:10]} that its manifest does not list.", extra[0],
               "not listed in the manifest")
    for name, expected in manifest.files.items():
        actual = sha256_bytes(contents[name])
        if actual != expected:
            refuse(f"Bundle file {name!r} in {str(path)!r} has sha256 {actual[:16]}…, but the manifest says "
                   f"{expected[:16]}…: it was changed after training. Refusing to load.", name,
                   "changed after training (sha256 differs from the manifest)")
    signature = None
    if trust:
        signature = check_signature(manifest, signature_bytes, path=path, trusted=trusted_keys_from_env())
    return manifest, contents, signature


def _walk(dir_fd: int, prefix: str, wanted: set[str], contents: dict, extra: list, path: Path, budget: list) -> None:
    """Read every wanted regular file under ``dir_fd``; refuse links and special files; note unlisted files."""
    with os.scandir(dir_fd) as it:
        names = sorted(e.name for e in it)
    for name in names:
        rel = prefix + name
        budget[0] += 1
        if budget[0] > MAX_FILES + 16:
            raise BundleRefusedError(f"Bundle {str(path)!r} holds more than {MAX_FILES} files. Refusing to load it.",
                                     path=path, problem="too many files")
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):
            raise BundleRefusedError(f"Bundle {str(path)!r} holds a link {rel!r}: links inside a bundle are refused "
                                     "(they can point outside it). Refusing to load it.", path=path, file=rel,
                                     problem="a link (links inside a bundle are refused)")
        if stat.S_ISDIR(info.st_mode):
            if rel.count("/") + 1 >= MAX_DEPTH:
                raise BundleRefusedError(f"Bundle {str(path)!r} nests folders deeper than {MAX_DEPTH} at {rel!r}.",
                                         path=path, file=rel, problem="nested too deeply")
            sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            try:
                _walk(sub, rel + "/", wanted, contents, extra, path, budget)
            finally:
                os.close(sub)
        elif not stat.S_ISREG(info.st_mode):
            raise BundleRefusedError(f"Bundle {str(path)!r} holds {rel!r}, which is not a regular file (a device, "
                                     "socket or pipe). Refusing to load it.", path=path, file=rel,
                                     problem="not a regular file")
        elif rel == MANIFEST:
            continue
        elif rel in wanted:
            data = _read_at(dir_fd, name, rel, MAX_FILE_BYTES, path)
            budget[1] += len(data)
            if budget[1] > MAX_BUNDLE_BYTES:
                raise BundleRefusedError(f"Bundle {str(path)!r} is larger than {MAX_BUNDLE_BYTES:,} bytes. Refusing "
                                         "to load it.", path=path, file=rel, problem="too large")
            contents[rel] = data
        else:
            extra.append(rel)


def _read_at(dir_fd: int, name: str, rel: str, limit: int, path: Path) -> bytes | None:
    """The bytes of the regular file ``name`` in ``dir_fd`` (never through a link), or None if it does not exist."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BundleRefusedError(f"Bundle file {rel!r} in {str(path)!r} cannot be opened ({exc.strerror}; links are "
                                 "refused). Refusing to load it.", path=path, file=rel, problem="cannot be opened") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            raise BundleRefusedError(f"Bundle file {rel!r} in {str(path)!r} is not a regular file of at most "
                                     f"{limit:,} bytes. Refusing to load it.", path=path, file=rel,
                                     problem="not a regular file, or too large")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise BundleRefusedError(f"Bundle file {rel!r} in {str(path)!r} is larger than {limit:,} bytes.", path=path,
                                 file=rel, problem="too large")
    return data
