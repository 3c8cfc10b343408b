"""The test harness: waits, the call log, webhook delivery, a real Application, and the console."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest
import telegram
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import AIORateLimiter, ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from tests.botapi import BotApiServer

REPOSITORY = Path(__file__).resolve().parents[2]


async def test_wait_for_message_timeout_names_chat(server, user):
    with pytest.raises(TimeoutError, match="a bot message in chat 42; the bot sent nothing there"):
        await server.wait_for_message(user.id, timeout=0.05)


async def test_wait_for_edit_timeout_lists_edits(bot, server, user):
    sent = await bot.send_message(user.id, "春", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("1", callback_data="1")]]))
    await bot.edit_message_text("夏", user.id, sent.message_id)
    await server.wait_for_edit(user.id, sent.message_id)

    with pytest.raises(TimeoutError, match=r"edits so far: \[\(1, '夏'\)\]"):
        await server.wait_for_edit(user.id, sent.message_id, timeout=0.05)


async def test_call_log_keeps_parameters_and_order(bot, server, user):
    await bot.send_chat_action(user.id, "typing")
    await bot.send_message(user.id, "春", parse_mode="HTML")

    call = await server.wait_for_call("sendMessage")
    methods = [call.method for call in server.calls]
    assert methods[-2:] == ["sendChatAction", "sendMessage"]
    assert call.params["text"] == "春"
    assert call.params["parse_mode"] == "HTML"
    assert call.ok is True
    assert call.time >= server.calls_to("sendChatAction")[0].time


async def test_expect_no_message_fails_on_reply(bot, server, user):
    await server.expect_no_message(user.id, within=0.05)
    await bot.send_message(user.id, "春")

    with pytest.raises(AssertionError, match="expected no message in chat 42"):
        await server.expect_no_message(user.id, within=0.05)


async def test_set_webhook_rejects_remote_url(bot, server):
    # the server checks the address without connecting, so no traffic leaves loopback
    with pytest.raises(telegram.error.BadRequest, match="(?i)bad webhook"):
        await bot.set_webhook("https://example.com/hook")
    assert server.webhook is None


async def test_webhook_receives_updates_with_secret(bot, server, user):
    received: asyncio.Queue = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        await received.put((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]

    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        user.send_text("春")
        secret, body = await asyncio.wait_for(received.get(), 5)
        info = await bot.get_webhook_info()
    finally:
        await runner.cleanup()

    assert secret == "s3cret"
    assert body["message"]["text"] == "春"
    assert info.url == f"http://127.0.0.1:{port}/hook"
    assert info.pending_update_count == 0


async def test_webhook_failure_kept_for_info(bot, server, user):
    # port 9 on loopback has no listener here, so delivery fails and the update stays queued
    await bot.set_webhook("http://127.0.0.1:9/hook")
    user.send_text("春")
    await server.wait_until(lambda: server.webhook.last_error_message, 5, lambda: "a delivery error")

    info = await bot.get_webhook_info()
    await bot.delete_webhook(drop_pending_updates=True)

    assert info.pending_update_count == 1
    assert info.last_error_message
    assert server.pending_update_count == 0
    assert (await bot.get_webhook_info()).url == ""


async def test_application_polls_and_replies(server):
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("5", callback_data="rate:5")]])
        await update.message.reply_text(f"{update.message.text}风/", reply_markup=markup)

    async def rate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("ok")
        await update.callback_query.edit_message_reply_markup(
            InlineKeyboardMarkup([[InlineKeyboardButton("✓5", callback_data="rate:5")]])
        )

    application = (
        ApplicationBuilder()
        .token("123456:TEST")
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=1))
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(rate))
    user = server.user()
    server.flood(user.id, retry_after=1, times=1)

    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=5)
        started = time.monotonic()
        reply = await user.ask("春")
        waited = time.monotonic() - started
        answer = await user.press_and_wait(reply, "5")
        edit = await server.wait_for_edit(user.id, reply.message_id)
        await application.updater.stop()
        await application.stop()

    assert reply.text == "春风/"
    assert waited >= 1  # the rate limiter waited out the 429 before retrying
    assert answer.text == "ok"
    assert edit.message.button_texts == ["✓5"]


async def test_console_send_returns_replies(server, bot):
    async def reply_once() -> None:
        (update,) = await bot.get_updates(timeout=5)
        await update.message.reply_text("春风/")

    replier = asyncio.create_task(reply_once())
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.url}/_test/send", json={"text": "春", "wait": 5}) as response:
            body = await response.json()
        async with session.get(f"{server.url}/_test/messages", params={"chat_id": "1"}) as response:
            log = await response.json()
    await replier

    assert body["chat_id"] == 1
    assert [reply["text"] for reply in body["replies"]] == ["春风/"]
    assert log["messages"][0]["text"] == "春风/"


async def test_console_press_returns_answer(server, bot):
    user = server.user(1)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("5", callback_data="rate:5")]])
    sent = await bot.send_message(user.id, "春风/", reply_markup=markup)

    async def answer_once() -> None:
        (update,) = await bot.get_updates(timeout=5)
        await update.callback_query.answer("已评分")

    answerer = asyncio.create_task(answer_once())
    async with aiohttp.ClientSession() as session:
        press = {"message_id": sent.message_id, "button": "5", "wait": 5}
        async with session.post(f"{server.url}/_test/press", json=press) as response:
            body = await response.json()
        missing = {"message_id": 99, "button": "5"}
        async with session.post(f"{server.url}/_test/press", json=missing) as response:
            missing_status = response.status
    await answerer

    assert body["answer"] == "已评分"
    assert body["message"]["buttons"] == ["5"]
    assert missing_status == 404


async def test_stop_ends_waiting_long_poll(server, bot):
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await server.wait_until(lambda: server.calls_to("getUpdates") or None, 5, lambda: "a poll")

    started = time.monotonic()
    await server.stop()

    assert await poll == ()
    assert time.monotonic() - started < 3


async def test_console_send_requires_text(server):
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.url}/_test/send", json={"txt": "春"}) as response:
            body = await response.json()

    assert response.status == 400
    assert 'missing "text"' in body["error"]


def test_main_serves_console_and_prints_replies():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.botapi", "--port", "0"],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
    )
    try:
        first_line = process.stdout.readline()
        url = first_line.rsplit(" ", 1)[-1].strip()
        sent = _post_json(f"{url}/_test/send", {"text": "春", "user_id": 5, "wait": 0})
        _post_json(f"{url}/bot1:T/sendMessage", {"chat_id": 5, "text": "春风/"})
        printed = _read_until(process, "bot sent")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()

    assert first_line.startswith("Bot API test server: http://127.0.0.1:")
    assert sent["chat_id"] == 5
    assert printed == "bot sent message 2 in chat 5: 春风/\n"
    assert process.returncode == 0


def _post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _read_until(process: subprocess.Popen, prefix: str) -> str:
    # the banner comes first; stop at the first line with the prefix, or give up after 20 lines
    for _ in range(20):
        line = process.stdout.readline()
        if line.startswith(prefix) or line == "":
            return line
    return ""


def test_main_port_in_use_prints_one_line(server):
    finished = subprocess.run(
        [sys.executable, "-m", "tests.botapi", "--port", str(server.port)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
    )

    assert finished.returncode == 1
    assert finished.stderr.count("\n") == 1, finished.stderr
    assert f"port {server.port}" in finished.stderr
    assert "--port 0" in finished.stderr
    assert "Traceback" not in finished.stderr


async def test_console_send_skips_late_reply_to_press(server, bot):
    user = server.user(1)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("another", callback_data="another")]])
    sent = await bot.send_message(user.id, "春风/", reply_markup=markup)
    user.press(server.find_bot_message(user.id, sent.message_id), "another")

    async def bot_replies() -> None:
        (press,) = await bot.get_updates(timeout=5)
        await press.callback_query.answer("writing")
        await asyncio.sleep(0.3)  # the line for the press comes after the answer, as generation takes time
        await bot.send_message(user.id, "another line/")
        (text,) = await bot.get_updates(offset=press.update_id + 1, timeout=5)
        await text.message.reply_text("reply to text/")

    replier = asyncio.create_task(bot_replies())
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.url}/_test/send", json={"text": "春", "wait": 5}) as response:
            body = await response.json()
    await replier

    assert [reply["text"] for reply in body["replies"]] == ["reply to text/"]


async def test_console_press_returns_message_after_edit(server, bot):
    user = server.user(1)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("5", callback_data="rate:5")]])
    sent = await bot.send_message(user.id, "春风/", reply_markup=markup)

    async def answer_then_edit() -> None:
        (update,) = await bot.get_updates(timeout=5)
        await update.callback_query.answer("rated")
        await asyncio.sleep(0.2)
        relabelled = InlineKeyboardMarkup([[InlineKeyboardButton("★5", callback_data="rate:5")]])
        await bot.edit_message_reply_markup(user.id, sent.message_id, reply_markup=relabelled)

    editor = asyncio.create_task(answer_then_edit())
    async with aiohttp.ClientSession() as session:
        press = {"message_id": sent.message_id, "button": "5", "wait": 5}
        async with session.post(f"{server.url}/_test/press", json=press) as response:
            body = await response.json()
    await editor

    assert body["message"]["buttons"] == ["★5"]


async def test_console_press_finds_relabelled_score(server, bot):
    user = server.user(1)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("★5", callback_data="rate:5")]])
    sent = await bot.send_message(user.id, "春风/", reply_markup=markup)

    async def answer_once() -> None:
        (update,) = await bot.get_updates(timeout=5)
        assert update.callback_query.data == "rate:5"
        await update.callback_query.answer("unchanged")

    answerer = asyncio.create_task(answer_once())
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.url}/_test/press", json={"message_id": sent.message_id, "button": "5"}) as response:
            body = await response.json()
        missing = {"message_id": sent.message_id, "button": "9"}
        async with session.post(f"{server.url}/_test/press", json=missing) as response:
            missing_text = await response.text()
    await answerer

    assert body["answer"] == "unchanged"
    assert "★5" in missing_text
    assert "\\u2605" not in missing_text
