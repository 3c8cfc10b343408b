"""Generations: recording, history paging and forgetting a user."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db_testing import add_generation
from db.errors import InvalidValue, UserNotFound
from db.models import Generation, Rating, User
from db.queries import forget_user, get_generation, rate, record_generation, upsert_user, user_history

START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_record_generation_stores_every_field(session: Session) -> None:
    upsert_user(session=session, user_id=11)
    generation = record_generation(
        session=session, user_id=11, chat_id=-100123, prompt="春花", text="春风吹过/花开满城/",
        model_version="a1b2c3", temperature=0.8, top_k=20, top_p=0.9, seed=42, latency_ms=12.5,
    )
    session.commit()

    stored = get_generation(session=session, generation_id=generation.id)
    assert stored.chat_id == -100123
    assert (stored.prompt, stored.text, stored.model_version) == ("春花", "春风吹过/花开满城/", "a1b2c3")
    assert (stored.temperature, stored.top_k, stored.top_p, stored.seed) == (0.8, 20, 0.9, 42)
    assert stored.latency_ms == 12.5
    assert stored.created_at.tzinfo == timezone.utc


def test_record_generation_timestamps_per_row(session: Session) -> None:
    first = add_generation(session, user_id=1)
    second = add_generation(session, user_id=1)
    session.commit()
    assert second.created_at >= first.created_at
    assert first.created_at > datetime.now(timezone.utc) - timedelta(minutes=1)


def test_record_generation_unknown_user(session: Session) -> None:
    with pytest.raises(UserNotFound):
        record_generation(session=session, user_id=99, chat_id=99, prompt="春", text="春/", model_version="v1")


@pytest.mark.parametrize(
    ("prompt", "version", "message"),
    [("", "v1", "invalid prompt"), ("春" * 257, "v1", "invalid prompt"), ("春", "", "invalid model version"),
     ("春", "v" * 65, "invalid model version")],
)
def test_record_generation_invalid(session: Session, prompt: str, version: str, message: str) -> None:
    upsert_user(session=session, user_id=1)
    with pytest.raises(InvalidValue, match=message):
        record_generation(session=session, user_id=1, chat_id=1, prompt=prompt, text="x/", model_version=version)


def test_history_newest_first_with_scores(session: Session) -> None:
    for index in range(7):
        add_generation(session, user_id=1, prompt=f"p{index}", created_at=START + timedelta(minutes=index))
    session.commit()
    newest = user_history(session=session, user_id=1, page=0, page_size=3).entries[0]
    rate(session=session, generation_id=newest.generation_id, user_id=1, chat_id=1, score=4)
    session.commit()

    first = user_history(session=session, user_id=1, page=0, page_size=3)
    assert [entry.prompt for entry in first.entries] == ["p6", "p5", "p4"]
    assert [entry.score for entry in first.entries] == [4, None, None]
    assert first.total == 7
    assert first.page_count == 3
    assert first.has_next

    last = user_history(session=session, user_id=1, page=2, page_size=3)
    assert [entry.prompt for entry in last.entries] == ["p0"]
    assert not last.has_next


def test_history_same_time_ordered_by_id(session: Session) -> None:
    ids = [add_generation(session, user_id=1, created_at=START).id for _ in range(3)]
    session.commit()
    page = user_history(session=session, user_id=1, page_size=10)
    assert [entry.generation_id for entry in page.entries] == sorted(ids, reverse=True)


def test_history_shows_own_score_only(session: Session) -> None:
    generation = add_generation(session, user_id=1, chat_id=-50)
    upsert_user(session=session, user_id=2)
    rate(session=session, generation_id=generation.id, user_id=2, chat_id=-50, score=1)
    session.commit()

    assert user_history(session=session, user_id=1).entries[0].score is None
    assert user_history(session=session, user_id=2).total == 0


def test_history_empty_user(session: Session) -> None:
    page = user_history(session=session, user_id=404)
    assert page.entries == []
    assert page.total == 0
    assert page.page_count == 1
    assert not page.has_next


@pytest.mark.parametrize(("page", "page_size"), [(-1, 5), (0, 0), (0, 101)])
def test_history_invalid_paging(session: Session, page: int, page_size: int) -> None:
    with pytest.raises(InvalidValue):
        user_history(session=session, user_id=1, page=page, page_size=page_size)


def test_forget_user_removes_rows(session: Session) -> None:
    own = add_generation(session, user_id=1, chat_id=-50)
    other = add_generation(session, user_id=2, chat_id=-50)
    rate(session=session, generation_id=own.id, user_id=1, chat_id=-50, score=5)
    rate(session=session, generation_id=own.id, user_id=2, chat_id=-50, score=3)
    rate(session=session, generation_id=other.id, user_id=1, chat_id=-50, score=2)
    rate(session=session, generation_id=other.id, user_id=2, chat_id=-50, score=4)
    session.commit()

    result = forget_user(session=session, user_id=1)
    session.commit()

    assert result.user_found
    assert result.generations == 1
    assert result.ratings == 3
    assert session.scalar(select(func.count()).select_from(Generation)) == 1
    assert session.scalars(select(Rating.score)).all() == [4]
    assert session.scalars(select(User.id)).all() == [2]


def test_forget_unknown_user(session: Session) -> None:
    result = forget_user(session=session, user_id=404)
    assert not result.user_found
    assert (result.generations, result.ratings) == (0, 0)
