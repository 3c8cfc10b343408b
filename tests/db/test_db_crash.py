"""Crash safety: a writer killed with SIGKILL leaves every committed row intact."""

from __future__ import annotations

import signal
import subprocess

from sqlalchemy import select, text

from db_testing import TestDatabase
from db.models import Generation, Rating
from db_testing import worker_command, worker_environment

COMMITS_BEFORE_KILL = (40, 90)


def _write_then_kill(database: TestDatabase, commits: int) -> set[int]:
    """Run a writer, SIGKILL it after `commits` acknowledged commits, and return every acknowledged id."""
    writer = subprocess.Popen(
        worker_command("write", database.url, database.schema or "-"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=worker_environment(),
    )
    acknowledged = set()
    try:
        for line in writer.stdout:
            acknowledged.add(int(line.split()[1]))
            if len(acknowledged) >= commits:
                writer.send_signal(signal.SIGKILL)
                break
        # Lines the writer printed before it died are acknowledged commits too.
        remaining, errors = writer.communicate(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert writer.returncode == -signal.SIGKILL, errors
    acknowledged.update(int(line.split()[1]) for line in remaining.splitlines())
    return acknowledged


def test_sigkill_keeps_committed_rows(database: TestDatabase) -> None:
    acknowledged: set[int] = set()
    # The second writer starts on the log the first one left behind.
    for commits in COMMITS_BEFORE_KILL:
        acknowledged |= _write_then_kill(database, commits)

    engine = database.sync_engine()
    try:
        with engine.connect() as connection:
            if database.backend == "sqlite":
                assert connection.scalar(text("PRAGMA integrity_check")) == "ok"
                assert connection.scalar(text("PRAGMA foreign_key_check")) is None
            stored = set(connection.scalars(select(Generation.id)))
            rated = set(connection.scalars(select(Rating.generation_id)))
    finally:
        engine.dispose()

    assert len(acknowledged) >= sum(COMMITS_BEFORE_KILL)
    assert acknowledged <= stored
    # Each generation was committed together with its rating: nothing half-written.
    assert rated == stored
