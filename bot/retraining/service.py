"""The bot's side of retraining: queue runs, start the job, follow it, report, and swap the model.

One `RetrainingService` lives in `application.bot_data`. It opens its own
database engine, so its connections come from a pool apart from the handlers'.
Each job it starts gets a watcher task that reads the run's row every
`poll_seconds` and edits the admins' progress messages. The watcher enforces
the timeout and records a crash or kill that the job could not record itself.
At the end it swaps the generation service to a promoted checkpoint and sends
the report.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import JobLookupError
from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, Job

from bot.retraining import launcher
from bot.retraining.plot import render_loss_plot
from bot.retraining.reports import outcome_text, progress_text
from bot.retraining.schedule import ScheduleDecision, claim_scheduled_run, previous_fire_time
from bot.retraining.settings import RetrainSettings
from bot.retraining.texts import RetrainTexts, retrain_texts
from bot.runtime import get_runtime
from bot.settings import Settings
from db import aio, queries
from db import engine as db_engine
from db.errors import DatabaseError, InvalidRunTransition
from db.models import ModelVersion, RunStatus, RunTrigger, TrainingRun, utcnow

logger = logging.getLogger(__name__)

SERVICE_KEY = "lyricbot.retraining"

# Time a job gets to exit after SIGTERM before SIGKILL.
TERMINATE_GRACE_S = 15.0
# Time beyond the job's own timeout before the bot kills it: the job stops itself
# at its timeout and needs a moment to evaluate and record the outcome.
TIMEOUT_GRACE_S = 60.0
# How often the bot checks for a newly promoted model.
SYNC_INTERVAL_S = 2.0
# How often the bot looks for runs whose worker died; each look takes the SQLite write lock briefly.
ORPHAN_CHECK_INTERVAL_S = 30.0


@dataclass
class ProgressMessage:
    """An admin's message that shows a run's progress, with its last text and edit time."""

    chat_id: int
    message_id: int
    texts: RetrainTexts
    last_text: str = ""
    last_edit: float = 0.0


@dataclass
class FollowedRun:
    """A run this bot started: its process, its watcher and the messages to update."""

    run_id: int
    process: asyncio.subprocess.Process | None = None
    watcher: asyncio.Task | None = None
    messages: list[ProgressMessage] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)


class RetrainingService:
    """Starts, follows, cancels and reports retraining runs for one bot."""

    def __init__(self, application: Application, settings: Settings, retrain: RetrainSettings) -> None:
        self.application = application
        self.settings = settings
        self.configure(retrain)
        self.followed: dict[int, FollowedRun] = {}
        self.schedule_job: Job | None = None
        self.sync_job: Job | None = None
        self.orphan_job: Job | None = None
        self.opened = False
        self._engine = None
        self._sessions = None
        self._read_sessions = None
        self._last_seen_version: str | None = None
        self._sync_lock = asyncio.Lock()

    def configure(self, retrain: RetrainSettings) -> None:
        """Use other retraining settings; only before `open`, because the schedule is set up there."""
        if getattr(self, "opened", False):
            raise RuntimeError("retraining is already open; configure it before the bot starts")
        self.retrain = retrain
        self.zone = ZoneInfo(retrain.timezone)
        self.trigger = retrain.cron_trigger()

    # start-up and shutdown

    async def open(self) -> None:
        """Connect, close orphaned runs, record the served model, schedule runs and catch up a missed one."""
        if self.opened:
            return
        self._engine = db_engine.make_async_engine(self.settings.database_url)
        self._sessions = db_engine.async_session_factory(self._engine)
        # Pure reads use these sessions. On SQLite a plain session takes the write lock,
        # so polling every few seconds with one would hold up the job's progress writes.
        self._read_sessions = db_engine.async_session_factory(db_engine.read_only(self._engine))
        self.opened = True

        orphans = await self._recover_orphans()
        for run in orphans:
            logger.warning("training run %s was orphaned by a restart: %s", run.id, run.error)

        await self._record_served_version()

        # APScheduler logs every job run at INFO, which would be a line every 2 seconds
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        job_queue = self.application.job_queue
        self.sync_job = job_queue.run_repeating(self._sync_callback, interval=SYNC_INTERVAL_S, first=SYNC_INTERVAL_S,
                                                name="retrain-sync")
        self.orphan_job = job_queue.run_repeating(self._orphan_callback, interval=ORPHAN_CHECK_INTERVAL_S,
                                                  first=ORPHAN_CHECK_INTERVAL_S, name="retrain-orphans")
        if self.trigger is not None:
            self.schedule_job = job_queue.run_custom(
                self._schedule_callback,
                job_kwargs={"trigger": self.trigger, "coalesce": True, "misfire_grace_time": 60},
                name="retrain-schedule",
            )
            missed = previous_fire_time(self.trigger, utcnow())
            if missed is not None:
                # scheduled_tick logs the decision, so the catch-up adds no line of its own
                logger.debug("schedule catch-up for %s", missed.isoformat())
                await self.scheduled_tick(missed)
        logger.info("retraining ready: schedule %s (%s), min ratings %d", self.retrain.schedule or "off",
                    self.retrain.timezone, self.retrain.min_ratings)

    async def close(self) -> None:
        """Stop the jobs this bot started and record them as interrupted, then disconnect."""
        if not self.opened:
            return
        self.opened = False
        for job in (self.schedule_job, self.sync_job, self.orphan_job):
            if job is None:
                continue
            try:
                job.schedule_removal()
            except JobLookupError:
                pass  # Application.stop() shut the scheduler down and dropped its jobs already
        self.schedule_job = self.sync_job = self.orphan_job = None

        try:
            for followed in list(self.followed.values()):
                if followed.watcher is not None:
                    followed.watcher.cancel()
                if followed.process is not None and followed.process.returncode is None:
                    await self._stop_process(followed, "the bot shut down during the run")
            self.followed.clear()
        finally:
            await self._engine.dispose()

    async def _record_served_version(self) -> None:
        """Record the served model as the current version, unless a newer promotion is already recorded.

        A model never recorded (the first start, or a file replaced by hand) is
        recorded. An older recorded version is not promoted back: the model
        sync swaps this bot to the newest one instead.
        """
        service = get_runtime(self.application).service
        if service is None:
            return
        metrics = dict(service.writer.checkpoint.metrics) or None

        def record(session: Session) -> bool:
            current = queries.current_model_version(session=session)
            known = session.scalar(select(ModelVersion.id).where(ModelVersion.version == service.version))
            if current is not None and current.version != service.version and known is not None:
                return False
            queries.record_model_version(session=session, version=service.version,
                                         path=str(self.settings.checkpoint_path), metrics=metrics)
            return True

        async with self._sessions() as session, session.begin():
            recorded = await session.run_sync(record)
        if recorded:
            self._last_seen_version = service.version
        else:
            logger.warning("serving model %s, which is older than the current recorded version; swapping soon",
                           service.version)

    # runs

    async def start_run(
        self, trigger: RunTrigger, *, requested_by: int | None, chat_ids: list[int], texts: RetrainTexts | None = None
    ) -> int:
        """Queue a run, tell `chat_ids`, start the job and follow it; raise RunAlreadyActive when one is active.

        Without `texts`, each chat gets the language stored for its user.
        """
        async with self._sessions() as session, session.begin():
            run = await aio.queue_run(session, trigger=trigger, requested_by=requested_by)
            run_id = run.id
        await self._launch(run_id, trigger, chat_ids, texts)
        return run_id

    async def _launch(
        self, run_id: int, trigger: RunTrigger, chat_ids: list[int], texts: RetrainTexts | None = None
    ) -> None:
        followed = FollowedRun(run_id)
        self.followed[run_id] = followed
        for chat_id in chat_ids:
            chat_texts = texts or await self._texts_for(chat_id)
            text = chat_texts.started.format(run_id=run_id, trigger=chat_texts.triggers[trigger.value])
            try:
                message = await self.application.bot.send_message(chat_id, text)
            except TelegramError as error:
                logger.warning("training run %s: could not tell chat %s: %s", run_id, chat_id, error)
                continue
            followed.messages.append(ProgressMessage(chat_id, message.message_id, chat_texts, text, time.monotonic()))

        try:
            followed.process = await launcher.launch_job(run_id, self.settings, self.retrain)
        except OSError as error:
            logger.error("training run %s: the job could not start: %s", run_id, error)
            await self._record_failure(run_id, RunStatus.FAILED, f"the training process could not start: {error}")
        followed.watcher = asyncio.create_task(self._watch(followed), name=f"retrain-watch-{run_id}")

    async def cancel_active(self) -> TrainingRun | None:
        """Ask the active run to stop and return it, or None when no run is active.

        A run this bot started also gets SIGTERM, so it stops within a step
        instead of at its next progress write.
        """
        async with self._sessions() as session, session.begin():
            run = await aio.active_run(session)
            if run is None:
                return None
            if run.status is RunStatus.QUEUED and run.id not in self.followed:
                return await aio.cancel_run(session, run_id=run.id)
            run = await aio.request_cancel(session, run_id=run.id)

        followed = self.followed.get(run.id)
        if followed is not None and followed.process is not None and followed.process.returncode is None:
            followed.process.terminate()
        logger.info("training run %s: cancel requested", run.id)
        return run

    async def status(self) -> tuple[TrainingRun | None, list[TrainingRun], datetime | None]:
        """Return the active run, the last five runs and the current model version's promotion time."""
        async with self._read_sessions() as session:
            active = await aio.active_run(session)
            recent = await aio.recent_runs(session, limit=5)
            version = await aio.current_model_version(session)
        return active, recent, version.promoted_at if version is not None else None

    def next_scheduled(self) -> datetime | None:
        """Return the next time the schedule fires, or None when it is off."""
        if self.schedule_job is None:
            return None
        # the trigger, not the job, because a job has no next time before the scheduler starts
        return self.trigger.get_next_fire_time(None, utcnow())

    # the schedule

    async def scheduled_tick(self, fire_time: datetime) -> ScheduleDecision:
        """Start the scheduled run of `fire_time` unless it is skipped; log the decision either way."""
        async with self._sessions() as session, session.begin():
            decision = await session.run_sync(
                lambda sync: claim_scheduled_run(session=sync, fire_time=fire_time,
                                                 min_ratings=self.retrain.min_ratings)
            )
        if decision.run_id is None:
            logger.info("scheduled run of %s skipped: %s", fire_time.isoformat(), decision.reason)
            return decision

        logger.info("scheduled run %s of %s queued: %s", decision.run_id, fire_time.isoformat(), decision.reason)
        await self._launch(decision.run_id, RunTrigger.SCHEDULE, sorted(self.settings.admin_ids))
        return decision

    async def _schedule_callback(self, context) -> None:
        fire_time = previous_fire_time(self.trigger, utcnow()) or utcnow()
        await self.scheduled_tick(fire_time)

    # following a run

    async def _watch(self, followed: FollowedRun) -> None:
        """Follow a run until its row is closed, then report it."""
        run_id = followed.run_id
        hard_limit = self.retrain.timeout_minutes * 60 + TIMEOUT_GRACE_S
        try:
            while True:
                return_code = await self._wait_exit(followed.process, self.retrain.poll_seconds)
                run = await self._get_run(run_id)
                if not run.status.is_active:
                    await self._wait_exit(followed.process, TERMINATE_GRACE_S)
                    break
                if followed.process is None:
                    await self._record_failure(run_id, RunStatus.FAILED, "the training process did not start")
                    break
                if return_code is not None:
                    status = RunStatus.INTERRUPTED if run.cancel_requested_at else RunStatus.FAILED
                    log_path = launcher.run_folder(self.settings, run_id) / launcher.LOG_NAME
                    await self._record_failure(run_id, status, launcher.exit_reason(return_code, log_path))
                    break
                if time.monotonic() - followed.started > hard_limit:
                    await self._record_failure(
                        run_id, RunStatus.FAILED,
                        f"timed out: still running {self.retrain.timeout_minutes:g} minutes after it started",
                    )
                    await self._stop_process(followed, None)
                    break
                await self._edit_progress(followed, run)
            await self._conclude(followed)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("training run %s: following the run failed", run_id)
        finally:
            self.followed.pop(run_id, None)

    async def _conclude(self, followed: FollowedRun) -> None:
        """Swap to a promoted model first, so the next replies use it, then send each admin the outcome and plot."""
        run = await self._get_run(followed.run_id)
        logger.info("training run %s ended: %s%s", run.id, run.status.value, f" ({run.error})" if run.error else "")
        if run.status is RunStatus.SUCCEEDED:
            await self.sync_model()

        plot = await self._plot(run)
        for message in followed.messages:
            await self._edit(message, outcome_text(run, message.texts), force=True)
            try:
                await self.application.bot.send_message(message.chat_id, outcome_text(run, message.texts))
                if plot is not None:
                    await self.application.bot.send_photo(
                        message.chat_id, plot, caption=message.texts.plot_caption.format(run_id=run.id)
                    )
            except TelegramError as error:
                logger.warning("training run %s: report to chat %s failed: %s", run.id, message.chat_id, error)

    async def _plot(self, run: TrainingRun) -> bytes | None:
        metrics = run.metrics or {}
        metrics_file = Path(metrics.get("metrics_file") or launcher.run_folder(self.settings, run.id) / "metrics.jsonl")
        if not metrics_file.is_file():
            return None
        before = metrics.get("val_loss_before") or (run.progress or {}).get("val_loss_before")
        try:
            return await asyncio.to_thread(render_loss_plot, metrics_file, run_id=run.id, val_loss_before=before)
        except Exception:
            logger.exception("training run %s: the loss plot failed", run.id)
            return None

    async def _edit_progress(self, followed: FollowedRun, run: TrainingRun) -> None:
        for message in followed.messages:
            await self._edit(message, progress_text(run, message.texts), force=False)

    async def _edit(self, message: ProgressMessage, text: str, *, force: bool) -> None:
        """Edit a progress message when its text changed and the edit interval has passed."""
        now = time.monotonic()
        if text == message.last_text or (not force and now - message.last_edit < self.retrain.progress_seconds):
            return
        message.last_text, message.last_edit = text, now
        try:
            await self.application.bot.edit_message_text(text, chat_id=message.chat_id,
                                                         message_id=message.message_id)
        except BadRequest as error:
            logger.info("progress message %s in chat %s not edited: %s", message.message_id, message.chat_id,
                        error.message)
        except TelegramError as error:
            logger.warning("progress message %s in chat %s not edited: %s", message.message_id, message.chat_id,
                           error)

    # the model

    async def sync_model(self) -> None:
        """Swap the generation service to the newest promoted version when another one is serving."""
        async with self._sync_lock:
            service = get_runtime(self.application).service
            if service is None or not self.opened:
                return
            async with self._read_sessions() as session:
                current = await aio.current_model_version(session)
            if current is None or current.version in (service.version, self._last_seen_version):
                return
            self._last_seen_version = current.version
            try:
                version = await asyncio.to_thread(service.swap, current.path)
            except Exception:
                # a bad file keeps the old model serving; CheckpointError names the file and the problem
                logger.exception("model %s from %s could not be loaded; still serving %s", current.version,
                                 current.path, service.version)
                return
            logger.info("now serving model %s (promoted as %s)", version, current.version)

    async def _sync_callback(self, context) -> None:
        await self.sync_model()

    async def _orphan_callback(self, context) -> None:
        for run in await self._recover_orphans():
            logger.warning("training run %s marked failed: %s", run.id, run.error)

    # helpers

    async def _recover_orphans(self) -> list[TrainingRun]:
        """Mark runs failed whose worker is gone or silent for longer than the timeout allows."""
        own_pids = {f.process.pid for f in self.followed.values() if f.process is not None}
        stale_after = timedelta(minutes=self.retrain.timeout_minutes, seconds=TIMEOUT_GRACE_S)
        async with self._sessions() as session, session.begin():
            return await aio.recover_orphan_runs(
                session, stale_after=stale_after, is_alive=lambda pid: pid in own_pids or queries.process_is_alive(pid)
            )

    async def _get_run(self, run_id: int) -> TrainingRun:
        async with self._read_sessions() as session:
            return await aio.get_run(session, run_id=run_id)

    async def _record_failure(self, run_id: int, status: RunStatus, reason: str) -> None:
        """Close a still-active run with `reason`; a row the job closed first stays as it is."""
        try:
            async with self._sessions() as session, session.begin():
                await aio.finish_run(session, run_id=run_id, status=status, error=reason)
            logger.warning("training run %s recorded as %s: %s", run_id, status.value, reason)
        except InvalidRunTransition:
            logger.info("training run %s was already closed by its job", run_id)
        except DatabaseError as error:
            logger.error("training run %s: could not record %s (%s): %s", run_id, status.value, reason, error)

    async def _stop_process(self, followed: FollowedRun, reason: str | None) -> None:
        """SIGTERM the job, SIGKILL it after the grace time, and record `reason` if the row is still active."""
        process = followed.process
        process.terminate()
        if await self._wait_exit(process, TERMINATE_GRACE_S) is None:
            logger.warning("training run %s: job %d ignored SIGTERM; killing it", followed.run_id, process.pid)
            process.kill()
            await process.wait()
        if reason is not None:
            await self._record_failure(followed.run_id, RunStatus.INTERRUPTED, reason)

    @staticmethod
    async def _wait_exit(process: asyncio.subprocess.Process | None, timeout: float) -> int | None:
        """Wait up to `timeout` seconds for the process to exit; return its code, or None while it runs."""
        if process is None:
            await asyncio.sleep(timeout)
            return None
        try:
            return await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            return None

    async def _texts_for(self, chat_id: int) -> RetrainTexts:
        """Return the texts in the stored language of the user with id `chat_id` (a private chat)."""
        try:
            async with self._read_sessions() as session:
                user = await aio.get_user(session, user_id=chat_id)
        except DatabaseError:
            user = None
        return retrain_texts(user.language_code if user is not None else None)


def get_service(application: Application) -> RetrainingService | None:
    """Return the application's retraining service, or None when retraining is not registered."""
    return application.bot_data.get(SERVICE_KEY)
