"""Fixtures for the bot tests: a tiny trained checkpoint and the real bot polling a local Bot API server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
import torch
from telegram.ext import Application

from bot.app import build_application, start_polling, stop_polling
from bot.settings import Settings
from model.checkpoint import Checkpoint, save_checkpoint
from model.network import CharLSTM, LSTMConfig
from model.vocab import Vocabulary
from tests.botapi import BotApiServer

TOKEN = "123456:bot-tests-TOKEN"
ADMIN_ID = 900001

# Made-up lines in the lyrics.txt shape, for a second checkpoint that differs from the
# shared one. Like the shared one they contain 风, so the traditional 風 converts to a
# known character, and they lack 龘, which stays unknown.
TINY_SONGS = [
    "春风吹过小山/月光照在河上/",
    "春天来了花开/夜里听见雨声/",
    "风起云飞远方/山高水长路远/",
    "花落月明人静/河边灯火闪亮/",
    "华灯初上夜深/星光点点满天/",
    "夏日长风吹过/秋水连天月明/",
]


def train_tiny_checkpoint(path: Path, steps: int = 60) -> Path:
    """Train a tiny LSTM for a few real Adam steps on TINY_SONGS and save it to `path`, in well under a second."""
    torch.manual_seed(0)
    vocab = Vocabulary.build(TINY_SONGS, min_freq=1)
    config = LSTMConfig(
        vocab_size=len(vocab), embedding_size=16, hidden_size=32, num_layers=1, dropout=0.0, projection_size=0
    )
    model = CharLSTM(config)

    ids: list[int] = []
    for song in TINY_SONGS:
        ids += [vocab.eos_id, *vocab.encode(song)]
    data = torch.tensor(ids).unsqueeze(0)  # (1, time)
    inputs, targets = data[:, :-1], data[:, 1:]

    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(steps):
        logits, _ = model(inputs)  # (1, time, vocab)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    loss_value = loss.item()
    checkpoint = Checkpoint(
        model_state=model.state_dict(),
        model_config=config,
        vocab=vocab,
        train_config={"preset": "bot-tests", "steps": steps},
        metrics={"val_loss": loss_value, "val_bpc": loss_value / 0.6931471805599453, "val_accuracy": 0.5},
        corpus_fingerprint="sha256:bot-tests",
        validation_songs=[0],
    )
    save_checkpoint(checkpoint, path)
    return path


@pytest.fixture(scope="session")
def bot_checkpoint(tiny_checkpoint: Path) -> Path:
    """Path of the session's tiny trained checkpoint, which the bot serves in every test."""
    return tiny_checkpoint


def make_settings(server: BotApiServer, data_dir: Path, checkpoint: Path, **overrides: str) -> Settings:
    """Settings for a bot that talks to `server` and keeps its files under `data_dir`."""
    values = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "LYRICBOT_BOT_API_URL": server.url,
        "LYRICBOT_DATA_DIR": str(data_dir),
        "LYRICBOT_CHECKPOINT": str(checkpoint),
        "LYRICBOT_ADMIN_IDS": str(ADMIN_ID),
        "LYRICBOT_RATE_LIMIT": "6",
        "LYRICBOT_RATE_WINDOW": "60",
        "LYRICBOT_API_MAX_RATE": "0",
        "LYRICBOT_MAX_PROMPT_CHARS": "4",
        **overrides,
    }
    return Settings.from_env(values, env_file=None)


@dataclass
class RunningBot:
    """The local server, the real application polling it, and its settings."""

    server: BotApiServer
    application: Application
    settings: Settings


async def start_bot(server: BotApiServer, settings: Settings) -> RunningBot:
    application = build_application(settings)
    # A short poll timeout lets the tests stop the bot quickly.
    await start_polling(application, poll_timeout=1)
    return RunningBot(server, application, settings)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_bot(bot_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningBot]:
    """One bot per test module; tests keep apart by using their own users from `server.user()`."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    async with BotApiServer(token=TOKEN) as server:
        settings = make_settings(server, tmp_path_factory.mktemp("bot-data"), bot_checkpoint)
        running = await start_bot(server, settings)
        try:
            yield running
        finally:
            await stop_polling(running.application)


def rows(settings: Settings, model: type, **where: object) -> list:
    """Read rows of a db model straight from the bot's database, as a second client would."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from db.engine import make_sync_engine

    engine = make_sync_engine(settings.database_url)
    try:
        with Session(engine) as session:
            statement = select(model).filter_by(**where)
            found = list(session.scalars(statement))
            session.expunge_all()
            return found
    finally:
        engine.dispose()
