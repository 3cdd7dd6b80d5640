"""Writing bundles without destroying anything: one writer per bundle path (a file lock), a temporary sibling
renamed into place, and whatever stood at the path kept beside it in ``DIR.versions/``.

* A path that does not exist, or an empty folder, is simply written.
* A verified bundle there is moved to ``DIR.versions/<its bundle_id>/`` (so a log entry naming that id can
  always be followed to the bundle), then the new one is renamed into place.
* Anything else (a user's folder or file, a refused bundle) is refused with a :class:`BundleTargetError`,
  and nothing is touched — unless ``force``: then it is renamed to ``DIR.versions/moved-aside-<UTC time>``
  (``refused-<UTC time>`` for a refused bundle). Nothing is ever deleted.

The lock is ``fcntl.flock`` on ``.<name>.lock`` beside the path; it excludes other processes and other
threads of this process (each acquisition opens its own file description) and is re-entrant per thread.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from .._errors import BundleIntegrityError
from .manifest import MANIFEST

VERSIONS = ".versions"
PARTIAL = ".equipoise-partial"  # inside a temporary folder while it is being written: marks it as ours
MISSING, EMPTY, BUNDLE, OTHER = "missing", "empty", "bundle", "other"
_held = threading.local()


class BundleTargetError(BundleIntegrityError):
    """The output path holds something that is not a verified bundle; nothing was changed."""


def target(out: str | Path) -> Path:
    """The absolute output path, without following a link (``.`` is the working directory itself)."""
    path = Path(os.path.abspath(os.fspath(out)))
    if path == path.parent:
        raise BundleTargetError(f"A bundle cannot be written to {str(path)!r}, the root of the file system.")
    return path


def versions_dir(out: str | Path) -> Path:
    t = target(out)
    return t.parent / f"{t.name}{VERSIONS}"


@contextmanager
def bundle_lock(out: str | Path, *, on_wait: Callable[[], None] | None = None) -> Iterator[bool]:
    """Hold the bundle path's lock; yields True if another process or thread held it and we waited."""
    t = target(out)
    held = _held.__dict__.setdefault("paths", set())
    if t in held:  # re-entrant within one thread
        yield False
        return
    t.parent.mkdir(parents=True, exist_ok=True)
    lock = t.parent / f".{t.name}.lock"
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise BundleTargetError(f"Cannot create the lock file {str(lock)!r} beside the bundle ({exc.strerror}); "
                                "the folder must be writable.") from None
    try:
        waited = False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waited = True
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        held.add(t)
        try:
            yield waited
        finally:
            held.discard(t)
    finally:
        os.close(fd)  # releases the lock; the lock file stays (removing it would race with a waiter)


def inspect_target(out: str | Path) -> tuple[str, str, str | None]:
    """``(state, what it holds in words, bundle id if it is a verified bundle)`` for an output path."""
    from .bundle_reader import verify_bundle

    t = target(out)
    if not os.path.lexists(t):
        return MISSING, "nothing", None
    if t.is_symlink():
        return OTHER, f"a link to {os.readlink(t)!r}", None
    if not t.is_dir():
        return OTHER, f"a file of {t.stat().st_size:,} bytes", None
    try:
        entries = sorted(os.listdir(t))
    except OSError as exc:
        return OTHER, f"a folder that cannot be listed ({exc.strerror})", None
    if not entries:
        return EMPTY, "an empty folder", None
    try:
        manifest = verify_bundle(t, trust=False)
    except BundleIntegrityError as exc:
        if MANIFEST in entries:
            return OTHER, f"a bundle that fails its check ({getattr(exc, 'problem', exc)})", None
        shown = ", ".join(repr(e + ("/" if (t / e).is_dir() else "")) for e in entries[:5])
        return OTHER, f"a folder with {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} ({shown}" + \
            (", …)" if len(entries) > 5 else ")"), None
    return BUNDLE, f"the verified bundle {manifest['bundle_id']}", manifest["bundle_id"]


def verified_sha(out: str | Path) -> str | None:
    """The manifest sha256 of the verified bundle at ``out`` (signature not considered), or None if there is none."""
    from .bundle_reader import verify_bundle

    try:
        return verify_bundle(target(out), trust=False)["sha256"]
    except BundleIntegrityError:
        return None


def check_target(out: str | Path, *, force: bool = False) -> tuple[str, str, str | None]:
    """Refuse (BundleTargetError) an output path holding something that is not a verified bundle, unless ``force``."""
    state, what, bundle_id = inspect_target(out)
    if state == OTHER and not force:
        t = target(out)
        raise BundleTargetError(
            f"Refusing to write the bundle to {str(t)!r}: it already exists and holds {what}, not a verified Equipoise "
            f"bundle. Nothing was changed. Choose another --out, move it away yourself, or pass --force to move it "
            f"aside into {str(versions_dir(t))!r} (renamed, never deleted).")
    return state, what, bundle_id


def write_tree(blobs: Mapping[str, bytes], out: str | Path, *, force: bool = False,
               progress: Callable[[str], None] | None = None) -> Path:
    """Write ``blobs`` (relative name -> bytes) as the folder ``out``, keeping whatever was there; returns the path."""
    say = progress or (lambda _m: None)
    t = target(out)
    with bundle_lock(t):
        check_target(t, force=force)
        clean_orphans(t, say=say)
        tmp = Path(tempfile.mkdtemp(prefix=f".{t.name}.tmp-", dir=t.parent))
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; a bundle is read by the dashboard too
        try:
            _write(tmp / PARTIAL, b"an Equipoise bundle being written; removed if its writer was stopped\n")
            for name, data in blobs.items():
                _write(tmp / name, data)
            for folder in {(tmp / name).parent for name in blobs}:
                _fsync(folder)
            _install(tmp, t, force=force, say=say)
        finally:
            if tmp.exists():  # our own temporary copy, never anything of the user's
                shutil.rmtree(tmp, ignore_errors=True)
    return t


def clean_orphans(out: str | Path, *, say: Callable[[str], None] = lambda _m: None) -> list[str]:
    """Remove the temporary folders a writer of this same path left when it was killed (SIGKILL, power loss);
    call it holding the path's lock, so no live writer owns one. Only a real folder (not a link) named
    ``.<name>.tmp-…``, owned by this user and holding the :data:`PARTIAL` marker is ours; anything else is
    never touched. Returns the names removed."""
    t = target(out)
    prefix, removed = f".{t.name}.tmp-", []
    try:
        entries = list(os.scandir(t.parent))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix) or not entry.is_dir(follow_symlinks=False):
            continue
        marker = Path(entry.path) / PARTIAL
        if entry.stat(follow_symlinks=False).st_uid != os.getuid() or marker.is_symlink() or not marker.is_file():
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.name)
        say(f"removed {entry.name}, an unfinished copy left by a writer that was stopped")
    return removed


def _install(tmp: Path, t: Path, *, force: bool, say: Callable[[str], None]) -> None:
    state, what, bundle_id = check_target(t, force=force)
    if state in (BUNDLE, OTHER):
        versions = versions_dir(t)
        if os.path.lexists(versions) and (versions.is_symlink() or not versions.is_dir()):
            raise BundleTargetError(f"{str(versions)!r} exists and is not a folder; the bundle at {str(t)!r} cannot be "
                                    "kept there. Nothing was changed.")
        versions.mkdir(exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        label = bundle_id if state == BUNDLE else f"{'refused' if what.startswith('a bundle') else 'moved-aside'}-{stamp}"
        dest = _free(versions / label)
        os.rename(t, dest)
        say(f"the previous content of {t} ({what}) was kept at {dest}")
    (tmp / PARTIAL).unlink()  # complete: the marker goes just before the rename (a kill between leaves it unmarked)
    try:
        os.rename(tmp, t)  # atomic; replaces only an empty folder
    except OSError as exc:
        raise BundleTargetError(f"Could not move the new bundle into {str(t)!r} ({exc.strerror}); something else "
                                "was created there meanwhile. Nothing of it was changed.") from None
    _fsync(t.parent)


def _free(path: Path) -> Path:
    if not os.path.lexists(path):
        return path
    n = 2
    while os.path.lexists(path.with_name(f"{path.name}.{n}")):
        n += 1
    return path.with_name(f"{path.name}.{n}")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
