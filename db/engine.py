"""Database URL, engines, session factories and schema upgrades from one setting."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from db.errors import DatabaseError

if TYPE_CHECKING:
    # Imported lazily below: sqlalchemy.ext.asyncio needs greenlet, which the
    # synchronous training process does not.
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

DATABASE_URL_VARIABLE = "LYRICBOT_DATABASE_URL"
DATA_DIR_VARIABLE = "LYRICBOT_DATA_DIR"
DEFAULT_DATA_DIR = "var"
SQLITE_FILE_NAME = "lyricbot.sqlite3"

EngineT = TypeVar("EngineT", "Engine", "AsyncEngine")

# How long a SQLite connection waits for another writer before it fails.
SQLITE_BUSY_TIMEOUT_MS = 30_000

# Execution option of engines from read_only(); see _configure_sqlite.
READ_ONLY_OPTION = "lyricbot_read_only"

_SYNC_DRIVERS = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
SUPPORTED_SCHEMES = tuple(_SYNC_DRIVERS)


def database_url(data_dir: str | os.PathLike[str] | None = None) -> str:
    """Return `LYRICBOT_DATABASE_URL`, or a SQLite file URL under the data directory.

    Without `data_dir`, the data directory is `LYRICBOT_DATA_DIR` (default `var`).
    """
    url = os.environ.get(DATABASE_URL_VARIABLE, "").strip()
    if url:
        return url

    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_VARIABLE, "").strip() or DEFAULT_DATA_DIR
    path = Path(data_dir) / SQLITE_FILE_NAME
    return f"sqlite:///{path}"


def sync_url(url: str | URL) -> URL:
    """Return the URL with the synchronous driver of its database (pysqlite, psycopg)."""
    return _with_driver(url, _SYNC_DRIVERS)


def async_url(url: str | URL) -> URL:
    """Return the URL with the asyncio driver of its database (aiosqlite, asyncpg)."""
    return _with_driver(url, _ASYNC_DRIVERS)


def _with_driver(url: str | URL, drivers: dict[str, str]) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as error:
        raise ValueError(
            f"invalid database URL {str(url)!r}: expected e.g. sqlite:///var/lyricbot.sqlite3 "
            "or postgresql://user:password@127.0.0.1/lyricbot"
        ) from error

    backend = parsed.get_backend_name()
    if backend == "postgres":
        # Some hosting services still hand out the old postgres:// scheme.
        backend = "postgresql"
    if backend not in drivers:
        # The schema, its migrations and the tests cover these two only.
        raise ValueError(
            f"unsupported database URL scheme {parsed.drivername!r}: "
            f"use one of {', '.join(SUPPORTED_SCHEMES)}, e.g. sqlite:///var/lyricbot.sqlite3"
        )
    return parsed.set(drivername=drivers[backend])


def is_sqlite(url: str | URL) -> bool:
    """Return whether the URL names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str | URL) -> Path | None:
    """Return the file of a SQLite URL, or None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database)


def make_sync_engine(url: str | URL, **engine_options: Any) -> Engine:
    """Create a synchronous engine; SQLite gets WAL, foreign keys and a busy timeout."""
    url = sync_url(url)
    if is_sqlite(url):
        _create_parent_directory(url)
    engine = create_engine(url, **engine_options)
    if is_sqlite(url):
        _configure_sqlite(engine)
    return engine


def make_async_engine(url: str | URL, **engine_options: Any) -> AsyncEngine:
    """Create an asyncio engine; SQLite gets WAL, foreign keys, a busy timeout and one connection."""
    from sqlalchemy.ext.asyncio import create_async_engine

    url = async_url(url)
    if is_sqlite(url):
        _create_parent_directory(url)
        # SQLite lets one connection write at a time, and its busy handler
        # wakes waiting connections by polling, so with many connections some
        # wait for seconds. One pooled connection queues tasks in order
        # instead. In one run of 50 asyncio tasks, each storing a generation
        # and then a rating in a loop on a loaded 2-core VM, p99 latency fell
        # from 5.8 s (30 connections) to 0.6 s (one), at 3x the throughput.
        # A task must therefore not open a second session while its first is open.
        if sqlite_path(url) is not None:  # in-memory databases use a pool without sizes
            engine_options.setdefault("pool_size", 1)
            engine_options.setdefault("max_overflow", 0)
    engine = create_async_engine(url, **engine_options)
    if is_sqlite(url):
        _configure_sqlite(engine.sync_engine)
    return engine


def sync_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def async_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return an async session factory whose objects stay readable after commit."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    return async_sessionmaker(engine, expire_on_commit=False)


def read_only(engine: EngineT) -> EngineT:
    """Return a view of the engine for transactions that only read.

    Every SQLite transaction otherwise takes the write lock when it begins, so
    that writers queue instead of failing. A long read in another process,
    such as the training job collecting feedback, would then hold up the bot's
    writes. Through this view it runs beside them. A write through it may fail
    with "database is locked". Other databases ignore the option.
    """
    return engine.execution_options(**{READ_ONLY_OPTION: True})


def _create_parent_directory(url: URL) -> None:
    path = sqlite_path(url)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseError(
            f"cannot create the folder {path.parent} of the SQLite database {path}: {error.strerror}. "
            "Choose a database path whose folder can be created"
        ) from error


def _configure_sqlite(engine: Engine) -> None:
    """Set the pragmas on every new connection and make transactions take the write lock."""

    @event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
        # The sqlite3 module's own transaction handling would skip BEGIN before
        # SELECT and SAVEPOINT; the "begin" hook below issues it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # FULL syncs the log on every commit, so a committed rating survives
        # a power cut too, not only a crash of the process.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin_transaction(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            # In WAL mode readers and writers do not block each other, so a reader needs no lock.
            connection.exec_driver_sql("BEGIN")
            return
        # A deferred transaction that reads and then writes fails at once with
        # "database is locked" when another connection wrote in between, and
        # the busy timeout cannot help. IMMEDIATE takes the write lock up front,
        # so writers queue behind the busy timeout instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade(target: str | URL | Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (default the newest) with Alembic.

    `target` is a database URL or an engine; an engine lets the caller pass
    connection options such as a PostgreSQL search path.
    """
    from db.migrate import run_upgrade

    run_upgrade(target, revision)
