"""Settings of the retraining loop, read from the environment and an optional `.env` file.

| variable | default | meaning |
| --- | --- | --- |
| `LYRICBOT_RETRAIN_SCHEDULE` | `0 4 * * *` | cron expression of scheduled runs (5 fields; a 6th leading field sets seconds); `off` turns the schedule off |
| `LYRICBOT_RETRAIN_TIMEZONE` | `UTC` | IANA time zone the schedule is read in, e.g. `Asia/Shanghai` |
| `LYRICBOT_RETRAIN_MIN_RATINGS` | `20` | ratings given since the last finished run below which a scheduled run is skipped |
| `LYRICBOT_RETRAIN_GOOD_SCORE` | `4` | mean score (1 to 5) at or above which a rated line joins the training set |
| `LYRICBOT_RETRAIN_BAD_SCORE` | `2` | a line with any single rating at or below this score is left out |
| `LYRICBOT_RETRAIN_TOLERANCE` | `0.0` | how much higher (nats per character) the candidate's validation loss may be and still be promoted |
| `LYRICBOT_RETRAIN_EPOCHS` | `1` | passes over the training set in one run |
| `LYRICBOT_RETRAIN_MINUTES` | `10` | training time budget of one run, in minutes |
| `LYRICBOT_RETRAIN_MAX_STEPS` | unset | optional cap on optimizer steps of one run |
| `LYRICBOT_RETRAIN_LEARNING_RATE` | unset | peak learning rate; unset means 0.3 times the current model's own |
| `LYRICBOT_RETRAIN_TIMEOUT_MINUTES` | `30` | hard limit on one run's wall time; the run is stopped and recorded as failed after it |
| `LYRICBOT_RETRAIN_THREADS` | CPU cores - 1 | torch threads of the training process, leaving a core for the bot |
| `LYRICBOT_RETRAIN_PROGRESS_SECONDS` | `5` | least time between two edits of an admin's progress message |

A missing or invalid value raises `bot.settings.SettingsError`, whose message names the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from bot.settings import SettingsError, SettingsReader, read_environment

SCHEDULE_OFF = "off"


@dataclass(frozen=True)
class RetrainSettings:
    """The retraining schedule, training-set thresholds, budget and reporting intervals of the bot."""

    schedule: str | None = "0 4 * * *"
    timezone: str = "UTC"
    min_ratings: int = 20
    good_score: float = 4.0
    bad_score: float = 2.0
    tolerance: float = 0.0
    epochs: int = 1
    minutes: float = 10.0
    max_steps: int | None = None
    learning_rate: float | None = None
    timeout_minutes: float = 30.0
    threads: int = max(1, (os.cpu_count() or 2) - 1)
    progress_seconds: float = 5.0
    # How often the bot reads a running job's row; not an environment setting.
    poll_seconds: float = 1.0

    def cron_trigger(self) -> CronTrigger | None:
        """Return the APScheduler trigger of the schedule, or None when the schedule is off."""
        if self.schedule is None:
            return None
        return parse_schedule(self.schedule, self.timezone)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: Path | str | None = ".env"
    ) -> RetrainSettings:
        """Read the settings from `environ` (default `os.environ`) over the values in `env_file`."""
        return _parse(read_environment(environ, env_file))


def parse_schedule(expression: str, timezone: str) -> CronTrigger:
    """Build a CronTrigger from 5 cron fields, or 6 with seconds first; raise SettingsError when invalid."""
    fields = expression.split()
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            "LYRICBOT_RETRAIN_TIMEZONE", f"unknown time zone {timezone!r}; use an IANA name such as UTC or Asia/Shanghai"
        ) from None
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(expression, timezone=zone)
        if len(fields) == 6:
            second, minute, hour, day, month, day_of_week = fields
            return CronTrigger(
                second=second, minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week, timezone=zone
            )
    except ValueError as error:
        raise SettingsError("LYRICBOT_RETRAIN_SCHEDULE", f"invalid cron expression {expression!r}: {error}") from None
    raise SettingsError(
        "LYRICBOT_RETRAIN_SCHEDULE",
        f"invalid cron expression {expression!r}: expected 5 fields (minute hour day month weekday), "
        f"6 with seconds first, or {SCHEDULE_OFF!r}",
    )


def _parse(values: Mapping[str, str]) -> RetrainSettings:
    """Build RetrainSettings from raw strings, checking each one."""
    defaults = RetrainSettings()
    reader = SettingsReader(values)

    schedule = reader.text("LYRICBOT_RETRAIN_SCHEDULE", defaults.schedule)
    if schedule.lower() == SCHEDULE_OFF:
        schedule = None
    timezone = reader.text("LYRICBOT_RETRAIN_TIMEZONE", defaults.timezone)
    if schedule is not None:
        parse_schedule(schedule, timezone)

    good = reader.number("LYRICBOT_RETRAIN_GOOD_SCORE", defaults.good_score, minimum=1.0)
    bad = reader.number("LYRICBOT_RETRAIN_BAD_SCORE", defaults.bad_score, minimum=0.0)
    if good > 5:
        raise SettingsError("LYRICBOT_RETRAIN_GOOD_SCORE", f"{good} is out of range; scores go from 1 to 5")
    if bad >= good:
        raise SettingsError(
            "LYRICBOT_RETRAIN_BAD_SCORE",
            f"{bad} is not below LYRICBOT_RETRAIN_GOOD_SCORE ({good}); a bad score must be lower than a good one",
        )

    return RetrainSettings(
        schedule=schedule,
        timezone=timezone,
        min_ratings=reader.integer("LYRICBOT_RETRAIN_MIN_RATINGS", defaults.min_ratings, minimum=0),
        good_score=good,
        bad_score=bad,
        tolerance=reader.number("LYRICBOT_RETRAIN_TOLERANCE", defaults.tolerance, minimum=0.0),
        epochs=reader.integer("LYRICBOT_RETRAIN_EPOCHS", defaults.epochs, minimum=1),
        minutes=reader.number("LYRICBOT_RETRAIN_MINUTES", defaults.minutes, minimum=0.0, above=True),
        max_steps=reader.integer("LYRICBOT_RETRAIN_MAX_STEPS", None, minimum=1),
        learning_rate=reader.number("LYRICBOT_RETRAIN_LEARNING_RATE", None, minimum=0.0, above=True),
        timeout_minutes=reader.number("LYRICBOT_RETRAIN_TIMEOUT_MINUTES", defaults.timeout_minutes, minimum=0.0, above=True),
        threads=reader.integer("LYRICBOT_RETRAIN_THREADS", defaults.threads, minimum=1),
        progress_seconds=reader.number("LYRICBOT_RETRAIN_PROGRESS_SECONDS", defaults.progress_seconds, minimum=0.0),
    )
