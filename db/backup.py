"""Consistent copies of a live SQLite database through SQLite's online backup."""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import URL

from db.engine import SQLITE_BUSY_TIMEOUT_MS, is_sqlite, sqlite_path
from db.errors import BackupError, DatabaseFileNotFound

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackupReport:
    """Source and destination of a finished backup, with the size of the copy."""

    source: Path
    destination: Path
    size_bytes: int


def backup_sqlite(url: str | URL, destination: str | os.PathLike[str], *, overwrite: bool = False) -> BackupReport:
    """Copy the SQLite database at `url` to `destination` while other connections keep writing.

    A destination that is an existing folder, or that ends with a path
    separator, is a folder: it is created if missing and gets a file named
    after the current UTC time. The copy is checked with PRAGMA
    integrity_check and then renamed into place, so a failed backup never
    leaves a partial file.
    """
    source = _source_path(url)
    target = Path(destination)
    if _names_folder(destination):
        _create_backup_folder(target)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = target / f"lyricbot-{stamp}.sqlite3"
    if target.exists() and target.resolve() == source.resolve():
        raise BackupError(f"backup destination {target} is the database itself: choose another path")
    if target.exists() and not overwrite:
        raise BackupError(f"backup destination {target} already exists: remove it or pass --overwrite")
    if not target.parent.is_dir():
        raise BackupError(f"backup folder {target.parent} does not exist: create it first")

    handle, temporary_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    temporary = Path(temporary_name)
    try:
        _copy(source, temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)

    report = BackupReport(source=source, destination=target, size_bytes=target.stat().st_size)
    logger.info("backed up %s to %s (%d bytes)", source, target, report.size_bytes)
    return report


def _names_folder(destination: str | os.PathLike[str]) -> bool:
    # Path() drops a trailing separator, so read it from the string as given.
    text = os.fspath(destination)
    separators = tuple(separator for separator in (os.sep, os.altsep) if separator)
    return text.endswith(separators) or Path(text).is_dir()


def _create_backup_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"cannot create the backup folder {folder}: {error.strerror}") from error


def _source_path(url: str | URL) -> Path:
    if not is_sqlite(url):
        raise BackupError(
            "backup works on SQLite databases only: for PostgreSQL use pg_dump"
        )
    path = sqlite_path(url)
    if path is None:
        raise BackupError("an in-memory SQLite database has no file to back up")
    if not path.is_file():
        raise DatabaseFileNotFound(path)
    return path


def _copy(source: Path, temporary: Path) -> None:
    source_connection = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    copy_connection = sqlite3.connect(temporary)
    try:
        # pages=-1 copies every page in one step under one read transaction.
        # In WAL mode that read does not block writers, and the copy is the
        # database as of one commit, whatever is written meanwhile.
        source_connection.backup(copy_connection, pages=-1)

        # The copy is one self-contained file: no -wal beside it.
        copy_connection.execute("PRAGMA journal_mode = DELETE")
        result = copy_connection.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"backup of {source} failed the integrity check: {result}")
    except sqlite3.Error as error:
        raise BackupError(f"backup of {source} to {temporary} failed: {error}") from error
    finally:
        copy_connection.close()
        source_connection.close()

    with open(temporary, "rb") as copy:
        os.fsync(copy.fileno())


def _fsync_directory(folder: Path) -> None:
    # The rename is durable only once the folder entry is on disk.
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
