"""Generations: recording them, a user's history and forgetting a user."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.errors import InvalidValue, UserNotFound
from db.models import MAX_PROMPT_LENGTH, Generation, Rating, User, utcnow
from db.queries._checks import check_model_version

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class HistoryEntry:
    """One of a user's generations with the score they gave it, if any."""

    generation_id: int
    chat_id: int
    prompt: str
    text: str
    model_version: str
    created_at: datetime
    score: int | None


@dataclass(frozen=True)
class HistoryPage:
    """One page of a user's history, newest first; `page` counts from 0."""

    entries: list[HistoryEntry]
    page: int
    page_size: int
    total: int

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def has_next(self) -> bool:
        return (self.page + 1) * self.page_size < self.total


@dataclass(frozen=True)
class ForgetResult:
    """How many rows forget_user deleted."""

    user_found: bool
    generations: int
    ratings: int


def record_generation(
    *,
    session: Session,
    user_id: int,
    chat_id: int,
    prompt: str,
    text: str,
    model_version: str,
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    latency_ms: float | None = None,
    created_at: datetime | None = None,
) -> Generation:
    """Store one generation and return it with its id.

    Raises UserNotFound when the user was not stored first, InvalidValue for
    an empty or overlong prompt or version.
    """
    if not prompt or len(prompt) > MAX_PROMPT_LENGTH:
        raise InvalidValue(f"invalid prompt of {len(prompt)} characters: expected 1 to {MAX_PROMPT_LENGTH}")
    check_model_version(model_version)
    if session.get(User, user_id) is None:
        raise UserNotFound(user_id)

    generation = Generation(
        user_id=user_id,
        chat_id=chat_id,
        prompt=prompt,
        text=text,
        model_version=model_version,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        seed=seed,
        latency_ms=latency_ms,
        created_at=created_at or utcnow(),
    )
    session.add(generation)
    session.flush()
    return generation


def get_generation(*, session: Session, generation_id: int) -> Generation | None:
    """Return the generation with this id, or None."""
    return session.get(Generation, generation_id)


def user_history(*, session: Session, user_id: int, page: int = 0, page_size: int = 5) -> HistoryPage:
    """Return one page of the user's generations, newest first, with the user's own scores."""
    if page < 0:
        raise InvalidValue(f"invalid page {page}: pages count from 0")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidValue(f"invalid page size {page_size}: expected 1 to {MAX_PAGE_SIZE}")

    total = session.scalar(select(func.count()).select_from(Generation).where(Generation.user_id == user_id))
    own_rating = (Rating.generation_id == Generation.id) & (Rating.user_id == user_id)
    rows = session.execute(
        select(Generation, Rating.score)
        .outerjoin(Rating, own_rating)
        .where(Generation.user_id == user_id)
        # The id breaks ties between generations stored in the same microsecond.
        .order_by(Generation.created_at.desc(), Generation.id.desc())
        .limit(page_size)
        .offset(page * page_size)
    ).all()

    entries = [
        HistoryEntry(
            generation_id=generation.id,
            chat_id=generation.chat_id,
            prompt=generation.prompt,
            text=generation.text,
            model_version=generation.model_version,
            created_at=generation.created_at,
            score=score,
        )
        for generation, score in rows
    ]
    return HistoryPage(entries=entries, page=page, page_size=page_size, total=total or 0)


def forget_user(*, session: Session, user_id: int) -> ForgetResult:
    """Delete the user, their generations, their ratings and every rating of their generations."""
    own_generations = select(Generation.id).where(Generation.user_id == user_id).scalar_subquery()
    ratings = session.execute(
        delete(Rating).where((Rating.user_id == user_id) | Rating.generation_id.in_(own_generations))
    ).rowcount
    generations = session.execute(delete(Generation).where(Generation.user_id == user_id)).rowcount
    users = session.execute(delete(User).where(User.id == user_id)).rowcount
    return ForgetResult(user_found=users > 0, generations=generations, ratings=ratings)
