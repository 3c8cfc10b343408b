"""Async access: the wrappers in db.aio on aiosqlite and asyncpg."""

from __future__ import annotations

from pathlib import Path

import pytest

from db_testing import TestDatabase
from db import aio
from db.engine import async_session_factory, make_sync_engine, read_only
from db.errors import InvalidScore, RunAlreadyActive
from db.migrate import current_revision, head_revision
from db.models import RunStatus


async def test_bot_flow_through_wrappers(database: TestDatabase) -> None:
    engine = database.async_engine()
    factory = async_session_factory(engine)
    try:
        async with factory.begin() as session:
            await aio.upsert_user(session, user_id=1, username="mei", language_code="zh-hans")
            generation = await aio.record_generation(
                session, user_id=1, chat_id=1, prompt="春", text="春风十里/", model_version="v1"
            )
        async with factory.begin() as session:
            outcome = await aio.rate(session, generation_id=generation.id, user_id=1, chat_id=1, score=5)
        async with factory() as session:
            page = await aio.user_history(session, user_id=1)
            stats = await aio.statistics(session)

        assert outcome.score == 5
        assert [(entry.text, entry.score) for entry in page.entries] == [("春风十里/", 5)]
        assert (stats.users, stats.generations, stats.ratings) == (1, 1, 1)
    finally:
        await engine.dispose()


async def test_errors_reach_async_caller(database: TestDatabase) -> None:
    engine = database.async_engine()
    factory = async_session_factory(engine)
    try:
        async with factory.begin() as session:
            await aio.upsert_user(session, user_id=1)
            generation = await aio.record_generation(
                session, user_id=1, chat_id=1, prompt="春", text="春/", model_version="v1"
            )
            await aio.queue_run(session, trigger="schedule")
        with pytest.raises(InvalidScore):
            async with factory.begin() as session:
                await aio.rate(session, generation_id=generation.id, user_id=1, chat_id=1, score=0)
        with pytest.raises(RunAlreadyActive) as caught:
            async with factory.begin() as session:
                await aio.queue_run(session, trigger="admin", requested_by=1)
        assert caught.value.run.status is RunStatus.QUEUED
    finally:
        await engine.dispose()


async def test_async_upgrade_creates_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/async.sqlite3"
    await aio.upgrade(url)
    engine = make_sync_engine(url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


async def test_read_only_async_session(database: TestDatabase) -> None:
    engine = database.async_engine()
    try:
        async with async_session_factory(engine).begin() as session:
            await aio.upsert_user(session, user_id=1)
            await aio.record_generation(session, user_id=1, chat_id=1, prompt="春", text="春/", model_version="v1")
        async with async_session_factory(read_only(engine))() as session:
            page = await aio.user_history(session, user_id=1)
        assert page.total == 1
    finally:
        await engine.dispose()
