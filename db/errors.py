"""Errors raised by the db package. Each message names the invalid value and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from db.models import RunStatus, RunTrigger, TrainingRun


class DatabaseError(Exception):
    """Base class of every error the db package raises on purpose."""


class InvalidValue(DatabaseError, ValueError):
    """A value passed to a query is out of range or of the wrong type."""


class InvalidScore(InvalidValue):
    """A rating score that is not an integer from 1 to 5."""

    def __init__(self, score: object) -> None:
        super().__init__(f"invalid score {score!r}: a score must be an integer from 1 to 5")
        self.score = score


class InvalidSetting(InvalidValue):
    """A per-user generation setting that is out of range."""


class UserNotFound(DatabaseError, LookupError):
    """No user row has this Telegram id."""

    def __init__(self, user_id: int) -> None:
        super().__init__(f"user {user_id} not found: store the user with upsert_user first")
        self.user_id = user_id


class GenerationNotFound(DatabaseError, LookupError):
    """No generation row has this id, or it was deleted by forget_user."""

    def __init__(self, generation_id: int) -> None:
        super().__init__(f"generation {generation_id} not found: it never existed or was forgotten")
        self.generation_id = generation_id


class NotAllowedToRate(DatabaseError):
    """The rating does not come from the chat the generation was sent to."""

    def __init__(self, generation_id: int, user_id: int, chat_id: int) -> None:
        super().__init__(
            f"user {user_id} may not rate generation {generation_id} from chat {chat_id}: "
            "a generation can only be rated from the chat it was sent to"
        )
        self.generation_id = generation_id
        self.user_id = user_id
        self.chat_id = chat_id


class RunNotFound(DatabaseError, LookupError):
    """No training run has this id."""

    def __init__(self, run_id: int) -> None:
        super().__init__(f"training run {run_id} not found")
        self.run_id = run_id


@dataclass(frozen=True)
class RunSnapshot:
    """The fields of a training run, copied so they stay readable after a rollback."""

    id: int
    status: RunStatus
    trigger: RunTrigger
    requested_by: int | None
    created_at: datetime
    started_at: datetime | None
    progress: dict[str, Any] | None

    @classmethod
    def of(cls, run: TrainingRun) -> RunSnapshot:
        return cls(run.id, run.status, run.trigger, run.requested_by, run.created_at, run.started_at, run.progress)


class RunAlreadyActive(DatabaseError):
    """Another training run is queued or running; `run` is a snapshot of that run.

    The snapshot is a plain copy because the rollback that usually follows
    this error expires ORM objects of the session.
    """

    def __init__(self, run: TrainingRun | RunSnapshot) -> None:
        snapshot = run if isinstance(run, RunSnapshot) else RunSnapshot.of(run)
        since = snapshot.started_at or snapshot.created_at
        super().__init__(
            f"training run {snapshot.id} is already {snapshot.status.value} since {since.isoformat()}: "
            "wait for it to finish or cancel it"
        )
        self.run = snapshot


class InvalidRunTransition(DatabaseError):
    """A run cannot move from its current status to the requested one."""

    def __init__(self, run_id: int, current: str, requested: str) -> None:
        super().__init__(f"training run {run_id} is {current} and cannot become {requested}")
        self.run_id = run_id
        self.current = current
        self.requested = requested


class BackupError(DatabaseError):
    """A backup could not be made; the message names the file and the cause."""


class DatabaseFileNotFound(BackupError):
    """A SQLite file to back up that does not exist, at `path`."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"database file {path} not found: run `python -m db upgrade` first, or check the database URL")
        self.path = path
