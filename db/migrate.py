"""Alembic configuration from the files packaged inside db/, so an installed package can upgrade."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import URL

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent


def alembic_config() -> Config:
    """Return an Alembic config that points at db/migrations wherever the package lives."""
    config = Config(str(PACKAGE_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    return config


def head_revision() -> str:
    """Return the newest migration revision of this package."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "db/migrations/versions holds no migration"
    return head


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def run_upgrade(target: str | URL | Engine, revision: str = "head") -> None:
    """Upgrade the database at `target` (a URL or an engine) to `revision`."""
    from db.engine import make_sync_engine

    owns_engine = not isinstance(target, Engine)
    engine = make_sync_engine(target) if owns_engine else target
    try:
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        logger.info("database %s upgraded to %s", engine.url.render_as_string(hide_password=True), revision)
    finally:
        if owns_engine:
            engine.dispose()
