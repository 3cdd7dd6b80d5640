"""Every table of the store on one ``MetaData``: the audit log's, the tumor board's and trainee mode's.

Alembic's environment and the migration test read it from here, so autogenerate compares the database with
every table the code defines (it once proposed dropping the board and training tables)."""

from __future__ import annotations

from sqlalchemy import MetaData


def metadata() -> MetaData:
    from . import board_tables, training_tables  # noqa: F401  (their tables register on Base.metadata)
    from .models import Base

    return Base.metadata
