"""Alembic, driven from code: the migrations live in ``core/store/migrations`` (package data), so
``equipoise db upgrade`` works from an installed package without an ``alembic.ini``."""

from __future__ import annotations

from sqlalchemy import inspect, text

HEAD_REVISION = "0004"
SCRIPT_LOCATION = "core.store:migrations"
PG_MIGRATION_LOCK = 0x45515550  # pg_advisory_xact_lock key: one migrating process at a time


def alembic_config(url: str | None = None):
    """An Alembic Config pointing at the packaged migrations (and, for the alembic CLI, at ``url``)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def current_revision(store) -> str | None:
    """The revision recorded in ``alembic_version`` (None if the database is empty)."""
    with store.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(store, revision: str = "head") -> str:
    """Apply every migration up to ``revision`` in one transaction that holds the database's write
    lock, so two processes starting together do not both migrate. Returns the revision reached."""
    if revision == "head" and current_revision(store) == HEAD_REVISION:
        return HEAD_REVISION
    from alembic import command
    config = alembic_config()
    with store.engine.connect().execution_options(equipoise_immediate=True) as conn:
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    return current_revision(store)
