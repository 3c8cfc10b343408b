"""The schedule's decisions: which cron time is due, and whether a scheduled run starts for it.

A scheduled run is claimed inside one database transaction. It is skipped
when a scheduled run was already queued at or after the same cron time, by
another bot process or by this one before a restart. It is also skipped when a
run is active, or when too few ratings arrived since the last finished run.
The unique index on active runs backs the active-run check when two processes
insert at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from db import queries
from db.errors import RunAlreadyActive
from db.models import RunTrigger, TrainingRun

logger = logging.getLogger(__name__)

# Windows searched, smallest first, for the latest cron time before now; the
# largest covers a schedule that fires once a year.
_LOOKBACK_WINDOWS = (
    timedelta(minutes=1),
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(days=32),
    timedelta(days=367),
)


@dataclass(frozen=True)
class ScheduleDecision:
    """The outcome of one cron time: the queued run's id, or the reason it was skipped."""

    fire_time: datetime
    run_id: int | None
    reason: str


def previous_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """Return the latest time at or before `now` at which `trigger` fires, or None within a year."""
    for window in _LOOKBACK_WINDOWS:
        fire = trigger.get_next_fire_time(None, now - window)
        if fire is None or fire > now:
            continue
        while True:
            following = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
            if following is None or following > now:
                return fire
            fire = following
    return None


def claim_scheduled_run(*, session: Session, fire_time: datetime, min_ratings: int) -> ScheduleDecision:
    """Queue the scheduled run of `fire_time`, or return why it is skipped; the caller commits."""
    earlier = session.scalar(
        select(TrainingRun.id)
        .where(TrainingRun.trigger == RunTrigger.SCHEDULE, TrainingRun.created_at >= fire_time)
        .limit(1)
    )
    if earlier is not None:
        return ScheduleDecision(fire_time, None, f"run #{earlier} was already started for this time")

    active = queries.active_run(session=session)
    if active is not None:
        return ScheduleDecision(fire_time, None, f"run #{active.id} is still {active.status.value}")

    ratings = queries.count_ratings_since_last_run(session=session)
    if ratings < min_ratings:
        return ScheduleDecision(
            fire_time, None, f"only {ratings} new ratings since the last run, fewer than the minimum {min_ratings}"
        )

    try:
        run = queries.queue_run(session=session, trigger=RunTrigger.SCHEDULE)
    except RunAlreadyActive as error:
        return ScheduleDecision(fire_time, None, f"run #{error.run.id} is still {error.run.status.value}")
    return ScheduleDecision(fire_time, run.id, f"{ratings} new ratings since the last run")
