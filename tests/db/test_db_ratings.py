"""Ratings: validation, the rating rule, replacement and double presses."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db_testing import add_generation
from db.errors import GenerationNotFound, InvalidScore, NotAllowedToRate, UserNotFound
from db.models import Rating
from db.queries import get_rating, rate, upsert_user


def _rating_rows(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Rating))


def test_rate_stores_first_score(session: Session) -> None:
    generation = add_generation(session, user_id=1)
    outcome = rate(session=session, generation_id=generation.id, user_id=1, chat_id=1, score=4)
    session.commit()

    assert (outcome.score, outcome.previous_score, outcome.changed) == (4, None, True)
    rating = get_rating(session=session, generation_id=generation.id, user_id=1)
    assert rating.score == 4
    assert rating.created_at == rating.updated_at


def test_rate_again_replaces_score(session: Session) -> None:
    generation = add_generation(session, user_id=1)
    rate(session=session, generation_id=generation.id, user_id=1, chat_id=1, score=2)
    session.commit()
    first = get_rating(session=session, generation_id=generation.id, user_id=1)
    created = first.created_at

    outcome = rate(session=session, generation_id=generation.id, user_id=1, chat_id=1, score=5)
    session.commit()

    assert (outcome.score, outcome.previous_score) == (5, 2)
    rating = get_rating(session=session, generation_id=generation.id, user_id=1)
    assert rating.score == 5
    assert rating.created_at == created
    assert rating.updated_at >= created
    assert _rating_rows(session) == 1


def test_double_press_is_idempotent(session: Session) -> None:
    generation = add_generation(session, user_id=1)
    rate(session=session, generation_id=generation.id, user_id=1, chat_id=1, score=3)
    session.commit()
    before = get_rating(session=session, generation_id=generation.id, user_id=1).updated_at

    outcome = rate(session=session, generation_id=generation.id, user_id=1, chat_id=1, score=3)
    session.commit()

    assert not outcome.changed
    assert get_rating(session=session, generation_id=generation.id, user_id=1).updated_at == before
    assert _rating_rows(session) == 1


@pytest.mark.parametrize("score", [0, 6, -1, 3.5, "5", None, True])
def test_rate_invalid_score(session: Session, score: object) -> None:
    generation = add_generation(session, user_id=1)
    with pytest.raises(InvalidScore, match="integer from 1 to 5"):
        rate(session=session, generation_id=generation.id, user_id=1, chat_id=1, score=score)
    assert _rating_rows(session) == 0


def test_rate_missing_generation(session: Session) -> None:
    upsert_user(session=session, user_id=1)
    with pytest.raises(GenerationNotFound, match="generation 12345 not found"):
        rate(session=session, generation_id=12345, user_id=1, chat_id=1, score=5)


def test_rate_from_other_private_chat_rejected(session: Session) -> None:
    generation = add_generation(session, user_id=1)
    upsert_user(session=session, user_id=2)
    # User 2 presses a forwarded button in their own private chat.
    with pytest.raises(NotAllowedToRate, match="only be rated from the chat it was sent to"):
        rate(session=session, generation_id=generation.id, user_id=2, chat_id=2, score=5)
    assert _rating_rows(session) == 0


def test_group_members_rate_separately(session: Session) -> None:
    generation = add_generation(session, user_id=1, chat_id=-100777)
    for user_id, score in [(2, 5), (3, 1), (1, 4)]:
        upsert_user(session=session, user_id=user_id)
        rate(session=session, generation_id=generation.id, user_id=user_id, chat_id=-100777, score=score)
    session.commit()

    assert _rating_rows(session) == 3
    assert get_rating(session=session, generation_id=generation.id, user_id=3).score == 1


def test_group_generation_rejects_private_chat(session: Session) -> None:
    generation = add_generation(session, user_id=1, chat_id=-100777)
    with pytest.raises(NotAllowedToRate):
        rate(session=session, generation_id=generation.id, user_id=1, chat_id=1, score=5)


def test_rate_unknown_user(session: Session) -> None:
    generation = add_generation(session, user_id=1, chat_id=-100777)
    with pytest.raises(UserNotFound):
        rate(session=session, generation_id=generation.id, user_id=2, chat_id=-100777, score=5)


def test_rate_error_keeps_session_usable(session: Session) -> None:
    generation = add_generation(session, user_id=1)
    with pytest.raises(InvalidScore):
        rate(session=session, generation_id=generation.id, user_id=1, chat_id=1, score=9)
    rate(session=session, generation_id=generation.id, user_id=1, chat_id=1, score=2)
    session.commit()
    assert _rating_rows(session) == 1


def test_database_rejects_second_row_and_bad_score(session: Session) -> None:
    # The constraints hold even for writes that bypass rate().
    generation = add_generation(session, user_id=1)
    session.add(Rating(user_id=1, generation_id=generation.id, score=3))
    session.commit()

    session.add(Rating(user_id=1, generation_id=generation.id, score=4))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()

    upsert_user(session=session, user_id=2)
    session.add(Rating(user_id=2, generation_id=generation.id, score=7))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert _rating_rows(session) == 1
