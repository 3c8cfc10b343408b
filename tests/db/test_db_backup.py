"""Backups of a live SQLite database, through the library and `python -m db`."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from db.backup import backup_sqlite
from db.engine import upgrade
from db.errors import BackupError
from db_testing import REPOSITORY, worker_command, worker_environment

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _count(path: Path, table: str) -> int:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        connection.close()


def _check(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        # Each generation was written with its rating in one commit.
        unrated = connection.execute(
            "SELECT count(*) FROM generations g LEFT JOIN ratings r ON r.generation_id = g.id WHERE r.id IS NULL"
        ).fetchone()[0]
        assert unrated == 0
    finally:
        connection.close()


def test_backup_while_writer_runs(tmp_path: Path) -> None:
    source = tmp_path / "live.sqlite3"
    url = f"sqlite:///{source}"
    upgrade(url)
    writer = subprocess.Popen(
        worker_command("write", url, "-"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=worker_environment(),
    )
    try:
        committed = 0
        copies = []
        for line in writer.stdout:
            committed += 1
            if committed % 30 == 0:
                before = committed
                report = backup_sqlite(url, tmp_path / f"copy{len(copies)}.sqlite3")
                copies.append((report.destination, before))
            if len(copies) == 3:
                break
        assert writer.poll() is None, "the writer stopped before the backups finished"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.communicate(timeout=30)

    for path, before in copies:
        _check(path)
        assert _count(path, "generations") >= before
    assert _count(copies[-1][0], "generations") > _count(copies[0][0], "generations")
    assert not list(tmp_path.glob(".*.tmp"))


def test_backup_into_folder_and_no_overwrite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    upgrade(url)
    folder = tmp_path / "backups"
    folder.mkdir()

    report = backup_sqlite(url, folder)
    assert report.destination.parent == folder
    assert report.destination.name.startswith("lyricbot-")

    with pytest.raises(BackupError, match="already exists"):
        backup_sqlite(url, report.destination)
    assert backup_sqlite(url, report.destination, overwrite=True).size_bytes > 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://u:p@127.0.0.1/db", "SQLite databases only"),
        ("sqlite://", "in-memory"),
        ("sqlite:///{tmp}/missing.sqlite3", "not found"),
    ],
)
def test_backup_bad_source(tmp_path: Path, url: str, message: str) -> None:
    with pytest.raises(BackupError, match=message):
        backup_sqlite(url.format(tmp=tmp_path), tmp_path / "out.sqlite3")
    assert not (tmp_path / "out.sqlite3").exists()


def test_backup_refuses_own_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    upgrade(url)
    with pytest.raises(BackupError, match="is the database itself"):
        backup_sqlite(url, tmp_path / "db.sqlite3", overwrite=True)


def _run_cli(*arguments: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ, LYRICBOT_DATA_DIR=str(data_dir), PYTHONPATH=str(REPOSITORY))
    environment.pop("LYRICBOT_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "db", *arguments], capture_output=True, text=True,
        env=environment, cwd=REPOSITORY, timeout=120,
    )


def test_cli_upgrade_then_backup(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    upgraded = _run_cli("upgrade", data_dir=data_dir)
    assert upgraded.returncode == 0, upgraded.stderr
    assert (data_dir / "lyricbot.sqlite3").is_file()

    target = tmp_path / "backup.sqlite3"
    backed_up = _run_cli("backup", str(target), data_dir=data_dir)
    assert backed_up.returncode == 0, backed_up.stderr
    assert f"to {target}" in backed_up.stdout
    _check(target)
    assert _count(target, "alembic_version") == 1

    again = _run_cli("backup", str(target), data_dir=data_dir)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert "Traceback" not in again.stderr


def test_cli_backup_without_database(tmp_path: Path) -> None:
    result = _run_cli("backup", str(tmp_path / "b.sqlite3"), data_dir=tmp_path / "empty")
    assert result.returncode == 1
    assert "run `python -m db upgrade` first" in result.stderr


def test_backup_trailing_separator_creates_folder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    upgrade(url)
    folder = tmp_path / "new" / "backups"

    report = backup_sqlite(url, f"{folder}{os.sep}")

    assert folder.is_dir()
    assert report.destination.parent == folder
    assert report.destination.name.startswith("lyricbot-")
    _check(report.destination)


def test_backup_folder_blocked_by_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    upgrade(url)
    (tmp_path / "taken").write_text("not a folder")

    with pytest.raises(BackupError, match="cannot create the backup folder"):
        backup_sqlite(url, f"{tmp_path / 'taken'}{os.sep}")


def test_cli_backup_folder_with_separator(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert _run_cli("upgrade", data_dir=data_dir).returncode == 0

    result = _run_cli("backup", f"{tmp_path / 'backups'}{os.sep}", data_dir=data_dir)

    assert result.returncode == 0, result.stderr
    copies = list((tmp_path / "backups").glob("lyricbot-*.sqlite3"))
    assert len(copies) == 1
    _check(copies[0])


def test_cli_missing_database_names_data_dir(tmp_path: Path) -> None:
    result = _run_cli("backup", str(tmp_path / "b.sqlite3"), data_dir=tmp_path / "absent" / "deeper")
    assert result.returncode == 1
    assert "check LYRICBOT_DATA_DIR" in result.stderr
    assert not (tmp_path / "absent").exists()
