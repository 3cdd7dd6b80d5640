"""Writing a file the user names with ``--out``: an existing path (a file, a folder, a symlink — dangling or
not) is refused unless ``--force``; the content goes to a new temporary file beside it, moved into place only
once complete. So a symlink is never followed: with ``--force`` the link itself is replaced by the new file
and whatever it pointed to is left alone; without it, an output that appears meanwhile is not overwritten.
``predict --out``, ``board export --out`` and ``log export --out`` all use this rule."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ._errors import InputFileError

MSG_OUT_EXISTS = ("The output file {path} already exists: refusing to overwrite it. Choose another --out, or pass "
                  "--force to replace it.")
MSG_OUT_FOLDER = "--out {path!r} is a folder; name a file."
MSG_OUT_NO_FOLDER = "--out {path!r} is in a folder that does not exist: {folder}."

__all__ = ["MSG_OUT_EXISTS", "check_out_path", "replacing", "write_out"]


def check_out_path(out: str | Path, *, force: bool) -> Path:
    """``out`` as a path, refused (:class:`InputFileError`) if it exists without ``force``, is a folder, or is in
    a folder that does not exist. ``os.path.lexists``: a symlink counts as existing even when it dangles."""
    out = Path(out)
    if os.path.lexists(out) and not force:
        raise InputFileError(MSG_OUT_EXISTS.format(path=out))
    if out.is_dir() and not out.is_symlink():
        raise InputFileError(MSG_OUT_FOLDER.format(path=str(out)))
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise InputFileError(MSG_OUT_NO_FOLDER.format(path=str(out), folder=folder))
    return out


@contextmanager
def replacing(out: Path, *, force: bool, binary: bool = False) -> Iterator:
    """A stream on a new temporary file beside ``out``; on success it becomes ``out`` (replacing it only with
    ``force``; a symlink at ``out`` is replaced, never written through); on error it is removed."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent if str(out.parent) else ".")
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)  # as an ordinary new file (mkstemp makes it private)
    tmp = Path(tmp)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        if force:
            os.replace(tmp, out)
        else:
            try:
                os.link(tmp, out)  # atomic, and fails if something appeared at out meanwhile
            except FileExistsError:
                raise InputFileError(MSG_OUT_EXISTS.format(path=out)) from None
    finally:
        tmp.unlink(missing_ok=True)


def write_out(out: Path, content: bytes, *, force: bool) -> None:
    """Write ``content`` to ``out`` by the rule above (``out`` already passed :func:`check_out_path`)."""
    with replacing(out, force=force, binary=True) as stream:
        stream.write(content)
