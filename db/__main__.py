"""Command line: `python -m db upgrade`, `python -m db backup PATH`, `python -m db current`."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from db.engine import DATA_DIR_VARIABLE, DATABASE_URL_VARIABLE, database_url, make_sync_engine, sqlite_path
from db.errors import DatabaseError, DatabaseFileNotFound

# PostgreSQL's port when the URL names none.
POSTGRESQL_DEFAULT_PORT = 5432


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the db command line."""
    parser = argparse.ArgumentParser(
        prog="python -m db",
        description="Manage the lyricbot database. The database is LYRICBOT_DATABASE_URL, "
        "or LYRICBOT_DATA_DIR/lyricbot.sqlite3 (default var/lyricbot.sqlite3).",
    )
    parser.add_argument("--url", help="database URL; overrides LYRICBOT_DATABASE_URL")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("upgrade", help="create or upgrade the schema to the newest migration")
    commands.add_parser("current", help="print the schema revision of the database and of this package")

    backup = commands.add_parser("backup", help="copy a live SQLite database to PATH")
    backup.add_argument(
        "path", metavar="PATH",
        help="file to write; an existing folder, or a PATH ending with '/', is a folder: "
        "it is created if missing and gets a file lyricbot-YYYYMMDDTHHMMSSZ.sqlite3 (UTC time)",
    )
    backup.add_argument("--overwrite", action="store_true", help="replace PATH if it exists")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one db command and return the exit status."""
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic lists its plugins at INFO on every run; only the migrations matter.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    url = arguments.url or database_url()
    url_source = _url_source(arguments.url)

    try:
        if arguments.command == "upgrade":
            from db.engine import upgrade

            upgrade(url)
            print(f"database is at the newest schema: {_safe(url)}")
        elif arguments.command == "current":
            _print_current(url)
        elif arguments.command == "backup":
            from db.backup import backup_sqlite

            report = backup_sqlite(url, arguments.path, overwrite=arguments.overwrite)
            print(f"backed up {report.source} to {report.destination} ({report.size_bytes} bytes)")
    except DatabaseFileNotFound as error:
        print(
            f"error: database file {error.path} not found: run `python -m db upgrade` first, or check {url_source}",
            file=sys.stderr,
        )
        return 1
    except OperationalError as error:
        print(f"error: {_describe_operational_error(url, url_source, error)}", file=sys.stderr)
        return 1
    except (DatabaseError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _url_source(url_option: str | None) -> str:
    """Return the option or variable the database URL came from, for error messages."""
    if url_option:
        return "--url"
    if os.environ.get(DATABASE_URL_VARIABLE, "").strip():
        return DATABASE_URL_VARIABLE
    return f"{DATA_DIR_VARIABLE} (default var)"


def _describe_operational_error(url: str, url_source: str, error: OperationalError) -> str:
    """Describe a failed connection or statement in one line, without the password."""
    # The driver's first line contains the cause, such as "Connection refused". Later lines repeat hints.
    reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite database {sqlite_path(parsed) or ':memory:'} failed: {reason}"

    host = parsed.host or "the local socket"
    port = parsed.port or POSTGRESQL_DEFAULT_PORT
    return (
        f"PostgreSQL at {host}:{port}: {reason}. Check that the server is running there and accepts "
        f"connections, and check the host, port, user and password in {url_source}"
    )


def _print_current(url: str) -> None:
    from db.migrate import current_revision, head_revision

    engine = make_sync_engine(url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    print(f"database revision: {current or 'none (empty database)'}; newest: {head_revision()}")


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
