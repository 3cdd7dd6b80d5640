"""Alembic sees every table: autogenerate against a freshly migrated store proposes no change (it once proposed
dropping the board and training tables, because env.py imported only the log's models)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.store.metadata import metadata


def _diff(url: str) -> list:
    from core.store import open_store

    store = open_store(url)  # migrated to head
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"render_as_batch": conn.dialect.name == "sqlite"})
            return compare_metadata(context, metadata())
    finally:
        store.close()


def test_a_migrated_sqlite_store_matches_the_models(tmp_path):
    assert _diff(f"sqlite:///{tmp_path / 'store.sqlite3'}") == []


def test_a_migrated_postgresql_store_matches_the_models():
    import _pgcluster

    try:
        admin, _ = _pgcluster.server_url()
    except Exception as exc:  # no PostgreSQL binaries on this machine
        pytest.skip(f"PostgreSQL not available: {exc}")
    url, drop = _pgcluster.fresh_database(admin)
    try:
        assert _diff(url) == []
    finally:
        drop()
