"""Callback answers, chat actions, commands, files, flood control and the bot-level methods."""

from __future__ import annotations

import io
import struct
import zlib

import aiohttp
import pytest
import telegram
from telegram import BotCommand, BotCommandScopeAllPrivateChats, InlineKeyboardButton, InlineKeyboardMarkup

from tests.botapi import BotApiServer


def png_bytes(width: int, height: int) -> bytes:
    """Build a valid grey PNG of the given size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def pressed_query_id(bot, server, user) -> str:
    """Send a message with one button and press it."""
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("5", callback_data="rate:1:5")]])
    await bot.send_message(user.id, "春风/", reply_markup=markup)
    message = await server.wait_for_message(user.id)
    return user.press(message, "5")


async def test_get_me_uses_token_id(bot):
    me = await bot.get_me()

    assert me.id == 123456
    assert me.is_bot
    assert me.username == "lyric_test_bot"


async def test_query_string_parameters_accepted(server, user):
    user.send_text("春")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server.base_url}1:T/getUpdates", params={"timeout": "0", "limit": "1"}) as response:
            body = await response.json()

    assert body["ok"] is True
    assert body["result"][0]["message"]["text"] == "春"


async def test_log_out_and_close_succeed(bot):
    assert await bot.log_out() is True
    assert await bot.close() is True


async def test_unknown_method_not_found(bot):
    with pytest.raises(telegram.error.EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})


async def test_wrong_token_unauthorized():
    async with BotApiServer(token="1:RIGHT") as server:
        client = telegram.Bot("1:WRONG", base_url=server.base_url)
        with pytest.raises(telegram.error.InvalidToken):
            await client.initialize()


async def test_answer_callback_query_once(bot, server, user):
    query_id = await pressed_query_id(bot, server, user)

    assert await bot.answer_callback_query(query_id, text="已评分", cache_time=0)

    answer = await server.wait_for_callback_answer(query_id)
    assert answer.text == "已评分"
    assert answer.show_alert is False
    assert answer.query.data == "rate:1:5"
    with pytest.raises(telegram.error.BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query_id)


async def test_answer_unknown_callback_query_rejected(bot):
    with pytest.raises(telegram.error.BadRequest, match="(?i)query id is invalid"):
        await bot.answer_callback_query("no-such-query")


async def test_answer_callback_text_limit(bot, server, user):
    query_id = await pressed_query_id(bot, server, user)

    with pytest.raises(telegram.error.BadRequest, match="(?i)message_too_long"):
        await bot.answer_callback_query(query_id, text="字" * 201)


async def test_chat_action_recorded(bot, server, user):
    assert await bot.send_chat_action(user.id, "typing")

    action = await server.wait_for_chat_action(user.id)
    assert action.action == "typing"


async def test_chat_action_checks_action_and_chat(bot, user):
    with pytest.raises(telegram.error.BadRequest, match="(?i)wrong parameter action"):
        await bot.send_chat_action(user.id, "dancing")
    with pytest.raises(telegram.error.BadRequest, match="(?i)chat not found"):
        await bot.send_chat_action(999, "typing")


async def test_commands_by_scope_and_language(bot):
    commands = [BotCommand("start", "开始"), BotCommand("help", "帮助")]
    english = [BotCommand("start", "Start")]

    await bot.set_my_commands(commands)
    await bot.set_my_commands(english, language_code="en")
    await bot.set_my_commands(english, scope=BotCommandScopeAllPrivateChats())

    assert [command.command for command in await bot.get_my_commands()] == ["start", "help"]
    assert [command.description for command in await bot.get_my_commands(language_code="en")] == ["Start"]
    assert len(await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())) == 1

    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    assert len(await bot.get_my_commands(language_code="en")) == 1


@pytest.mark.parametrize(
    ("command", "error"),
    [("Start", "bot_command_invalid"), ("x" * 33, "bot_command_invalid"), ("start", "description")],
)
async def test_invalid_command_rejected(bot, command, error):
    description = "" if error == "description" else "开始"

    with pytest.raises(telegram.error.BadRequest, match=f"(?i){error}"):
        await bot.set_my_commands([BotCommand(command, description)])


async def test_send_photo_multipart(bot, server, user):
    sent = await bot.send_photo(user.id, io.BytesIO(png_bytes(3, 2)), caption="损失曲线", filename="loss.png")

    stored = await server.wait_for_message(user.id)
    (upload,) = server.uploads
    assert stored.kind == "photo"
    assert stored.text == "损失曲线"
    assert sent.photo[-1].width == 3
    assert sent.photo[-1].height == 2
    assert upload.method == "sendphoto"
    assert upload.data == png_bytes(3, 2)
    assert upload.chat_id == user.id


async def test_sent_photo_downloads_and_resends(bot, server, user):
    sent = await bot.send_photo(user.id, png_bytes(1, 1))

    photo_file = await bot.get_file(sent.photo[-1].file_id)
    content = await photo_file.download_as_bytearray()
    await bot.send_photo(user.id, sent.photo[-1].file_id)

    assert bytes(content) == png_bytes(1, 1)
    assert len(server.uploads) == 1
    assert len(server.messages_in(user.id)) == 2


async def test_send_document_multipart(bot, server, user):
    sent = await bot.send_document(user.id, b'{"val_bpc": 2.1}', filename="metrics.json", caption="指标")

    stored = await server.wait_for_message(user.id)
    assert sent.document.file_name == "metrics.json"
    assert sent.document.file_size == len(b'{"val_bpc": 2.1}')
    assert stored.kind == "document"
    assert stored.file.data == b'{"val_bpc": 2.1}'


@pytest.mark.parametrize(
    ("photo", "error"),
    [
        (b"not an image", "image_process_failed"),
        ("https://example.invalid/plot.png", "wrong file identifier"),
    ],
    ids=["not-an-image", "url-not-fetched"],
)
async def test_bad_photo_rejected(bot, user, photo, error):
    with pytest.raises(telegram.error.BadRequest, match=f"(?i){error}"):
        await bot.send_photo(user.id, photo)


async def test_caption_limit(bot, user):
    with pytest.raises(telegram.error.BadRequest, match="(?i)caption is too long"):
        await bot.send_document(user.id, b"x", filename="a.txt", caption="字" * 1025)


async def test_flood_answers_retry_after(bot, server, user):
    server.flood(user.id, retry_after=3, times=2)

    for _ in range(2):
        with pytest.raises(telegram.error.RetryAfter) as raised:
            await bot.send_message(user.id, "春")
        # str() avoids the deprecated int form of RetryAfter.retry_after in PTB 22
        assert "retry in 3 seconds" in str(raised.value).lower()
    await bot.send_message(user.id, "春")

    assert [message.text for message in server.messages_in(user.id)] == ["春"]


async def test_flood_leaves_other_chats_and_actions(bot, server, user):
    other = server.user(7)
    server.flood(user.id)

    await bot.send_chat_action(user.id, "typing")
    await bot.send_message(other.id, "秋")

    with pytest.raises(telegram.error.RetryAfter):
        await bot.send_message(user.id, "春")


async def test_flood_applies_to_edits(bot, server, user):
    sent = await bot.send_message(user.id, "春")
    server.flood(user.id)

    with pytest.raises(telegram.error.RetryAfter):
        await bot.edit_message_text("夏", user.id, sent.message_id)


async def test_rate_limit_per_chat(bot, server, user):
    server.set_rate_limit(2, period=60)

    await bot.send_message(user.id, "一")
    await bot.send_message(user.id, "二")
    with pytest.raises(telegram.error.RetryAfter) as raised:
        await bot.send_message(user.id, "三")

    (refused,) = [call for call in server.calls_to("sendMessage") if not call.ok]
    assert refused.error.startswith("Too Many Requests: retry after ")
    assert 1 <= int(refused.error.rsplit(" ", 1)[1]) <= 60
    assert "retry in" in str(raised.value).lower()


async def test_rate_limit_body_shape(server, user):
    server.flood(user.id, retry_after=1)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.base_url}1:T/sendMessage", data={"chat_id": user.id, "text": "春"}) as response:
            body = await response.json()

    assert response.status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
