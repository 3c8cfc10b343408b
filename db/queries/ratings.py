"""Ratings: one score from 1 to 5 per user per generation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.errors import GenerationNotFound, InvalidScore, NotAllowedToRate, UserNotFound
from db.models import Generation, Rating, User, utcnow
from db.queries._upsert import dialect_insert

MIN_SCORE = 1
MAX_SCORE = 5


@dataclass(frozen=True)
class RatingOutcome:
    """The score now stored and the one it replaced (None for a first rating).

    On PostgreSQL, `previous_score` is read just before the write, so a press
    from the same user in the same instant may make it stale. The stored row
    is right either way.
    """

    generation_id: int
    user_id: int
    score: int
    previous_score: int | None

    @property
    def changed(self) -> bool:
        return self.score != self.previous_score


def rate(
    *,
    session: Session,
    generation_id: int,
    user_id: int,
    chat_id: int,
    score: int,
    now: datetime | None = None,
) -> RatingOutcome:
    """Store the user's score for a generation, replacing an earlier one.

    The rating must come from the chat the generation was sent to: in a private
    chat that is its requester, in a group anyone in the group. Pressing the
    same score twice changes nothing, and concurrent presses leave one row.

    Raises InvalidScore, GenerationNotFound, NotAllowedToRate or UserNotFound.
    """
    if isinstance(score, bool) or not isinstance(score, int) or not MIN_SCORE <= score <= MAX_SCORE:
        raise InvalidScore(score)

    generation_chat = session.scalar(select(Generation.chat_id).where(Generation.id == generation_id))
    if generation_chat is None:
        raise GenerationNotFound(generation_id)
    if generation_chat != chat_id:
        raise NotAllowedToRate(generation_id, user_id, chat_id)
    if session.scalar(select(User.id).where(User.id == user_id)) is None:
        raise UserNotFound(user_id)

    previous_score = session.scalar(
        select(Rating.score).where(Rating.user_id == user_id, Rating.generation_id == generation_id)
    )
    if previous_score == score:
        return RatingOutcome(generation_id, user_id, score, previous_score)

    now = now or utcnow()
    statement = dialect_insert(session, Rating).values(
        user_id=user_id, generation_id=generation_id, score=score, created_at=now, updated_at=now
    )
    # A concurrent press may have inserted the row since the read above; the
    # upsert then updates it, so one row per user and generation remains.
    statement = statement.on_conflict_do_update(
        index_elements=[Rating.user_id, Rating.generation_id],
        set_={"score": statement.excluded.score, "updated_at": statement.excluded.updated_at},
    )
    try:
        # The savepoint keeps the caller's transaction usable if the row vanished.
        with session.begin_nested():
            session.execute(statement)
    except IntegrityError as error:
        # Only a foreign key can fail here: forget_user removed the generation
        # or the user between the checks above and the insert.
        if session.get(Generation, generation_id, populate_existing=True) is None:
            raise GenerationNotFound(generation_id) from error
        raise UserNotFound(user_id) from error
    return RatingOutcome(generation_id, user_id, score, previous_score)


def get_rating(*, session: Session, generation_id: int, user_id: int) -> Rating | None:
    """Return the user's rating of a generation, or None."""
    return session.scalar(
        select(Rating)
        .where(Rating.user_id == user_id, Rating.generation_id == generation_id)
        .execution_options(populate_existing=True)
    )
