"""Error messages of `python -m db` for bad URLs, unreachable servers and missing files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from db_testing import REPOSITORY

# Port 1 on loopback has no listener, so PostgreSQL connections are refused at once.
REFUSING_POSTGRESQL_URL = "postgresql://lyricbot:secret-password@127.0.0.1:1/lyricbot"


def _run_cli(*arguments: str, database_url: str | None = None, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ, PYTHONPATH=str(REPOSITORY))
    environment.pop("LYRICBOT_DATABASE_URL", None)
    environment.pop("LYRICBOT_DATA_DIR", None)
    if database_url is not None:
        environment["LYRICBOT_DATABASE_URL"] = database_url
    if data_dir is not None:
        environment["LYRICBOT_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "db", *arguments], capture_output=True, text=True,
        env=environment, cwd=REPOSITORY, timeout=120,
    )


def _error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_cli_unsupported_scheme() -> None:
    result = _run_cli("--url", "foo://x", "upgrade")

    assert result.returncode == 1
    assert _error_lines(result) == [
        "error: unsupported database URL scheme 'foo': use one of sqlite, postgresql, "
        "e.g. sqlite:///var/lyricbot.sqlite3"
    ]


def test_cli_refused_connection_upgrade() -> None:
    result = _run_cli("--url", REFUSING_POSTGRESQL_URL, "upgrade")

    assert result.returncode == 1
    lines = _error_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: PostgreSQL at 127.0.0.1:1: ")
    assert "Connection refused" in lines[0]
    assert "in --url" in lines[0]
    assert "secret-password" not in result.stderr


def test_cli_refused_connection_names_variable() -> None:
    result = _run_cli("current", database_url=REFUSING_POSTGRESQL_URL)

    assert result.returncode == 1
    lines = _error_lines(result)
    assert len(lines) == 1, result.stderr
    assert "in LYRICBOT_DATABASE_URL" in lines[0]
    assert "secret-password" not in result.stderr


def test_cli_missing_file_names_url_option(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite3"

    result = _run_cli("--url", f"sqlite:///{missing}", "backup", str(tmp_path / "copy.sqlite3"))

    assert result.returncode == 1
    assert _error_lines(result) == [
        f"error: database file {missing} not found: run `python -m db upgrade` first, or check --url"
    ]


def test_cli_missing_file_names_variable(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite3"

    result = _run_cli("backup", str(tmp_path / "copy.sqlite3"), database_url=f"sqlite:///{missing}")

    assert result.returncode == 1
    assert "or check LYRICBOT_DATABASE_URL" in result.stderr


def test_cli_data_dir_under_file(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("not a folder")

    result = _run_cli("upgrade", data_dir=tmp_path / "taken" / "data")

    assert result.returncode == 1
    lines = _error_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: cannot create the folder {tmp_path / 'taken' / 'data'} ")
