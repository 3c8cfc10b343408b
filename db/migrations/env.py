"""Alembic environment: migrate the connection db.migrate passes, or a URL from `-x url=`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from db.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata

# Any constant works as the key, as long as every upgrader uses the same one.
POSTGRES_MIGRATION_LOCK = 7_241_905


def render_item(kind: str, item: object, autogen_context: object) -> str | bool:
    """Write UTCDateTime columns as plain DateTime, so migrations never import the models."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations(connection: Connection) -> None:
    """Run the migrations on one connection inside one transaction."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters tables by copying them; batch mode does that for us.
        render_as_batch=connection.dialect.name == "sqlite",
        # db.engine makes SQLite connections issue BEGIN themselves, so DDL
        # there is transactional too and a failed migration rolls back.
        transactional_ddl=True,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two processes starting together must not both create the tables.
            # On SQLite, BEGIN IMMEDIATE from db.engine serializes them already.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_MIGRATION_LOCK})
        context.run_migrations()


def run_migrations_online() -> None:
    """Use the caller's connection, or open one from the `-x url=` argument."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return

    from db.engine import make_sync_engine

    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("missing database URL: pass -x url=sqlite:///var/lyricbot.sqlite3, or run `python -m db upgrade`")
    engine = make_sync_engine(url)
    try:
        with engine.begin() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run them against a database")
run_migrations_online()
