"""Where the data lives: ``EQUIPOISE_DATA_DIR`` (default ``./data``) and the database URL."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "EQUIPOISE_DATA_DIR"
DATABASE_URL_ENV = "EQUIPOISE_DATABASE_URL"
SQLITE_FILE = "equipoise.sqlite3"


def data_dir() -> Path:
    """``$EQUIPOISE_DATA_DIR`` or ``data/`` in the working directory, created (mode 0700) if absent."""
    path = Path(os.environ.get(DATA_DIR_ENV) or "data")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def database_url() -> str:
    """``$EQUIPOISE_DATABASE_URL`` (e.g. ``postgresql+psycopg://user@host/db``), else the SQLite file in the
    data directory."""
    url = os.environ.get(DATABASE_URL_ENV)
    if url:
        return url
    return f"sqlite:///{(data_dir() / SQLITE_FILE).resolve()}"


def redact(url: str) -> str:
    """The URL with any password replaced by ``***``, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL we can parse: show only its scheme
        return url.split(":", 1)[0] + ":…"
