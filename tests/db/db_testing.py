"""Helpers shared by the db tests and the worker processes they start."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from db.engine import make_async_engine, make_sync_engine
from db.models import Generation
from db.queries import record_generation, upsert_user

REPOSITORY = Path(__file__).resolve().parents[2]
TEST_URL_VARIABLE = "LYRICBOT_TEST_DATABASE_URL"


@dataclass(frozen=True)
class TestDatabase:
    """A migrated, empty database for one test: its URL and, on PostgreSQL, its schema."""

    __test__ = False  # not a test class, despite the name

    backend: str
    url: str
    schema: str | None = None

    def sync_engine(self, **options: Any) -> Engine:
        return sync_engine(self.url, self.schema, **options)

    def async_engine(self, **options: Any) -> Any:
        return async_engine(self.url, self.schema, **options)


def sync_options(schema: str | None) -> dict[str, Any]:
    """Return engine options that put a PostgreSQL connection in `schema`."""
    if schema is None:
        return {}
    return {"connect_args": {"options": f"-csearch_path={schema}"}}


def async_options(schema: str | None) -> dict[str, Any]:
    """Return asyncpg engine options that put a connection in `schema`."""
    if schema is None:
        return {}
    return {"connect_args": {"server_settings": {"search_path": schema}}}


def sync_engine(url: str, schema: str | None, **options: Any) -> Engine:
    """Create a sync engine for the test database."""
    return make_sync_engine(url, **sync_options(schema), **options)


def async_engine(url: str, schema: str | None, **options: Any) -> Any:
    """Create an async engine for the test database."""
    return make_async_engine(url, **async_options(schema), **options)


@contextmanager
def scratch_schema(prefix: str) -> Iterator[tuple[str, str]]:
    """Yield (url, schema) for a new empty schema on the test server, dropped at the end.

    Skips the calling test when LYRICBOT_TEST_DATABASE_URL is not set.
    """
    url = os.environ.get(TEST_URL_VARIABLE)
    if not url:
        pytest.skip(f"{TEST_URL_VARIABLE} is not set: PostgreSQL tests need a server URL")

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sync_engine(url, None)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, schema
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def worker_environment() -> dict[str, str]:
    """Return the environment of a worker process that imports this repository."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join([str(REPOSITORY), str(Path(__file__).parent)])
    return environment


def worker_command(*arguments: str) -> list[str]:
    """Return the command line that runs db_worker.py with these arguments."""
    return [sys.executable, str(Path(__file__).with_name("db_worker.py")), *arguments]


def start_together(*commands: list[str]) -> list[str]:
    """Start workers, release them at once when all are ready, and return each one's output.

    Raises AssertionError with the worker's stderr when one fails.
    """
    workers = [
        subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=worker_environment(),
        )
        for command in commands
    ]
    try:
        for worker in workers:
            ready = worker.stdout.readline()
            assert ready == "ready\n", worker.communicate(timeout=60)[1]
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()

        outputs = []
        for worker in workers:
            stdout, stderr = worker.communicate(timeout=60)
            assert worker.returncode == 0, stderr
            outputs.append(stdout.strip())
    finally:
        # A failed worker must not leave the others waiting for their go line.
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    return outputs


def add_generation(session: Session, *, user_id: int, chat_id: int | None = None, model_version: str = "v1",
                   prompt: str = "春", text: str = "春风十里/", **extra: Any) -> Generation:
    """Store a user (if new) and one generation of theirs, and return the generation."""
    upsert_user(session=session, user_id=user_id, username=f"user{user_id}")
    return record_generation(
        session=session,
        user_id=user_id,
        chat_id=user_id if chat_id is None else chat_id,
        prompt=prompt,
        text=text,
        model_version=model_version,
        **extra,
    )
