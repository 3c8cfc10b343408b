"""getUpdates long polling and the updates simulated users make."""

from __future__ import annotations

import asyncio
import time

import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from tests.botapi import BotApiServer


async def test_get_updates_returns_waiting_update_at_once(bot, user):
    user.send_text("春")

    started = time.monotonic()
    updates = await bot.get_updates(timeout=10)

    assert time.monotonic() - started < 2
    assert len(updates) == 1
    message = updates[0].message
    assert message.text == "春"
    assert message.from_user.id == 42
    assert message.from_user.username == "xiaoming"
    assert message.from_user.first_name == "小明"
    assert message.from_user.language_code == "zh-hans"
    assert message.chat.id == 42
    assert message.chat.type == "private"


async def test_long_poll_wakes_when_update_arrives(bot, server, user):
    async def send_while_polling():
        await server.wait_until(lambda: server.calls_to("getUpdates") or None, 5, lambda: "a poll")
        user.send_text("夏")

    sender = asyncio.create_task(send_while_polling())
    started = time.monotonic()
    updates = await bot.get_updates(timeout=10)
    await sender

    assert [update.message.text for update in updates] == ["夏"]
    assert time.monotonic() - started < 5


async def test_long_poll_ends_empty_after_timeout(bot):
    started = time.monotonic()
    updates = await bot.get_updates(timeout=1)

    assert updates == ()
    assert time.monotonic() - started >= 0.9


async def test_offset_confirms_earlier_updates(bot, user):
    for text in ("一", "二", "三"):
        user.send_text(text)

    first = await bot.get_updates(limit=2)
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    again = await bot.get_updates(offset=first[-1].update_id + 1)

    assert [update.message.text for update in first] == ["一", "二"]
    assert [update.message.text for update in rest] == ["三"]
    assert [update.update_id for update in again] == [update.update_id for update in rest]


async def test_negative_offset_keeps_last_updates(bot, user, server):
    for text in ("一", "二", "三"):
        user.send_text(text)

    updates = await bot.get_updates(offset=-1)

    assert [update.message.text for update in updates] == ["三"]
    assert server.pending_update_count == 1


async def test_allowed_updates_drops_other_kinds(bot, server, user):
    message = await _bot_message_with_button(bot, server, user)
    user.press(message, "go")
    user.send_text("春")

    updates = await bot.get_updates(allowed_updates=["callback_query"])

    assert [update.callback_query is not None for update in updates] == [True]
    assert server.pending_update_count == 1


async def test_second_poller_ends_first_with_conflict(bot, server):
    # a Bot keeps one connection for getUpdates, so the rival poller is a second Bot
    rival = telegram.Bot(bot.token, base_url=server.base_url)
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_until(lambda: server.calls_to("getUpdates") or None, 2, lambda: "the first poll")

    async with rival:
        second = await rival.get_updates(timeout=0)

    with pytest.raises(telegram.error.Conflict, match="(?i)terminated by other getUpdates request"):
        await first
    assert second == ()


async def test_get_updates_conflicts_with_webhook(bot):
    await bot.set_webhook("http://127.0.0.1:9/hook")

    with pytest.raises(telegram.error.Conflict, match="(?i)webhook is active"):
        await bot.get_updates()


async def test_command_carries_bot_command_entity(bot, user):
    user.send_command("history 2")

    (update,) = await bot.get_updates()

    assert update.message.text == "/history 2"
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/history")


@pytest.mark.parametrize(
    ("send", "attribute"),
    [
        (lambda user: user.send_sticker(), "sticker"),
        (lambda user: user.send_photo(caption="看"), "photo"),
        (lambda user: user.send_voice(), "voice"),
    ],
)
async def test_non_text_messages_parse(bot, user, send, attribute):
    send(user)

    (update,) = await bot.get_updates()

    assert update.message.text is None
    assert getattr(update.message, attribute)


async def test_user_photo_downloads_through_file_url(bot, user):
    user.send_photo()
    (update,) = await bot.get_updates()

    photo_file = await update.message.photo[-1].get_file()
    content = await photo_file.download_as_bytearray()

    assert bytes(content).startswith(b"\x89PNG")


async def test_press_sends_button_data_and_current_message(bot, server, user):
    message = await _bot_message_with_button(bot, server, user)

    query_id = user.press(message, "go")
    (update,) = await bot.get_updates()

    query = update.callback_query
    assert query.id == query_id
    assert query.data == "go:1"
    assert query.from_user.id == user.id
    assert query.message.message_id == message.message_id
    assert query.message.text == "pick"
    assert query.message.reply_markup.inline_keyboard[0][0].text == "go"


async def test_press_with_forged_data(bot, server, user):
    message = await _bot_message_with_button(bot, server, user)

    user.press(message, data="rate:999999:9")
    (update,) = await bot.get_updates()

    assert update.callback_query.data == "rate:999999:9"


async def test_press_on_unknown_message_is_inaccessible(bot, user):
    user.press_on(user.id, 777, "rate:1:5")

    (update,) = await bot.get_updates()

    assert update.callback_query.message.message_id == 777
    assert not update.callback_query.message.is_accessible


async def test_press_unknown_label_lists_buttons(bot, server, user):
    message = await _bot_message_with_button(bot, server, user)

    with pytest.raises(AssertionError, match=r"(?i)its buttons are \['go'\]"):
        user.press(message, "stop")


async def test_group_message_names_group_chat(bot, server):
    group = server.add_group("歌词组")
    first, second = server.user(1), server.user(2)

    first.send_text("春", chat_id=group.id)
    second.send_text("秋", chat_id=group.id)
    updates = await bot.get_updates()

    assert [update.message.chat.id for update in updates] == [group.id, group.id]
    assert [update.message.from_user.id for update in updates] == [1, 2]
    assert updates[0].message.chat.type == "group"
    assert updates[1].message.message_id == updates[0].message.message_id + 1


async def _bot_message_with_button(bot, server: BotApiServer, user):
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("go", callback_data="go:1")]])
    await bot.send_message(user.id, "pick", reply_markup=keyboard)
    return await server.wait_for_message(user.id, timeout=2)
