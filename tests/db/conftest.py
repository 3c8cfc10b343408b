"""Fixtures: a migrated database per test, on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from db.engine import sync_session_factory, upgrade
from db.models import Base
from db_testing import TEST_URL_VARIABLE, TestDatabase, scratch_schema, sync_engine

# PostgreSQL joins only when a server is configured. Its absence still shows
# once per run, as the skipped PostgreSQL tests in test_db_migrations.py.
BACKENDS = ["sqlite"]
if os.environ.get(TEST_URL_VARIABLE):
    BACKENDS.append(pytest.param("postgresql", marks=pytest.mark.postgres))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate one SQLite file per test session; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "lyricbot.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[tuple[str, str]]:
    """Create and migrate a schema of its own on the test server; drop it at the end."""
    with scratch_schema("lyricbot_test") as (url, schema):
        engine = sync_engine(url, schema)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        yield url, schema


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> TestDatabase:
    """Return an empty database at the newest schema."""
    if request.param == "sqlite":
        path = tmp_path / "lyricbot.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return TestDatabase("sqlite", f"sqlite:///{path}")

    url, schema = request.getfixturevalue("postgres_schema")
    test_database = TestDatabase("postgresql", url, schema)
    engine = test_database.sync_engine()
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return test_database


@pytest.fixture
def engine(database: TestDatabase) -> Iterator[Engine]:
    """A sync engine on the test database."""
    engine = database.sync_engine()
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sync_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose uncommitted work is rolled back after the test."""
    with session_factory() as session:
        yield session
        session.rollback()

