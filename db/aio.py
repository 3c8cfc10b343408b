"""Async wrappers of db.queries for the bot: each runs its query through AsyncSession.run_sync.

Each wrapper takes the AsyncSession as its first argument and the query's
other arguments by keyword, e.g. `await aio.rate(session, generation_id=1,
user_id=2, chat_id=2, score=5)`. Like the queries, they never commit.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import URL

from db import engine as db_engine
from db import queries

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


async def run_query(session: AsyncSession, query: Callable[..., T], /, **arguments: Any) -> T:
    """Run a sync query function from db.queries on the async session's connection."""
    return await session.run_sync(lambda sync_session: query(session=sync_session, **arguments))


def _wrap(query: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    @functools.wraps(query)
    async def wrapper(session: AsyncSession, /, **arguments: Any) -> T:
        return await run_query(session, query, **arguments)

    return wrapper


async def upgrade(url: str | URL) -> None:
    """Upgrade the schema to the newest migration without blocking the event loop."""
    await asyncio.to_thread(db_engine.upgrade, url)


upsert_user = _wrap(queries.upsert_user)
get_user = _wrap(queries.get_user)
get_user_settings = _wrap(queries.get_user_settings)
set_user_settings = _wrap(queries.set_user_settings)

record_generation = _wrap(queries.record_generation)
get_generation = _wrap(queries.get_generation)
user_history = _wrap(queries.user_history)
forget_user = _wrap(queries.forget_user)

rate = _wrap(queries.rate)
get_rating = _wrap(queries.get_rating)

statistics = _wrap(queries.statistics)
feedback_lines = _wrap(queries.feedback_lines)
count_ratings_since_last_run = _wrap(queries.count_ratings_since_last_run)

queue_run = _wrap(queries.queue_run)
start_run = _wrap(queries.start_run)
update_run_progress = _wrap(queries.update_run_progress)
finish_run = _wrap(queries.finish_run)
request_cancel = _wrap(queries.request_cancel)
cancel_run = _wrap(queries.cancel_run)
get_run = _wrap(queries.get_run)
active_run = _wrap(queries.active_run)
recent_runs = _wrap(queries.recent_runs)
recover_orphan_runs = _wrap(queries.recover_orphan_runs)

record_model_version = _wrap(queries.record_model_version)
current_model_version = _wrap(queries.current_model_version)
