"""Which rated lines join the retraining set, how often, and how the set is laid out."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from db import queries
from db.engine import make_sync_engine
from training.feedback import RatedLine, select_rated_lines, song_from_generation, write_training_set

GROUP = -100
_user_ids = itertools.count(1000)


def store_line(session: Session, text: str, scores: list[int]) -> int:
    """Store a generation sent to a group and rate it once per score, each by another group member."""
    author = next(_user_ids)
    queries.upsert_user(session=session, user_id=author)
    generation = queries.record_generation(session=session, user_id=author, chat_id=GROUP, prompt=text[0],
                                           text=text, model_version="v1")
    for score in scores:
        rater = next(_user_ids)
        queries.upsert_user(session=session, user_id=rater)
        queries.rate(session=session, generation_id=generation.id, user_id=rater, chat_id=GROUP, score=score)
    return generation.id


@pytest.fixture
def session(database: str):
    engine = make_sync_engine(database)
    with Session(engine) as session, session.begin():
        yield session
    engine.dispose()


def test_selection_keeps_good_lines_only(session):
    good = store_line(session, "春风吹过/", [5, 4])
    store_line(session, "秋水长天/", [3])  # mean below the good score
    store_line(session, "夏日长风/", [5, 5, 2])  # mean 4 but one rating at the bad score
    exact = store_line(session, "冬雪白山/", [4])  # mean exactly at the good score

    lines = select_rated_lines(session=session, good_score=4.0, bad_score=2.0)

    assert [line.generation_id for line in lines] == [good, exact]
    assert lines[0].mean_score == 4.5
    assert lines[0].lowest_score == 4
    assert lines[0].ratings == 2


def test_selection_drops_forgotten_lines(session):
    kept = store_line(session, "春风吹过/", [5])
    forgotten = store_line(session, "月明星稀/", [5])
    owner = queries.get_generation(session=session, generation_id=forgotten).user_id

    queries.forget_user(session=session, user_id=owner)

    assert [line.generation_id for line in select_rated_lines(session=session, good_score=4, bad_score=2)] == [kept]


@pytest.mark.parametrize(
    ("mean", "ratings", "copies"),
    [(4.0, 1, 1), (4.5, 2, 1), (5.0, 1, 2), (4.2, 3, 2), (5.0, 3, 3), (5.0, 10, 3)],
)
def test_copies_follow_weighting_rule(mean, ratings, copies):
    assert RatedLine(1, "春/", mean, 4, ratings).copies == copies


@pytest.mark.parametrize(
    ("text", "song"),
    [("春风吹过/", "春风吹过/"), ("春风/\n月明/", "春风/月明/"), (" 春风 /", "春风/"), ("春风", None), ("/", None), ("", None)],
)
def test_song_from_generation(text, song):
    assert song_from_generation(text) == song


def test_training_set_appends_weighted_lines_after_corpus(tmp_path: Path):
    corpus = ["山高水长/", "花落月明/"]
    lines = [RatedLine(1, "春风吹过/", 5.0, 5, 3), RatedLine(2, "秋水", 4.0, 4, 1), RatedLine(3, "夜深/", 4.0, 4, 1)]

    made = write_training_set(corpus, lines, tmp_path / "run" / "train.txt")

    assert made.path.read_text(encoding="utf-8").splitlines() == [
        "山高水长/", "花落月明/", "春风吹过/", "春风吹过/", "春风吹过/", "夜深/",
    ]
    assert (made.corpus_songs, made.feedback_lines, made.feedback_copies, made.skipped_lines) == (2, 2, 4, 1)
