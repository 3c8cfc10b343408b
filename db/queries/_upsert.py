"""INSERT ... ON CONFLICT for the dialect of the session's connection."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table: Any) -> Any:
    """Return an INSERT that supports on_conflict_do_update for SQLite or PostgreSQL."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    # NOTE: MySQL and others would need their own upsert statement.
    raise NotImplementedError(f"upserts are implemented for SQLite and PostgreSQL, not {name}")
