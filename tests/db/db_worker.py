"""Worker processes for the db tests: race for a run, or write until killed.

Usage: db_worker.py queue URL SCHEMA
       db_worker.py upgrade URL SCHEMA
       db_worker.py write URL SCHEMA
SCHEMA is "-" outside PostgreSQL. The queue and upgrade workers print "ready"
once connected and then wait for a line on stdin, so a test can start them
all at the same moment.
"""

from __future__ import annotations

import sys

from db.engine import sync_session_factory, upgrade
from db.errors import RunAlreadyActive
from db.queries import queue_run, rate, record_generation, upsert_user
from db_testing import sync_engine


def wait_for_start(engine) -> None:
    """Connect, report readiness and wait for the test's go line on stdin."""
    with engine.connect():
        pass  # connecting first leaves only the race itself after the go line
    print("ready", flush=True)
    sys.stdin.readline()


def race_for_run(url: str, schema: str | None) -> None:
    """Queue a run on the go line and print the outcome."""
    engine = sync_engine(url, schema)
    factory = sync_session_factory(engine)
    wait_for_start(engine)
    try:
        with factory.begin() as session:
            run = queue_run(session=session, trigger="schedule")
        print(f"queued {run.id}", flush=True)
    except RunAlreadyActive as error:
        print(f"active {error.run.id}", flush=True)
    engine.dispose()


def upgrade_on_go(url: str, schema: str | None) -> None:
    """Upgrade the schema on the go line."""
    engine = sync_engine(url, schema)
    wait_for_start(engine)
    upgrade(engine)
    engine.dispose()
    print("upgraded", flush=True)


def write_forever(url: str, schema: str | None) -> None:
    """Commit one generation and one rating at a time, printing each id after its commit."""
    engine = sync_engine(url, schema)
    factory = sync_session_factory(engine)
    with factory.begin() as session:
        upsert_user(session=session, user_id=1, username="writer")
    index = 0
    while True:
        with factory.begin() as session:
            generation = record_generation(
                session=session, user_id=1, chat_id=1, prompt="春", text=f"第{index}行/" * 20, model_version="v1"
            )
            rate(session=session, generation_id=generation.id, user_id=1, chat_id=1, score=index % 5 + 1)
        print(f"committed {generation.id}", flush=True)
        index += 1


def main(arguments: list[str]) -> None:
    command, url, schema = arguments[0], arguments[1], arguments[2]
    schema = None if schema == "-" else schema
    if command == "queue":
        race_for_run(url, schema)
    elif command == "upgrade":
        upgrade_on_go(url, schema)
    elif command == "write":
        write_forever(url, schema)
    else:
        raise SystemExit(f"unknown command {command!r}: expected queue, upgrade or write")


if __name__ == "__main__":
    main(sys.argv[1:])
