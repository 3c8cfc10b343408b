"""Command line: `python -m db upgrade`, `python -m db backup PATH`, `python -m db current`."""

from __future__ import annotations

import argparse
import logging
import sys

from db.engine import database_url, make_sync_engine
from db.errors import DatabaseError


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
    backup.add_argument("path", metavar="PATH", help="file to write, or a folder to write a timestamped file into")
    backup.add_argument("--overwrite", action="store_true", help="replace PATH if it exists")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one db command and return the exit status."""
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic lists its plugins at INFO on every run; only the migrations matter.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    url = arguments.url or database_url()

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
    except (DatabaseError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


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
