"""The bot's access to the database: one short transaction per call, over `db.queries`.

Handlers never hold a session across an `await` of anything but the database, so a slow
model or a slow Telegram reply never keeps a transaction (and, on SQLite, the write lock)
open. A prompt costs one transaction: the user's sampling level is cached in memory, and
the user row is refreshed in the same transaction that stores the answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from telegram import User as TelegramUser

from db import engine as db_engine
from db import queries
from db.errors import GenerationNotFound, InvalidScore, NotAllowedToRate, UserNotFound

log = logging.getLogger(__name__)

T = TypeVar("T")

# Users whose sampling level stays cached; past this the cache starts again empty, which
# costs one extra transaction per user and keeps memory bounded.
MAX_CACHED_LEVELS = 100_000


@dataclass(frozen=True)
class UserProfile:
    """The stored facts about a user that handlers need."""

    user_id: int
    language_code: str | None
    sampling_level: str | None


@dataclass(frozen=True)
class StoredGeneration:
    """The parts of a stored answer that "another" and ratings need."""

    generation_id: int
    user_id: int
    chat_id: int
    prompt: str
    model_version: str


class RatingRejected(Exception):
    """A score press that changes nothing: unknown answer, invalid score, or a chat that may not rate."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.not_allowed = isinstance(cause, NotAllowedToRate)


class Storage:
    """Async access to the bot's database through `db.queries`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = db_engine.make_async_engine(url)
        self._sessions = db_engine.async_session_factory(self._engine)
        # SQLite runs one write transaction at a time, and every transaction here takes the
        # write lock. Connections that wait for it sleep in SQLite's busy handler with
        # growing pauses (up to 100 ms each), which under load cost far more than queueing
        # here, so on SQLite the bot runs its transactions one after another.
        self._sqlite_lock = asyncio.Lock() if db_engine.is_sqlite(url) else None
        # user id -> sampling level; this process is the only writer of the setting.
        # NOTE: a second bot process on the same database would not see a change made here.
        self._levels: dict[int, str | None] = {}

    @classmethod
    async def open(cls, url: str) -> Storage:
        """Upgrade the schema to the newest migration, then connect."""
        # Alembic runs synchronously; a thread keeps the event loop free meanwhile.
        await asyncio.to_thread(db_engine.upgrade, url)
        storage = cls(url)
        log.info("database ready: %s", _safe_url(url))
        return storage

    async def close(self) -> None:
        await self._engine.dispose()
        log.info("database closed")

    async def _run(self, work: Callable[[Session], T]) -> T:
        """Run `work` with a sync session inside one committed transaction."""
        if self._sqlite_lock is None:
            return await self._transaction(work)
        async with self._sqlite_lock:
            return await self._transaction(work)

    async def _transaction(self, work: Callable[[Session], T]) -> T:
        async with self._sessions() as session, session.begin():
            return await session.run_sync(work)

    async def touch_user(self, user: TelegramUser) -> UserProfile:
        """Insert or refresh the user and return their profile."""

        def work(session: Session) -> UserProfile:
            row = _upsert(session, user)
            return UserProfile(row.id, row.language_code, row.sampling_level)

        profile = await self._run(work)
        if len(self._levels) >= MAX_CACHED_LEVELS:
            self._levels.clear()
        self._levels[user.id] = profile.sampling_level
        return profile

    async def sampling_level(self, user: TelegramUser) -> str | None:
        """Return the user's sampling level, from memory after the first call (which stores the user)."""
        if user.id in self._levels:
            return self._levels[user.id]
        return (await self.touch_user(user)).sampling_level

    async def set_sampling_level(self, user_id: int, level: str) -> None:
        await self._run(lambda s: queries.set_user_settings(session=s, user_id=user_id, sampling_level=level))
        self._levels[user_id] = level

    async def record_generation(self, user: TelegramUser, **values: Any) -> int:
        """Refresh the user's row and store one of their answers; return the answer's id."""

        def work(session: Session) -> int:
            _upsert(session, user)
            return queries.record_generation(session=session, user_id=user.id, **values).id

        return await self._run(work)

    async def get_generation(self, generation_id: int) -> StoredGeneration | None:
        def work(session: Session) -> StoredGeneration | None:
            row = queries.get_generation(session=session, generation_id=generation_id)
            if row is None:
                return None
            return StoredGeneration(row.id, row.user_id, row.chat_id, row.prompt, row.model_version)

        return await self._run(work)

    async def rate(self, *, generation_id: int, user: TelegramUser, chat_id: int, score: int) -> int | None:
        """Store `user`'s score and return the score it replaced, or None for a first rating.

        Raises RatingRejected for an unknown answer, an invalid score or a chat that may not
        rate it; nothing is stored then.
        """

        def work(session: Session) -> int | None:
            _upsert(session, user)
            outcome = queries.rate(
                session=session, generation_id=generation_id, user_id=user.id, chat_id=chat_id, score=score
            )
            return outcome.previous_score

        try:
            return await self._run(work)
        except (GenerationNotFound, InvalidScore, NotAllowedToRate, UserNotFound) as error:
            raise RatingRejected(error) from error

    async def history(self, user_id: int, *, page: int, page_size: int) -> queries.HistoryPage:
        """Return one page of the user's answers, newest first; a page past the end gives the last one."""

        def work(session: Session) -> queries.HistoryPage:
            result = queries.user_history(session=session, user_id=user_id, page=page, page_size=page_size)
            if not result.entries and result.total > 0:
                last = result.page_count - 1
                result = queries.user_history(session=session, user_id=user_id, page=last, page_size=page_size)
            return result

        return await self._run(work)

    async def forget(self, user_id: int) -> tuple[int, int]:
        """Delete the user's answers and ratings; return how many of each went."""
        result = await self._run(lambda s: queries.forget_user(session=s, user_id=user_id))
        self._levels.pop(user_id, None)  # forget_user deletes the user row and its settings
        return result.generations, result.ratings

    async def stats(self) -> queries.Statistics:
        return await self._run(lambda s: queries.statistics(session=s))


def _upsert(session: Session, user: TelegramUser):
    return queries.upsert_user(
        session=session, user_id=user.id, username=user.username,
        first_name=user.first_name, language_code=user.language_code,
    )


def _safe_url(url: str) -> str:
    """Return the URL with any password hidden, for logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
