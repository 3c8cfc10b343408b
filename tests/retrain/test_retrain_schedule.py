"""The schedule: due cron times, the minimum of new ratings, restarts and two bots on one database."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from bot.retraining.schedule import claim_scheduled_run, previous_fire_time
from bot.retraining.settings import RetrainSettings, parse_schedule
from bot.settings import SettingsError
from db import queries
from db.engine import make_sync_engine
from db.models import RunStatus, RunTrigger
from tests.retrain.conftest import ADMIN_ID, read_runs, wait_for_run, with_changes

UTC = timezone.utc


def add_ratings(url: str, count: int, *, first_user: int = 5000) -> None:
    """Store `count` generations, each rated 5 by its own requester."""
    engine = make_sync_engine(url)
    with Session(engine) as session, session.begin():
        for user_id in range(first_user, first_user + count):
            queries.upsert_user(session=session, user_id=user_id)
            generation = queries.record_generation(session=session, user_id=user_id, chat_id=user_id, prompt="春",
                                                   text="春风吹过/", model_version="v0")
            queries.rate(session=session, generation_id=generation.id, user_id=user_id, chat_id=user_id, score=5)
    engine.dispose()


@pytest.mark.parametrize(
    ("expression", "zone", "now", "expected"),
    [
        ("0 4 * * *", "UTC", datetime(2026, 12, 4, 5, 0, tzinfo=UTC), datetime(2026, 12, 4, 4, 0, tzinfo=UTC)),
        ("0 4 * * *", "UTC", datetime(2026, 12, 4, 3, 59, tzinfo=UTC), datetime(2026, 12, 3, 4, 0, tzinfo=UTC)),
        ("0 4 * * *", "Asia/Shanghai", datetime(2026, 12, 4, 0, 0, tzinfo=UTC), datetime(2026, 12, 3, 20, 0, tzinfo=UTC)),
        ("*/10 * * * * *", "UTC", datetime(2026, 12, 4, 5, 0, 27, tzinfo=UTC), datetime(2026, 12, 4, 5, 0, 20, tzinfo=UTC)),
        ("0 0 1 1 *", "UTC", datetime(2026, 12, 4, 5, 0, tzinfo=UTC), datetime(2026, 1, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_previous_fire_time(expression, zone, now, expected):
    assert previous_fire_time(parse_schedule(expression, zone), now) == expected


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LYRICBOT_RETRAIN_SCHEDULE", "every night", "invalid cron expression 'every night'"),
        ("LYRICBOT_RETRAIN_SCHEDULE", "0 25 * * *", "invalid cron expression '0 25 * * *'"),
        ("LYRICBOT_RETRAIN_TIMEZONE", "Mars/Base", "unknown time zone 'Mars/Base'"),
        ("LYRICBOT_RETRAIN_MIN_RATINGS", "-1", "-1 is out of range"),
        ("LYRICBOT_RETRAIN_BAD_SCORE", "4", "4.0 is not below LYRICBOT_RETRAIN_GOOD_SCORE (4.0)"),
        ("LYRICBOT_RETRAIN_MINUTES", "0", "0 is out of range; use a finite value above 0.0"),
        ("LYRICBOT_RETRAIN_TOLERANCE", "abc", "invalid number 'abc'"),
    ],
)
def test_settings_reject_invalid_values(variable, value, message):
    with pytest.raises(SettingsError) as raised:
        RetrainSettings.from_env({variable: value}, env_file=None)
    assert raised.value.variable == variable
    assert message in str(raised.value)


def test_settings_read_environment():
    settings = RetrainSettings.from_env(
        {"LYRICBOT_RETRAIN_SCHEDULE": "off", "LYRICBOT_RETRAIN_MIN_RATINGS": "3", "LYRICBOT_RETRAIN_TOLERANCE": "0.02",
         "LYRICBOT_RETRAIN_MAX_STEPS": "50", "LYRICBOT_RETRAIN_TIMEZONE": "Asia/Shanghai"},
        env_file=None,
    )
    assert settings.schedule is None
    assert settings.cron_trigger() is None
    assert (settings.min_ratings, settings.tolerance, settings.max_steps) == (3, 0.02, 50)
    assert RetrainSettings.from_env({}, env_file=None).schedule == "0 4 * * *"


def test_claim_neither_loses_nor_doubles_a_due_time(database):
    engine = make_sync_engine(database)
    fire_time = datetime.now(UTC) - timedelta(hours=1)  # missed while the bot was down
    add_ratings(database, 2)

    with Session(engine) as session, session.begin():
        first = claim_scheduled_run(session=session, fire_time=fire_time, min_ratings=2)
    assert first.run_id is not None  # not lost
    with Session(engine) as session, session.begin():
        queries.start_run(session=session, run_id=first.run_id)
        queries.finish_run(session=session, run_id=first.run_id, status=RunStatus.REJECTED)
    add_ratings(database, 2, first_user=6000)

    # a restart looks at the same due time again
    with Session(engine) as session, session.begin():
        again = claim_scheduled_run(session=session, fire_time=fire_time, min_ratings=0)
    engine.dispose()
    assert again.run_id is None
    assert again.reason == f"run #{first.run_id} was already started for this time"
    assert len(read_runs(database)) == 1


def test_claim_skips_below_min_ratings(database):
    engine = make_sync_engine(database)
    add_ratings(database, 1)
    with Session(engine) as session, session.begin():
        decision = claim_scheduled_run(session=session, fire_time=datetime.now(UTC), min_ratings=2)
    engine.dispose()
    assert decision.run_id is None
    assert decision.reason == "only 1 new ratings since the last run, fewer than the minimum 2"


async def test_schedule_respects_min_ratings(make_bot, caplog):
    caplog.set_level(logging.INFO, logger="bot.retraining.service")
    bot = await make_bot(with_changes(schedule="*/2 * * * * *", min_ratings=2))
    admin = bot.server.user(ADMIN_ID, language_code="en")
    await admin.ask("/start")  # stores the admin's language for the report

    skipped = "skipped: only 0 new ratings since the last run, fewer than the minimum 2"
    for _ in range(100):
        if any(skipped in record.getMessage() for record in caplog.records):
            break
        await asyncio.sleep(0.1)
    assert any(skipped in record.getMessage() for record in caplog.records)
    assert read_runs(bot.settings.database_url) == []

    for user in (bot.server.user(), bot.server.user()):
        answer = await user.ask("春")
        await user.press_and_wait(answer, "5")

    started = await admin.next_message(timeout=30)
    assert started.text == "Run #1 (scheduled) started; this message shows its progress."
    outcome = await admin.next_message(timeout=90)
    assert outcome.text.startswith("Run #1 ")
    assert (await admin.next_message(timeout=30)).kind == "photo"
    run = await wait_for_run(bot.settings.database_url, lambda r: not r.status.is_active)
    assert run.trigger is RunTrigger.SCHEDULE
    assert run.requested_by is None
    assert run.metrics["feedback_lines"] >= 1
    status = await admin.ask("/status")
    assert "Next scheduled run: 20" in status.text
    assert "#1 scheduled " in status.text

    # the ratings were used, so the following ticks skip again
    caplog.clear()
    for _ in range(60):
        if any("only 0 new ratings" in record.getMessage() for record in caplog.records):
            break
        await asyncio.sleep(0.1)
    assert any("only 0 new ratings" in record.getMessage() for record in caplog.records)
    assert len(read_runs(bot.settings.database_url)) == 1


async def test_start_logs_skipped_catch_up_once(make_bot, caplog):
    caplog.set_level(logging.INFO, logger="bot.retraining.service")
    # midnight has passed today, so its run is due when the bot starts, and no ratings exist
    await make_bot(with_changes(schedule="0 0 * * *", min_ratings=1))

    skipped = [record for record in caplog.records if "fewer than the minimum" in record.getMessage()]
    assert len(skipped) == 1, [record.getMessage() for record in skipped]


async def test_two_bots_on_one_database_start_one_run(make_bot):
    settings = with_changes(min_ratings=1)
    first = await make_bot(settings)
    second = await make_bot(settings)
    add_ratings(first.settings.database_url, 1)
    fire_time = datetime.now(UTC)

    decisions = await asyncio.gather(first.service.scheduled_tick(fire_time), second.service.scheduled_tick(fire_time))

    started = [decision.run_id for decision in decisions if decision.run_id is not None]
    assert len(started) == 1
    [other] = [decision for decision in decisions if decision.run_id is None]
    assert f"run #{started[0]}" in other.reason
    assert [run.id for run in read_runs(first.settings.database_url)] == started

    # an admin on the other bot is refused while the run is active
    admin = second.server.user(ADMIN_ID, language_code="en")
    assert (await admin.ask("/retrain")).text.startswith(f"Run #{started[0]} is already ")
    await wait_for_run(first.settings.database_url, lambda r: not r.status.is_active, timeout=90)


async def test_restart_catches_up_missed_run_once(make_bot, caplog):
    caplog.set_level(logging.INFO, logger="bot.retraining.service")
    # midnight has passed today, so its run is due when the bot starts
    settings = with_changes(schedule="0 0 * * *", min_ratings=1)
    first = await make_bot(settings)
    url = first.settings.database_url
    add_ratings(url, 1)
    await first.service.close()

    second = await make_bot(settings, server=first.server)
    run = await wait_for_run(url, lambda r: not r.status.is_active, timeout=90)
    assert run.trigger is RunTrigger.SCHEDULE
    await second.service.close()

    add_ratings(url, 1, first_user=7000)
    await make_bot(settings, server=first.server)
    assert [r.id for r in read_runs(url)] == [run.id]
    assert f"run #{run.id} was already started for this time" in caplog.text
