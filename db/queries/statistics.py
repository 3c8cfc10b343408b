"""Counts for admins and the rated lines the retraining job learns from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.errors import RunNotFound
from db.models import Generation, Rating, RunStatus, TrainingRun, User


@dataclass(frozen=True)
class VersionStatistics:
    """Generations and ratings of one model version; average_score is None without ratings."""

    model_version: str
    generations: int
    ratings: int
    average_score: float | None


@dataclass(frozen=True)
class Statistics:
    """Totals over the whole database and per model version."""

    users: int
    generations: int
    ratings: int
    versions: list[VersionStatistics]


@dataclass(frozen=True)
class FeedbackLine:
    """A rated generation: its text, the mean and lowest of all its ratings, and their number."""

    generation_id: int
    prompt: str
    text: str
    model_version: str
    average_score: float
    lowest_score: int
    rating_count: int


def statistics(*, session: Session) -> Statistics:
    """Count users, generations and ratings, and average the scores per model version."""
    users = session.scalar(select(func.count()).select_from(User)) or 0
    generations = session.scalar(select(func.count()).select_from(Generation)) or 0
    ratings = session.scalar(select(func.count()).select_from(Rating)) or 0

    generation_counts = dict(
        session.execute(select(Generation.model_version, func.count()).group_by(Generation.model_version)).all()
    )
    rating_rows = session.execute(
        select(Generation.model_version, func.count(Rating.id), func.avg(Rating.score))
        .join(Rating, Rating.generation_id == Generation.id)
        .group_by(Generation.model_version)
    ).all()
    rated = {version: (count, average) for version, count, average in rating_rows}

    versions = [
        VersionStatistics(
            model_version=version,
            generations=count,
            ratings=rated.get(version, (0, None))[0],
            average_score=_as_float(rated.get(version, (0, None))[1]),
        )
        for version, count in sorted(generation_counts.items())
    ]
    return Statistics(users=users, generations=generations, ratings=ratings, versions=versions)


def feedback_lines(
    *,
    session: Session,
    min_score: float = 4.0,
    bad_score: float | None = None,
    since_run_id: int | None = None,
    limit: int | None = None,
) -> list[FeedbackLine]:
    """Return generations whose mean score is at least `min_score`, best first.

    With `bad_score`, a generation with any rating at or below it is left out.
    With `since_run_id`, only generations rated or re-rated after that run
    started (or was queued, if it never started) count; their mean still uses
    every rating. Raises RunNotFound for an unknown run.
    """
    average = func.avg(Rating.score)
    lowest = func.min(Rating.score)
    statement = (
        select(
            Generation.id,
            Generation.prompt,
            Generation.text,
            Generation.model_version,
            average,
            lowest,
            func.count(Rating.id),
        )
        .join(Rating, Rating.generation_id == Generation.id)
        .group_by(Generation.id, Generation.prompt, Generation.text, Generation.model_version)
        .having(average >= min_score)
        .order_by(average.desc(), Generation.id)
    )
    if bad_score is not None:
        statement = statement.having(lowest > bad_score)
    if since_run_id is not None:
        cutoff = run_cutoff(session=session, run_id=since_run_id)
        statement = statement.having(func.max(Rating.updated_at) > cutoff)
    if limit is not None:
        statement = statement.limit(limit)

    return [
        FeedbackLine(
            generation_id=generation_id,
            prompt=prompt,
            text=text,
            model_version=model_version,
            average_score=float(score),
            lowest_score=int(low),
            rating_count=count,
        )
        for generation_id, prompt, text, model_version, score, low, count in session.execute(statement)
    ]


def run_cutoff(*, session: Session, run_id: int) -> datetime:
    """Return the time a run began reading ratings: its start, or its queueing time."""
    run = session.get(TrainingRun, run_id)
    if run is None:
        raise RunNotFound(run_id)
    return run.started_at or run.created_at


def count_ratings_since_last_run(*, session: Session) -> int:
    """Count ratings given or changed since the newest run that used feedback began.

    Runs that succeeded or were rejected consumed the ratings; failed and
    interrupted runs did not, so they do not reset the count. Without such a
    run every rating counts.
    """
    last_run_start = session.scalar(
        select(func.max(func.coalesce(TrainingRun.started_at, TrainingRun.created_at))).where(
            TrainingRun.status.in_([RunStatus.SUCCEEDED, RunStatus.REJECTED])
        )
    )
    statement = select(func.count()).select_from(Rating)
    if last_run_start is not None:
        statement = statement.where(Rating.updated_at > last_run_start)
    return session.scalar(statement) or 0


def _as_float(value: object) -> float | None:
    # PostgreSQL returns Decimal for AVG over integers; SQLite returns float.
    return None if value is None else float(value)
