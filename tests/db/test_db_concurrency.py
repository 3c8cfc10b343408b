"""Concurrency: many tasks writing and rating at once lose nothing and duplicate nothing."""

from __future__ import annotations

import asyncio
import random
import time

from sqlalchemy import func, select

from db_testing import TestDatabase
from db import aio
from db.engine import async_session_factory
from db.models import Generation, Rating

TASKS = 50
DURATION_SECONDS = 3.0
GROUP_CHAT = -100999
# Pairs of tasks share a user, so one user's presses on one generation race.
USERS = TASKS // 2


async def test_concurrent_generations_and_ratings(database: TestDatabase) -> None:
    engine = database.async_engine()
    factory = async_session_factory(engine)
    acknowledged_generations: set[int] = set()
    acknowledged_scores: dict[tuple[int, int], set[int]] = {}

    async with factory.begin() as session:
        await aio.upsert_user(session, user_id=1)
        shared = await aio.record_generation(
            session, user_id=1, chat_id=GROUP_CHAT, prompt="春", text="春风十里/", model_version="v1"
        )
    acknowledged_generations.add(shared.id)

    async def worker(task: int) -> int:
        chooser = random.Random(task)
        user_id = 100 + task % USERS
        writes = 0
        deadline = time.monotonic() + DURATION_SECONDS
        while time.monotonic() < deadline:
            async with factory.begin() as session:
                await aio.upsert_user(session, user_id=user_id, username=f"user{user_id}")
                generation = await aio.record_generation(
                    session, user_id=user_id, chat_id=GROUP_CHAT, prompt="春",
                    text=f"第{task}号的第{writes}行/", model_version="v1",
                )
            acknowledged_generations.add(generation.id)

            # Half the presses go to the shared generation, the rest to any generation stored so far.
            target = shared.id if chooser.random() < 0.5 else chooser.choice(sorted(acknowledged_generations))
            score = chooser.randint(1, 5)
            async with factory.begin() as session:
                await aio.rate(session, generation_id=target, user_id=user_id, chat_id=GROUP_CHAT, score=score)
            acknowledged_scores.setdefault((user_id, target), set()).add(score)
            writes += 1
        return writes

    try:
        # gather raises the first error a task meets, which fails the test.
        counts = await asyncio.gather(*(worker(task) for task in range(TASKS)))

        async with factory() as session:
            stored_generations = set(await session.scalars(select(Generation.id)))
            rating_rows = (await session.execute(select(Rating.user_id, Rating.generation_id, Rating.score))).all()
            duplicates = (
                await session.execute(
                    select(Rating.user_id, Rating.generation_id)
                    .group_by(Rating.user_id, Rating.generation_id)
                    .having(func.count() > 1)
                )
            ).all()
    finally:
        await engine.dispose()

    assert all(count > 0 for count in counts)
    assert acknowledged_generations <= stored_generations
    assert duplicates == []
    stored_scores = {(user_id, generation_id): score for user_id, generation_id, score in rating_rows}
    assert set(stored_scores) == set(acknowledged_scores)
    for pair, score in stored_scores.items():
        assert score in acknowledged_scores[pair], pair
    shared_raters = {user_id for user_id, generation_id in stored_scores if generation_id == shared.id}
    assert len(shared_raters) > USERS // 2
