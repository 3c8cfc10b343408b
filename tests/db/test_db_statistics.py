"""Statistics for admins and feedback lines for retraining."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from db_testing import add_generation
from db.errors import RunNotFound
from db.models import RunStatus
from db.queries import (
    count_ratings_since_last_run,
    feedback_lines,
    finish_run,
    queue_run,
    rate,
    start_run,
    statistics,
    upsert_user,
)

GROUP = -100500


def _rate_all(session: Session, generation_id: int, scores: list[int]) -> None:
    for offset, score in enumerate(scores):
        user_id = 1000 + offset
        upsert_user(session=session, user_id=user_id)
        rate(session=session, generation_id=generation_id, user_id=user_id, chat_id=GROUP, score=score)


def test_statistics_per_version(session: Session) -> None:
    old = add_generation(session, user_id=1, chat_id=GROUP, model_version="v1")
    add_generation(session, user_id=1, chat_id=GROUP, model_version="v1")
    new = add_generation(session, user_id=2, chat_id=GROUP, model_version="v2")
    add_generation(session, user_id=3, chat_id=GROUP, model_version="v3")
    _rate_all(session, old.id, [2, 3])
    _rate_all(session, new.id, [5])
    session.commit()

    result = statistics(session=session)

    assert (result.users, result.generations, result.ratings) == (5, 4, 3)
    by_version = {row.model_version: row for row in result.versions}
    assert (by_version["v1"].generations, by_version["v1"].ratings) == (2, 2)
    assert by_version["v1"].average_score == pytest.approx(2.5)
    assert by_version["v2"].average_score == pytest.approx(5.0)
    assert by_version["v3"].ratings == 0
    assert by_version["v3"].average_score is None


def test_statistics_empty(session: Session) -> None:
    result = statistics(session=session)
    assert (result.users, result.generations, result.ratings, result.versions) == (0, 0, 0, [])


def test_feedback_lines_use_mean_score(session: Session) -> None:
    good = add_generation(session, user_id=1, chat_id=GROUP, text="好句子/")
    mixed = add_generation(session, user_id=1, chat_id=GROUP, text="一般/")
    best = add_generation(session, user_id=1, chat_id=GROUP, text="最好/")
    add_generation(session, user_id=1, chat_id=GROUP, text="没人评/")
    _rate_all(session, good.id, [4, 5])
    _rate_all(session, mixed.id, [5, 1])
    _rate_all(session, best.id, [5])
    session.commit()

    lines = feedback_lines(session=session, min_score=4)

    assert [line.text for line in lines] == ["最好/", "好句子/"]
    assert lines[1].average_score == pytest.approx(4.5)
    assert lines[1].rating_count == 2
    assert lines[1].lowest_score == 4
    assert lines[0].model_version == "v1"


def test_feedback_lines_bad_score(session: Session) -> None:
    liked = add_generation(session, user_id=1, chat_id=GROUP, text="都喜欢/")
    disliked = add_generation(session, user_id=1, chat_id=GROUP, text="有人讨厌/")
    _rate_all(session, liked.id, [4, 5, 3])
    _rate_all(session, disliked.id, [5, 5, 5, 2])
    session.commit()

    assert {line.text for line in feedback_lines(session=session, min_score=4)} == {"都喜欢/", "有人讨厌/"}
    assert [line.text for line in feedback_lines(session=session, min_score=4, bad_score=2)] == ["都喜欢/"]


def test_feedback_lines_since_run(session: Session) -> None:
    before = add_generation(session, user_id=1, chat_id=GROUP, text="旧/")
    _rate_all(session, before.id, [5])
    session.commit()
    run = queue_run(session=session, trigger="schedule")
    start_run(session=session, run_id=run.id)
    session.commit()

    after = add_generation(session, user_id=1, chat_id=GROUP, text="新/")
    _rate_all(session, after.id, [5])
    session.commit()

    assert [line.text for line in feedback_lines(session=session, since_run_id=run.id)] == ["新/"]
    assert len(feedback_lines(session=session)) == 2


def test_feedback_lines_unknown_run(session: Session) -> None:
    with pytest.raises(RunNotFound):
        feedback_lines(session=session, since_run_id=999)


def test_feedback_lines_exclude_forgotten(session: Session) -> None:
    from db.queries import forget_user

    generation = add_generation(session, user_id=1, chat_id=GROUP)
    _rate_all(session, generation.id, [5])
    session.commit()
    forget_user(session=session, user_id=1)
    session.commit()
    assert feedback_lines(session=session) == []


@pytest.mark.parametrize(
    ("outcome", "resets"),
    [(RunStatus.SUCCEEDED, True), (RunStatus.REJECTED, True), (RunStatus.FAILED, False),
     (RunStatus.INTERRUPTED, False)],
)
def test_ratings_since_last_run(session: Session, outcome: RunStatus, resets: bool) -> None:
    first = add_generation(session, user_id=1, chat_id=GROUP)
    _rate_all(session, first.id, [4, 4, 4])
    session.commit()
    assert count_ratings_since_last_run(session=session) == 3

    run = queue_run(session=session, trigger="schedule")
    start_run(session=session, run_id=run.id)
    finish_run(session=session, run_id=run.id, status=outcome)
    session.commit()
    second = add_generation(session, user_id=1, chat_id=GROUP)
    upsert_user(session=session, user_id=9)
    rate(session=session, generation_id=second.id, user_id=9, chat_id=GROUP, score=2)
    session.commit()

    assert count_ratings_since_last_run(session=session) == (1 if resets else 4)
