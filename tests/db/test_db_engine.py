"""Database URL, driver choice and SQLite connection settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from db.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    async_url,
    database_url,
    make_async_engine,
    make_sync_engine,
    read_only,
    sync_url,
)


def test_database_url_defaults_to_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LYRICBOT_DATABASE_URL", raising=False)
    monkeypatch.delenv("LYRICBOT_DATA_DIR", raising=False)
    assert database_url() == "sqlite:///var/lyricbot.sqlite3"


def test_database_url_uses_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LYRICBOT_DATABASE_URL", raising=False)
    monkeypatch.setenv("LYRICBOT_DATA_DIR", str(tmp_path))
    assert database_url() == f"sqlite:///{tmp_path}/lyricbot.sqlite3"
    assert database_url(tmp_path / "other") == f"sqlite:///{tmp_path}/other/lyricbot.sqlite3"


def test_database_url_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LYRICBOT_DATABASE_URL", "postgresql://u:p@127.0.0.1/lyricbot")
    monkeypatch.setenv("LYRICBOT_DATA_DIR", "/elsewhere")
    assert database_url() == "postgresql://u:p@127.0.0.1/lyricbot"


@pytest.mark.parametrize(
    ("url", "sync_driver", "async_driver"),
    [
        ("sqlite:///x.sqlite3", "sqlite+pysqlite", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///x.sqlite3", "sqlite+pysqlite", "sqlite+aiosqlite"),
        ("postgresql://u:p@127.0.0.1/db", "postgresql+psycopg", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u:p@127.0.0.1/db", "postgresql+psycopg", "postgresql+asyncpg"),
        ("postgres://u:p@127.0.0.1/db", "postgresql+psycopg", "postgresql+asyncpg"),
    ],
)
def test_driver_chosen_per_mode(url: str, sync_driver: str, async_driver: str) -> None:
    assert sync_url(url).drivername == sync_driver
    assert async_url(url).drivername == async_driver
    assert sync_url(url).database == async_url(url).database


def test_driver_choice_keeps_credentials() -> None:
    url = async_url("postgresql://lyricbot:secret@127.0.0.1:5433/lyricbot")
    assert (url.username, url.password, url.host, url.port) == ("lyricbot", "secret", "127.0.0.1", 5433)


def test_invalid_url_message() -> None:
    with pytest.raises(ValueError, match="invalid database URL 'not a url'"):
        sync_url("not a url")


def test_sqlite_sync_pragmas(tmp_path: Path) -> None:
    engine = make_sync_engine(f"sqlite:///{tmp_path}/nested/folder/db.sqlite3")
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
            assert connection.scalar(text("PRAGMA foreign_keys")) == 1
            assert connection.scalar(text("PRAGMA busy_timeout")) == SQLITE_BUSY_TIMEOUT_MS
            assert connection.scalar(text("PRAGMA synchronous")) == 2  # FULL
    finally:
        engine.dispose()
    assert (tmp_path / "nested" / "folder" / "db.sqlite3").is_file()


async def test_sqlite_async_pragmas(tmp_path: Path) -> None:
    engine = make_async_engine(f"sqlite:///{tmp_path}/db.sqlite3")
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("PRAGMA journal_mode")) == "wal"
            assert await connection.scalar(text("PRAGMA foreign_keys")) == 1
            assert await connection.scalar(text("PRAGMA busy_timeout")) == SQLITE_BUSY_TIMEOUT_MS
    finally:
        await engine.dispose()


def test_sqlite_rollback_undoes_savepoint_work(tmp_path: Path) -> None:
    # With the driver's own transaction handling, work inside a released
    # savepoint survived a rollback of the outer transaction.
    engine = make_sync_engine(f"sqlite:///{tmp_path}/db.sqlite3")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
        with engine.connect() as connection:
            transaction = connection.begin()
            with connection.begin_nested():
                connection.execute(text("INSERT INTO t VALUES (1)"))
            transaction.rollback()
            assert connection.scalar(text("SELECT count(*) FROM t")) == 0
    finally:
        engine.dispose()


def _fail_fast(connection) -> None:
    # Through the driver, so that SQLAlchemy does not begin a transaction.
    connection.connection.driver_connection.execute("PRAGMA busy_timeout = 0")


def test_sqlite_write_lock_taken_at_begin(tmp_path: Path) -> None:
    engine = make_sync_engine(f"sqlite:///{tmp_path}/db.sqlite3")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
        with engine.connect() as first, engine.connect() as second:
            first.begin()
            # A write transaction holds the lock from BEGIN on, before any write.
            first.execute(text("SELECT count(*) FROM t"))
            _fail_fast(second)
            with pytest.raises(OperationalError, match="locked"):
                second.begin()
            first.rollback()
    finally:
        engine.dispose()


def test_sqlite_read_only_runs_beside_writer(tmp_path: Path) -> None:
    engine = make_sync_engine(f"sqlite:///{tmp_path}/db.sqlite3")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
        with read_only(engine).connect() as reader, engine.connect() as writer:
            reader.begin()
            assert reader.scalar(text("SELECT count(*) FROM t")) == 1

            # The writer commits while the reader's transaction stays open.
            _fail_fast(writer)
            with writer.begin():
                writer.execute(text("INSERT INTO t VALUES (2)"))

            # The reader keeps its snapshot until its transaction ends.
            assert reader.scalar(text("SELECT count(*) FROM t")) == 1
            reader.rollback()
            assert reader.scalar(text("SELECT count(*) FROM t")) == 2
    finally:
        engine.dispose()


async def test_sqlite_in_memory_async_engine() -> None:
    engine = make_async_engine("sqlite://")
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()


async def test_sqlite_async_engine_has_one_connection(tmp_path: Path) -> None:
    engine = make_async_engine(f"sqlite:///{tmp_path}/db.sqlite3")
    try:
        assert engine.pool.size() == 1
    finally:
        await engine.dispose()


def test_unsupported_scheme_message() -> None:
    with pytest.raises(ValueError, match="unsupported database URL scheme 'mysql': use one of sqlite, postgresql"):
        sync_url("mysql://u:p@127.0.0.1/db")
    with pytest.raises(ValueError, match="unsupported database URL scheme 'foo'"):
        async_url("foo://x")
