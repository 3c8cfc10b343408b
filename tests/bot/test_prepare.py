"""`python -m bot --prepare`: corpus and model built by the project's own commands, then the bot starts."""

import asyncio
import os
import random
import signal
import sys
from pathlib import Path

import pytest

from bot.prepare import PrepareError, install_checkpoint, run_step
from model.checkpoint import load_checkpoint
from tests.bot.conftest import TOKEN
from tests.botapi import BotApiServer
from tests.conftest import MADE_UP_CHARACTERS

REPOSITORY = Path(__file__).resolve().parents[2]


def write_made_up_corpus(folder: Path, songs: int = 30) -> Path:
    """Write plain-text songs of made-up lines, one lyric line per text line."""
    folder.mkdir(parents=True)
    generator = random.Random(5)
    for number in range(songs):
        lines = ["".join(generator.choice(MADE_UP_CHARACTERS) for _ in range(6)) for _ in range(8)]
        (folder / f"song{number}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def clean_environment(**values: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LYRICBOT_", "TELEGRAM_"))}
    environment.update(PYTHONPATH=str(REPOSITORY), TELEGRAM_BOT_TOKEN=TOKEN, **values)
    return environment


def test_install_checkpoint_copies_loadable_file(bot_checkpoint, tmp_path):
    target = tmp_path / "checkpoints" / "current.pt"
    install_checkpoint(bot_checkpoint, target)
    assert load_checkpoint(target).version == load_checkpoint(bot_checkpoint).version
    assert list(target.parent.iterdir()) == [target]


def test_install_checkpoint_rejects_broken_file(tmp_path):
    broken = tmp_path / "best.pt"
    broken.write_bytes(b"truncated")
    with pytest.raises(PrepareError, match="cannot be used"):
        install_checkpoint(broken, tmp_path / "current.pt")
    assert not (tmp_path / "current.pt").exists()


def test_failed_step_names_step_and_command():
    with pytest.raises(PrepareError) as caught:
        run_step("prepare the corpus", ["-c", "raise SystemExit(3)"])
    assert "prepare the corpus failed with exit code 3" in str(caught.value)
    assert "make run" in str(caught.value)


def test_missing_corpus_stops_with_message(tmp_path):
    environment = clean_environment(
        LYRICBOT_DATA_DIR=str(tmp_path / "var"),
        LYRICBOT_CORPUS=str(tmp_path / "no-such-corpus"),
        LYRICBOT_BOT_API_URL="http://127.0.0.1:9",  # never contacted
    )
    import subprocess

    finished = subprocess.run(
        [sys.executable, "-m", "bot", "--prepare"], cwd=tmp_path, env=environment,
        capture_output=True, text=True, timeout=120,
    )
    assert finished.returncode == 1
    assert "preparation failed: prepare the corpus failed" in finished.stderr
    assert not (tmp_path / "var" / "lyrics.txt").exists()


@pytest.mark.slow
async def test_prepare_builds_corpus_trains_and_answers(tmp_path):
    corpus = write_made_up_corpus(tmp_path / "corpus")
    data_dir = tmp_path / "var"
    async with BotApiServer(token=TOKEN) as server:
        environment = clean_environment(
            LYRICBOT_DATA_DIR=str(data_dir),
            LYRICBOT_CORPUS=str(corpus),
            LYRICBOT_TRAIN_PRESET="tiny",
            LYRICBOT_BOT_API_URL=server.url,
        )
        with (tmp_path / "bot.log").open("w") as log_file:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "--prepare", cwd=tmp_path, env=environment,
                stdout=log_file, stderr=log_file,
            )
            try:
                answer = await server.user().ask("春", timeout=90)
                process.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(process.wait(), 30)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()

    log = (tmp_path / "bot.log").read_text()
    assert answer.text.startswith("春"), log
    assert answer.text.endswith("/")
    assert answer.button_texts[:5] == ["1", "2", "3", "4", "5"]
    assert (data_dir / "lyrics.txt").is_file()
    assert load_checkpoint(data_dir / "checkpoints" / "current.pt").train_config["preset"] == "tiny"
    assert code == 0, log
