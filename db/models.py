"""SQLAlchemy models of users, generations, ratings, training runs and model versions."""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Fixed constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MAX_PROMPT_LENGTH = 256
MAX_VERSION_LENGTH = 64
MAX_SAMPLING_LEVEL_LENGTH = 16


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def _as_utc(value: datetime | None) -> datetime | None:
    # A naive value is taken as UTC, and an aware one is converted to UTC.
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime.

    SQLite keeps no time zone, so naive values are taken as UTC on the way in
    and every value gets `timezone.utc` on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return _as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return _as_utc(value)


class RunStatus(str, enum.Enum):
    """Lifecycle of a training run: queued, then running, then one terminal status."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    REJECTED = "rejected"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def is_active(self) -> bool:
        return self in ACTIVE_STATUSES


ACTIVE_STATUSES = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})
TERMINAL_STATUSES = frozenset(set(RunStatus) - ACTIVE_STATUSES)


class RunTrigger(str, enum.Enum):
    """Source of a training run: the scheduler or an admin command."""

    SCHEDULE = "schedule"
    ADMIN = "admin"


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class User(Base):
    """A Telegram user, keyed by the Telegram user id."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    username: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(String(256))
    language_code: Mapped[str | None] = mapped_column(String(16))
    # Generation settings; NULL means the bot's default.
    sampling_level: Mapped[str | None] = mapped_column(String(MAX_SAMPLING_LEVEL_LENGTH))
    temperature: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"User(id={self.id}, username={self.username!r})"


class Generation(Base):
    """A reply the bot generated: requester, chat, prompt, text, model version and sampling settings."""

    __tablename__ = "generations"
    __table_args__ = (Index("ix_generations_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    prompt: Mapped[str] = mapped_column(String(MAX_PROMPT_LENGTH))
    text: Mapped[str] = mapped_column(Text)
    model_version: Mapped[str] = mapped_column(String(MAX_VERSION_LENGTH), index=True)
    temperature: Mapped[float | None] = mapped_column(Float)
    top_k: Mapped[int | None] = mapped_column(Integer)
    top_p: Mapped[float | None] = mapped_column(Float)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"Generation(id={self.id}, user_id={self.user_id}, prompt={self.prompt!r})"


class Rating(Base):
    """One user's score for one generation; rating again replaces the score."""

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("user_id", "generation_id", name="uq_ratings_user_id_generation_id"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
        Index("ix_ratings_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    generation_id: Mapped[int] = mapped_column(
        ForeignKey("generations.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"Rating(user_id={self.user_id}, generation_id={self.generation_id}, score={self.score})"


def _enum_values(enum_class: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_class]


class TrainingRun(Base):
    """One training or retraining run, from queueing to its outcome."""

    __tablename__ = "training_runs"
    __table_args__ = (
        # At most one run is queued or running. The index covers only active
        # rows and indexes a constant, so a second active row is a duplicate
        # key on SQLite and PostgreSQL alike, whichever process inserts it.
        Index(
            "uq_training_runs_one_active",
            text("(1)"),
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    trigger: Mapped[RunTrigger] = mapped_column(
        Enum(RunTrigger, native_enum=False, length=16, values_callable=_enum_values,
             create_constraint=True, name="run_trigger")
    )
    # The admin's Telegram id for admin runs; NULL for scheduled runs.
    requested_by: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[RunStatus] = mapped_column(
        Enum(RunStatus, native_enum=False, length=16, values_callable=_enum_values,
             create_constraint=True, name="run_status"),
        default=RunStatus.QUEUED,
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Last sign of life from the worker: start or progress update.
    heartbeat_at: Mapped[datetime | None]
    cancel_requested_at: Mapped[datetime | None]
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    worker_host: Mapped[str | None] = mapped_column(String(255))
    # Free-form JSON: phase, epoch, step, loss, eta_seconds and the like.
    progress: Mapped[dict[str, Any] | None]
    metrics: Mapped[dict[str, Any] | None]
    checkpoint_path: Mapped[str | None] = mapped_column(String(1024))
    error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"TrainingRun(id={self.id}, status={self.status.value}, trigger={self.trigger.value})"


class ModelVersion(Base):
    """A checkpoint that was promoted to serve users."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    version: Mapped[str] = mapped_column(String(MAX_VERSION_LENGTH), unique=True)
    path: Mapped[str] = mapped_column(String(1024))
    metrics: Mapped[dict[str, Any] | None]
    training_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_runs.id", ondelete="SET NULL")
    )
    promoted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"ModelVersion(version={self.version!r}, path={self.path!r})"
