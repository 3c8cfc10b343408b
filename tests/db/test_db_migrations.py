"""Migrations: they build the schema the models describe, on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from db.engine import make_sync_engine, upgrade
from db.migrate import current_revision, head_revision
from db.models import Base
from db_testing import scratch_schema, start_together, sync_engine, worker_command

# Alembic cannot reflect the expression index that allows one active run;
# _assert_one_active_index checks it instead.
pytestmark = [
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index"),
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
]


def _differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_sqlite_migrations_match_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.sqlite3"
    upgrade(url)
    engine = make_sync_engine(url)
    try:
        assert _differences(engine) == []
        assert current_revision(engine) == head_revision()
        _assert_one_active_index(engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_migrations_match_models() -> None:
    with scratch_schema("lyricbot_migrate") as (url, schema):
        engine = sync_engine(url, schema)
        try:
            upgrade(engine)
            assert _differences(engine) == []
            assert current_revision(engine) == head_revision()
            _assert_one_active_index(engine)
        finally:
            engine.dispose()


def _assert_one_active_index(engine) -> None:
    # Neither Alembic nor the inspector reads expression indexes, so ask the catalog.
    if engine.dialect.name == "sqlite":
        query = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'uq_training_runs_one_active'"
    else:
        query = "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_training_runs_one_active' AND schemaname = current_schema()"
    with engine.connect() as connection:
        definition = connection.scalar(text(query))
    assert definition is not None
    assert "UNIQUE" in definition.upper()
    assert "queued" in definition
    assert "running" in definition


def test_upgrade_twice_is_noop(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/twice.sqlite3"
    upgrade(url)
    upgrade(url)
    engine = make_sync_engine(url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_downgrade_to_base_drops_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/down.sqlite3"
    upgrade(url)
    from alembic import command

    from db.migrate import alembic_config

    engine = make_sync_engine(url)
    try:
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_ship_with_package() -> None:
    package = Path(__file__).resolve().parents[2] / "db"
    assert (package / "alembic.ini").is_file()
    assert (package / "migrations" / "env.py").is_file()
    assert (package / "migrations" / "script.py.mako").is_file()
    assert list((package / "migrations" / "versions").glob("*.py"))


def _upgrade_in_parallel(url: str, schema: str | None) -> None:
    command = worker_command("upgrade", url, schema or "-")
    assert start_together(command, command, command) == ["upgraded"] * 3


def test_sqlite_parallel_upgrades_agree(tmp_path: Path) -> None:
    # The bot and the training job may start together on a fresh database.
    url = f"sqlite:///{tmp_path}/parallel.sqlite3"
    _upgrade_in_parallel(url, None)
    engine = make_sync_engine(url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_parallel_upgrades_agree() -> None:
    with scratch_schema("lyricbot_parallel") as (url, schema):
        _upgrade_in_parallel(url, schema)
        engine = sync_engine(url, schema)
        try:
            assert current_revision(engine) == head_revision()
        finally:
            engine.dispose()


def test_timestamps_default_per_row() -> None:
    # A default computed once at import would stamp every row with that moment.
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.name.endswith("_at") and column.default is not None:
                assert column.default.is_callable, f"{table.name}.{column.name}"
