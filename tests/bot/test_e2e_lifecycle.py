"""End to end: restarts, the error handler, logs without the token, and `python -m bot` as a process."""

import asyncio
import logging
import os
import signal
import socket
import sys
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.app import build_application, start_polling, stop_polling
from bot.logs import configure_logging
from tests.bot.conftest import TOKEN, make_settings, start_bot
from tests.botapi import BotApiServer

REPOSITORY = Path(__file__).resolve().parents[2]


async def test_restart_keeps_history(bot_checkpoint, tmp_path):
    async with BotApiServer(token=TOKEN) as server:
        settings = make_settings(server, tmp_path, bot_checkpoint)
        user = server.user()

        first = await start_bot(server, settings)
        try:
            answer = await user.ask("春")
            await user.press_and_wait(answer, "4")
            await server.wait_for_edit(user.id, answer.message_id)
        finally:
            await stop_polling(first.application)

        second = await start_bot(server, settings)
        try:
            page = await user.ask("/history")
        finally:
            await stop_polling(second.application)

    assert "「春」" in page.text
    assert "★4" in page.text
    assert answer.text.splitlines()[0] in page.text


async def test_handler_error_logged_and_bot_keeps_answering(bot_checkpoint, tmp_path, caplog):
    async def broken(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        raise ZeroDivisionError("a bug in a handler")

    async with BotApiServer(token=TOKEN) as server:
        settings = make_settings(server, tmp_path, bot_checkpoint)
        application = build_application(settings)
        # A handler in an earlier group, standing in for a bug anywhere in a handler.
        application.add_handler(CommandHandler("boom", broken), group=-1)
        await start_polling(application, poll_timeout=1)
        try:
            user = server.user()
            update = user.send_text("/boom")
            # PTB goes on to the later groups after an error, where /boom is unknown.
            replies = {(await user.next_message()).text for _ in range(2)}
            answer = await user.ask("春")
        finally:
            await stop_polling(application)

    assert "抱歉，出了点问题，请稍后再试。" in replies
    assert not any("Traceback" in text or "ZeroDivisionError" in text for text in replies)
    assert answer.text.startswith("春")
    logged = [r for r in caplog.records if r.name == "bot.handlers.errors"]
    assert len(logged) == 1
    assert str(update.update_id) in logged[0].getMessage()
    assert logged[0].exc_info[0] is ZeroDivisionError


async def test_token_never_logged(bot_checkpoint, tmp_path, caplog):
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    async with BotApiServer(token=TOKEN) as server:
        settings = make_settings(server, tmp_path, bot_checkpoint)
        running = await start_bot(server, settings)
        try:
            user = server.user()
            server.flood(user.id, retry_after=0.2, times=1)  # a 429 and its retry
            answer = await user.ask("春")
            await user.press_and_wait(answer, "3")
            await user.ask("/history")
        finally:
            await stop_polling(running.application)

    assert len(caplog.records) > 20  # the run did log at DEBUG
    secret = TOKEN.split(":", 1)[1]
    for record in caplog.records:
        assert secret not in record.getMessage(), record.name
        assert secret not in caplog.text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bot_environment(server: BotApiServer, data_dir: Path, checkpoint: Path, **extra: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("LYRICBOT_", "TELEGRAM_"))}
    environment.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        LYRICBOT_BOT_API_URL=server.url,
        LYRICBOT_DATA_DIR=str(data_dir),
        LYRICBOT_CHECKPOINT=str(checkpoint),
        LYRICBOT_LOG_LEVEL="DEBUG",
        PYTHONPATH=str(REPOSITORY),
    )
    environment.update(extra)
    return environment


async def run_bot_process(environment: dict[str, str], log_path: Path, *arguments: str):
    log_file = log_path.open("w")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *arguments,
        cwd=log_path.parent, env=environment, stdout=log_file, stderr=log_file,
    )
    return process, log_file


@pytest.mark.slow
async def test_process_finishes_answer_in_flight_on_sigterm(bot_checkpoint, tmp_path):
    async with BotApiServer(token=TOKEN) as server:
        # A long batch wait keeps the acrostic in the worker while SIGTERM arrives.
        environment = bot_environment(server, tmp_path, bot_checkpoint, LYRICBOT_BATCH_WAIT_MS="1500")
        process, log_file = await run_bot_process(environment, tmp_path / "bot.log")
        try:
            user = server.user()
            first = await user.ask("春", timeout=60)  # waits out the start-up
            user.send_text("春风")
            await server.wait_for_chat_action(user.id)  # the acrostic reached the worker
            process.send_signal(signal.SIGTERM)
            in_flight = await user.next_message()
            code = await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            log_file.close()

    log = (tmp_path / "bot.log").read_text()
    assert first.text.startswith("春")
    assert [line[0] for line in in_flight.text.splitlines()] == ["春", "风"]
    assert code == 0, log
    assert "database closed" in log
    assert TOKEN.split(":", 1)[1] not in log


@pytest.mark.slow
async def test_process_answers_through_webhook(bot_checkpoint, tmp_path):
    port = free_port()
    async with BotApiServer(token=TOKEN) as server:
        environment = bot_environment(
            server, tmp_path, bot_checkpoint,
            LYRICBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}/lyricbot",
            LYRICBOT_WEBHOOK_PORT=str(port),
            LYRICBOT_WEBHOOK_SECRET="test_secret",
        )
        process, log_file = await run_bot_process(environment, tmp_path / "bot.log")
        try:
            user = server.user()
            answer = await user.ask("春", timeout=60)
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            log_file.close()

    assert answer.text.startswith("春")
    webhook_calls = server.calls_to("setWebhook")
    assert [call.params["url"] for call in webhook_calls] == [f"http://127.0.0.1:{port}/lyricbot"]
    assert webhook_calls[0].params["secret_token"] == "test_secret"
    assert server.calls_to("getUpdates") == []
    assert code == 0, (tmp_path / "bot.log").read_text()


def run_main(environment: dict[str, str], cwd: Path, *arguments: str):
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "bot", *arguments], cwd=cwd, env=environment,
        capture_output=True, text=True, timeout=120,
    )


def test_missing_checkpoint_stops_start(tmp_path):
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("LYRICBOT_", "TELEGRAM_"))}
    environment.update(
        TELEGRAM_BOT_TOKEN=TOKEN, LYRICBOT_DATA_DIR=str(tmp_path), PYTHONPATH=str(REPOSITORY),
        # never contacted: the start stops before any request
        LYRICBOT_BOT_API_URL="http://127.0.0.1:9",
    )
    finished = run_main(environment, tmp_path)
    assert finished.returncode == 2
    assert "LYRICBOT_CHECKPOINT" in finished.stderr
    assert "make run" in finished.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [("TELEGRAM_BOT_TOKEN", ""), ("LYRICBOT_BATCH_SIZE", "many"), ("LYRICBOT_ADMIN_IDS", "@boss")],
)
def test_invalid_setting_stops_start(tmp_path, variable, value):
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("LYRICBOT_", "TELEGRAM_"))}
    environment.update(TELEGRAM_BOT_TOKEN=TOKEN, PYTHONPATH=str(REPOSITORY), LYRICBOT_BOT_API_URL="http://127.0.0.1:9")
    environment[variable] = value
    finished = run_main(environment, tmp_path)
    assert finished.returncode == 2
    assert variable in finished.stderr
    assert "Traceback" not in finished.stderr


async def test_corrupt_checkpoint_stops_start_with_message(tmp_path):
    broken = tmp_path / "current.pt"
    broken.write_bytes(b"PK\x03\x04 not really a checkpoint")
    async with BotApiServer(token=TOKEN) as server:
        environment = bot_environment(server, tmp_path, broken, LYRICBOT_LOG_LEVEL="WARNING")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=environment,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 120)

    message = stderr.decode()
    assert process.returncode == 1, message
    assert "lyricbot: cannot serve the model: checkpoint" in message
    assert str(broken) in message


def test_unreachable_bot_api_stops_start_with_message(bot_checkpoint, tmp_path):
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("LYRICBOT_", "TELEGRAM_"))}
    environment.update(
        TELEGRAM_BOT_TOKEN=TOKEN, PYTHONPATH=str(REPOSITORY), LYRICBOT_DATA_DIR=str(tmp_path),
        LYRICBOT_CHECKPOINT=str(bot_checkpoint),
        # a loopback port where nothing listens
        LYRICBOT_BOT_API_URL=f"http://127.0.0.1:{free_port()}",
    )
    finished = run_main(environment, tmp_path)
    assert finished.returncode == 1, finished.stderr
    assert "cannot reach the Bot API" in finished.stderr
    assert "LYRICBOT_BOT_API_URL" in finished.stderr
    assert "Traceback" not in finished.stderr
    assert len(finished.stderr.splitlines()) < 10, finished.stderr
