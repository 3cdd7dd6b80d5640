"""The keyed hash that stands for a patient in the log: HMAC-SHA256 under a secret key kept in the data
directory (created on first use), so the log never holds a raw identifier and a reader of the database
alone cannot test guesses of one."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = "audit-hmac.key"
KEY_ENV = "EQUIPOISE_AUDIT_KEY_FILE"


def key_path(data_dir: str | Path) -> Path:
    """``$EQUIPOISE_AUDIT_KEY_FILE``, else ``DATA_DIR/audit-hmac.key``."""
    return Path(os.environ.get(KEY_ENV) or Path(data_dir) / KEY_FILE)


def write_new_secret(path: Path, text: str, *, replace: bool = False) -> None:
    """Write ``text`` to ``path`` as a new file of mode 0600, atomically. Without ``replace`` a file another
    process made first wins (its content is kept); with it, ``path`` is replaced (never written through: a
    symlink at ``path`` is replaced by the new file, its target left alone)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, text.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        if replace:
            os.replace(tmp, path)
            return
        os.link(tmp, path)  # fails if another process made the key first: use theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def load_key(data_dir: str | Path) -> bytes:
    """The 32-byte key, created (mode 0600, atomically: two processes agree on one key) if absent."""
    path = key_path(data_dir)
    if not path.exists():
        write_new_secret(path, secrets.token_hex(32) + "\n")
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise ValueError(f"The audit key file {str(path)!r} does not hold a hex key of at least 16 bytes.")
    return key


def patient_reference(key: bytes, identifier: str, *, basis: str = "id") -> str:
    """HMAC-SHA256 (hex) of ``basis:identifier``: the same patient always gets the same reference."""
    return hmac.new(key, f"{basis}:{identifier}".encode("utf-8"), "sha256").hexdigest()
