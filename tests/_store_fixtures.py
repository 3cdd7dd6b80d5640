"""Fixtures for the store tests: ``db_url`` runs a test once on SQLite and once on PostgreSQL (skipped,
with the reason, where no PostgreSQL can be had). Import them into a test module."""

from __future__ import annotations

import pytest

import _pgcluster

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, monkeypatch):
    """The URL of an empty database on each backend; the data dir (HMAC key) is the test's tmp dir."""
    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EQUIPOISE_DATABASE_URL", raising=False)
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    admin, why = _pgcluster.server_url()
    if admin is None:
        pytest.skip(f"PostgreSQL store tests skipped: {why}")
    url, drop = _pgcluster.fresh_database(admin)
    yield url
    drop()


@pytest.fixture
def log(db_url):
    """An empty audit log on each backend."""
    from core import service

    audit_log = service.open_log(db_url)
    yield audit_log
    audit_log.store.close()
