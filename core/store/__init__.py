"""The store: one SQLAlchemy 2 database (an embedded SQLite file by default, PostgreSQL on request),
its schema kept by Alembic migrations shipped inside the package.

>>> from core import store
>>> db = store.open_store()          # EQUIPOISE_DATABASE_URL, else EQUIPOISE_DATA_DIR/equipoise.sqlite3
>>> db.revision()                    # migrations are applied on open
'0001'
"""

from ._config import DATABASE_URL_ENV, DATA_DIR_ENV, data_dir, database_url, redact
from ._engine import Store, StoreError, open_store
from ._migrate import HEAD_REVISION, current_revision, upgrade
from .models import Base, ChainHeadRow, LogEntryRow

__all__ = [
    "Base",
    "ChainHeadRow",
    "DATABASE_URL_ENV",
    "DATA_DIR_ENV",
    "HEAD_REVISION",
    "LogEntryRow",
    "Store",
    "StoreError",
    "current_revision",
    "data_dir",
    "database_url",
    "open_store",
    "redact",
    "upgrade",
]
