"""Alembic environment for Equipoise's store: runs on the connection Equipoise hands over
(``config.attributes["connection"]``), or on ``sqlalchemy.url`` when run by the ``alembic`` command."""

from alembic import context

from core.store.metadata import metadata

TARGET = metadata()  # every table (log, board, training), so autogenerate never proposes dropping one

config = context.config


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=TARGET,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=TARGET,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif config.attributes.get("connection") is not None:
    _run(config.attributes["connection"])
else:
    from core.store import open_store

    store = open_store(config.get_main_option("sqlalchemy.url"), upgrade=False)
    with store.engine.connect() as conn:
        _run(conn)
        conn.commit()
    store.close()
