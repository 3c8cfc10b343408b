"""Fixtures for the retraining tests: a bot with retraining on a tiny model, talking to the local Bot API server."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram.ext import Application

from bot.app import build_application, start_polling, stop_polling
from bot.retraining import register_retraining, start_retraining, stop_retraining
from bot.retraining.service import RetrainingService
from bot.retraining.settings import RetrainSettings
from bot.settings import Settings
from db.engine import make_sync_engine, upgrade
from db.models import TrainingRun
from tests.bot.conftest import ADMIN_ID, TOKEN, make_settings
from tests.conftest import make_up_songs
from tests.botapi import BotApiServer

__all__ = ["ADMIN_ID", "TOKEN"]

# A few real steps on the tiny model: enough to move the validation loss, quick on 2 cores.
TEST_RETRAIN = RetrainSettings(
    schedule=None,
    min_ratings=0,
    tolerance=0.0,
    epochs=5,
    minutes=1.0,
    max_steps=12,
    learning_rate=0.03,
    timeout_minutes=2.0,
    threads=1,
    progress_seconds=0.2,
    poll_seconds=0.2,
)


@dataclass
class RetrainBot:
    """A running bot with retraining, its server, settings and data folder."""

    server: BotApiServer
    application: Application
    settings: Settings
    service: RetrainingService

    @property
    def generation(self):
        return self.application.bot_data["lyricbot.runtime"].service


def prepare_data_dir(folder: Path, lyrics: Path, checkpoint: Path) -> tuple[Path, Path]:
    """Copy the corpus and the served checkpoint into a fresh data folder; return their paths there."""
    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    served = folder / "checkpoints" / "current.pt"
    shutil.copy(checkpoint, served)
    corpus = folder / "lyrics.txt"
    shutil.copy(lyrics, corpus)
    return corpus, served


@pytest.fixture
def data_dir(tmp_path: Path, tiny_checkpoint: Path) -> Path:
    """A data folder containing lyrics.txt and checkpoints/current.pt of the shared tiny model."""
    folder = tmp_path / "data"
    prepare_data_dir(folder, tiny_checkpoint.parent / "lyrics.txt", tiny_checkpoint)
    return folder


def lengthen_corpus(lyrics: Path, songs: int = 20_000) -> None:
    """Append made-up songs, so one epoch takes many seconds and a run is still training when a test acts.

    Appending keeps the checkpoint's validation songs, which are indices into the corpus, where they were.
    """
    with lyrics.open("a", encoding="utf-8") as stream:
        stream.writelines(song + "\n" for song in make_up_songs(songs, seed=11))


async def start_retrain_bot(server: BotApiServer, data_dir: Path, retrain: RetrainSettings, **overrides: str) -> RetrainBot:
    """Build the real application, add retraining, start polling the server and open retraining."""
    settings = make_settings(
        server, data_dir, data_dir / "checkpoints" / "current.pt",
        LYRICBOT_LYRICS=str(data_dir / "lyrics.txt"), **overrides,
    )
    application = build_application(settings)
    service = register_retraining(application, settings, retrain)
    await start_polling(application, poll_timeout=1)
    await start_retraining(application)
    return RetrainBot(server, application, settings, service)


async def stop_retrain_bot(bot: RetrainBot) -> None:
    # stop_polling calls the post_stop hook, which stops retraining after the job queue, as run_polling does
    await stop_polling(bot.application)
    await stop_retraining(bot.application)


@pytest_asyncio.fixture
async def make_bot(data_dir: Path) -> AsyncIterator[Callable]:
    """Return a factory of running bots on one server and one data folder; every bot stops at the end."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    started: list[RetrainBot] = []
    servers: list[BotApiServer] = []

    async def factory(retrain: RetrainSettings = TEST_RETRAIN, *, server: BotApiServer | None = None,
                      **overrides: str) -> RetrainBot:
        if server is None:
            server = BotApiServer(token=TOKEN)
            await server.start()
            servers.append(server)
        bot = await start_retrain_bot(server, data_dir, retrain, **overrides)
        started.append(bot)
        return bot

    try:
        yield factory
    finally:
        for bot in reversed(started):
            await stop_retrain_bot(bot)
        for server in servers:
            await server.stop()


def read_runs(url: str) -> list[TrainingRun]:
    """Read every training-run row, as a second client would."""
    engine = make_sync_engine(url)
    try:
        with Session(engine) as session:
            found = list(session.scalars(select(TrainingRun).order_by(TrainingRun.id)))
            session.expunge_all()
            return found
    finally:
        engine.dispose()


async def wait_for_run(url: str, check: Callable[[TrainingRun], bool], timeout: float = 60.0) -> TrainingRun:
    """Poll the database until some run satisfies `check`; fail with the rows seen after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        runs = await asyncio.to_thread(read_runs, url)
        for run in runs:
            if check(run):
                return run
        if time.monotonic() > deadline:
            raise AssertionError(f"no run matched within {timeout} s; runs: "
                                 f"{[(r.id, r.status.value, r.progress, r.error) for r in runs]}")
        await asyncio.sleep(0.2)


def with_changes(retrain: RetrainSettings = TEST_RETRAIN, **changes) -> RetrainSettings:
    """Return the test retraining settings with some fields changed."""
    return replace(retrain, **changes)


@pytest.fixture
def database(tmp_path: Path) -> str:
    """URL of a fresh SQLite database at the newest schema."""
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade(url)
    return url
