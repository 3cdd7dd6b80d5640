"""Engines and sessions: SQLite in WAL mode with ``synchronous=FULL`` and explicit ``BEGIN [IMMEDIATE]``;
PostgreSQL through psycopg 3. One :class:`Store` per database URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from .._errors import EquipoiseError
from ._config import DATABASE_URL_ENV, database_url, redact

SQLITE_BUSY_TIMEOUT_MS = 30_000
IMMEDIATE = "equipoise_immediate"  # execution option: take the write lock at BEGIN (SQLite)


class StoreError(EquipoiseError):
    """The database could not be opened, upgraded or written."""


class Store:
    """One database: its URL, engine and session factory. ``session(write=True)`` starts a transaction
    that holds the write lock from its first statement (SQLite ``BEGIN IMMEDIATE``), so two writers
    never interleave; on PostgreSQL writers lock a row instead (see :mod:`core.audit.log`)."""

    def __init__(self, url: str):
        self.url = url
        self.engine: Engine = _make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self.engine.execution_options(**{IMMEDIATE: True}),
                                            expire_on_commit=False)
        snapshot = self.engine if self.dialect == "sqlite" else self.engine.execution_options(
            isolation_level="REPEATABLE READ")  # SQLite: every read transaction is already one snapshot
        self._snapshot_sessions = sessionmaker(snapshot, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        return redact(self.url)

    @contextmanager
    def session(self, *, write: bool = False, snapshot: bool = False) -> Iterator[Session]:
        """A session in one transaction, committed on success and rolled back on error. ``snapshot``: every
        read sees the same state of the database (PostgreSQL ``REPEATABLE READ``)."""
        factory = self._write_sessions if write else self._snapshot_sessions if snapshot else self._sessions
        with factory() as session, session.begin():
            yield session

    def revision(self) -> str | None:
        """The Alembic revision the database is at (None before the first upgrade)."""
        from ._migrate import current_revision

        return current_revision(self)

    def close(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({self.display_url!r})"


def open_store(url: str | None = None, *, upgrade: bool = True) -> Store:
    """The store at ``url`` (default :func:`database_url`), with its migrations applied unless
    ``upgrade=False``. Raises :class:`StoreError` with the (password-free) URL if it cannot be opened."""
    url = url or database_url()
    try:
        store = Store(url)
        if upgrade:
            from ._migrate import upgrade as _upgrade

            _upgrade(store)
        return store
    except StoreError:
        raise
    except (SQLAlchemyError, OSError, ValueError) as exc:
        raise StoreError(f"The database {redact(url)!r} could not be opened: {_reason(exc)}. Check "
                         f"{DATABASE_URL_ENV} (or EQUIPOISE_DATA_DIR for the default SQLite file).") from exc


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def _create_private_sqlite_file(url: str) -> None:
    """Create the SQLite file (if absent) as mode 0600 before SQLite does (it would use 0644 less the umask):
    it holds the audit log, PHI. Its -wal and -shm files take the same mode. An existing file is left as it
    is, and a symlink is never followed to create one."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # e.g. the folder is missing: SQLite's own error names it when it opens the file
    os.close(fd)


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _create_private_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _sqlite_pragmas(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL journal, synchronous=FULL (a commit survives power loss), and transactions that SQLAlchemy
    begins itself, so ``BEGIN IMMEDIATE`` is possible (the SQLAlchemy pysqlite recipe)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # no implicit BEGIN from the sqlite3 module
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = connection.get_execution_options().get(IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
