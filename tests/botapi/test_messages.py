"""sendMessage and the edit methods, with Telegram's limits and error texts."""

from __future__ import annotations

import aiohttp
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

NOT_MODIFIED = "Message is not modified: specified new message content and reply markup are exactly"


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    """Build a one-row inline keyboard whose callback data are the labels."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=label) for label in labels]])


async def test_send_message_records_text_and_keyboard(bot, server, user):
    sent = await bot.send_message(user.id, "春风/", reply_markup=keyboard("1", "2"))

    stored = await server.wait_for_message(user.id)
    assert sent.text == "春风/"
    assert sent.from_user.id == 123456
    assert stored.message_id == sent.message_id
    assert stored.text == "春风/"
    assert stored.button_texts == ["1", "2"]
    assert sent.reply_markup.inline_keyboard[0][1].callback_data == "2"


async def test_messages_arrive_in_order(bot, server, user):
    for text in ("一", "二", "三"):
        await bot.send_message(user.id, text)

    assert [message.text for message in server.messages_in(user.id)] == ["一", "二", "三"]
    assert [(await server.wait_for_message(user.id)).text for _ in range(3)] == ["一", "二", "三"]


async def test_html_text_stored_as_seen(bot, server, user):
    await bot.send_message(user.id, "<b>春</b> &amp; 秋", parse_mode="HTML")

    stored = await server.wait_for_message(user.id)
    assert stored.text == "春 & 秋"
    assert stored.raw_text == "<b>春</b> &amp; 秋"
    assert stored.parse_mode == "HTML"


async def test_unknown_parse_mode_rejected(bot, user):
    with pytest.raises(telegram.error.BadRequest, match="(?i)unsupported parse_mode"):
        await bot.send_message(user.id, "春", parse_mode="BBCode")


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("字" * 4096, True),
        ("字" * 4097, False),
        # a character outside the Basic Multilingual Plane is two UTF-16 code units
        ("𠀀" * 2048, True),
        ("𠀀" * 2048 + "字", False),
        ("<b>" + "字" * 4096 + "</b>", True),
    ],
    ids=["4096-bmp", "4097-bmp", "2048-astral", "4097-units", "html-markup-not-counted"],
)
async def test_text_limit_counts_utf16_units(bot, user, text, accepted):
    parse_mode = "HTML" if text.startswith("<b>") else None
    if accepted:
        await bot.send_message(user.id, text, parse_mode=parse_mode)
        return

    with pytest.raises(telegram.error.BadRequest, match="(?i)Message is too long"):
        await bot.send_message(user.id, text, parse_mode=parse_mode)


@pytest.mark.parametrize("text", ["", "   ", "<b></b>"])
async def test_empty_text_rejected(bot, user, text):
    with pytest.raises(telegram.error.BadRequest, match="(?i)Message text is empty"):
        await bot.send_message(user.id, text, parse_mode="HTML")


async def test_error_body_has_telegram_shape(server, user):
    async with aiohttp.ClientSession() as session:
        url = f"{server.base_url}123456:TEST/sendMessage"
        async with session.post(url, json={"chat_id": user.id, "text": ""}) as response:
            body = await response.json()

    assert response.status == 400
    assert body == {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}


@pytest.mark.parametrize(
    ("data", "accepted"),
    [
        ("x" * 64, True),
        ("x" * 65, False),
        ("评" * 21, True),  # 63 bytes in UTF-8
        ("评" * 22, False),  # 66 bytes
    ],
    ids=["64-ascii", "65-ascii", "63-bytes-han", "66-bytes-han"],
)
async def test_callback_data_limit_in_bytes(bot, user, data, accepted):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("go", callback_data=data)]])
    if accepted:
        await bot.send_message(user.id, "pick", reply_markup=markup)
        return

    with pytest.raises(telegram.error.BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(user.id, "pick", reply_markup=markup)


async def test_button_without_action_rejected(bot, user):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("idle")]])

    with pytest.raises(telegram.error.BadRequest, match="(?i)Text buttons are unallowed"):
        await bot.send_message(user.id, "pick", reply_markup=markup)


async def test_unknown_chat_rejected(bot):
    with pytest.raises(telegram.error.BadRequest, match="(?i)Chat not found"):
        await bot.send_message(999, "春")


async def test_edit_text_changes_message(bot, server, user):
    sent = await bot.send_message(user.id, "春", reply_markup=keyboard("1"))

    edited = await bot.edit_message_text("夏", user.id, sent.message_id, reply_markup=keyboard("2"))

    edit = await server.wait_for_edit(user.id, sent.message_id)
    assert edited.text == "夏"
    assert edited.edit_date is not None
    assert edit.text == "夏"
    assert edit.message.button_texts == ["2"]
    assert edit.message.history == [("春", keyboard("1").to_dict())]


async def test_edit_text_without_markup_drops_keyboard(bot, server, user):
    sent = await bot.send_message(user.id, "春", reply_markup=keyboard("1"))

    await bot.edit_message_text("夏", user.id, sent.message_id)

    assert server.find_bot_message(user.id, sent.message_id).keyboard == []


async def test_edit_markup_shows_choice(bot, server, user):
    sent = await bot.send_message(user.id, "春", reply_markup=keyboard("1", "2"))

    await bot.edit_message_reply_markup(user.id, sent.message_id, reply_markup=keyboard("✓1", "2"))

    edit = await server.wait_for_edit(user.id)
    assert edit.method == "editMessageReplyMarkup"
    assert edit.message.text == "春"
    assert edit.message.button_texts == ["✓1", "2"]


async def test_edit_markup_removes_keyboard(bot, server, user):
    sent = await bot.send_message(user.id, "春", reply_markup=keyboard("1"))

    await bot.edit_message_reply_markup(user.id, sent.message_id)

    assert server.find_bot_message(user.id, sent.message_id).keyboard == []


async def test_unchanged_text_edit_not_modified(bot, server, user):
    sent = await bot.send_message(user.id, "春", reply_markup=keyboard("1"))

    with pytest.raises(telegram.error.BadRequest, match="(?i)" + NOT_MODIFIED):
        await bot.edit_message_text("春", user.id, sent.message_id, reply_markup=keyboard("1"))
    assert server.edits == []


async def test_unchanged_markup_edit_not_modified(bot, user):
    sent = await bot.send_message(user.id, "春", reply_markup=keyboard("1"))

    with pytest.raises(telegram.error.BadRequest, match="(?i)" + NOT_MODIFIED):
        await bot.edit_message_reply_markup(user.id, sent.message_id, reply_markup=keyboard("1"))


async def test_edit_unknown_message_not_found(bot, user):
    with pytest.raises(telegram.error.BadRequest, match="(?i)Message to edit not found"):
        await bot.edit_message_text("夏", user.id, 12345)


async def test_edit_user_message_rejected(bot, user):
    update = user.send_text("春")

    with pytest.raises(telegram.error.BadRequest, match="(?i)Message can't be edited"):
        await bot.edit_message_text("夏", user.id, update.payload["message_id"])


async def test_edit_in_unknown_chat_rejected(bot):
    with pytest.raises(telegram.error.BadRequest, match="(?i)Chat not found"):
        await bot.edit_message_text("夏", 999, 1)


async def test_edit_text_limit(bot, user):
    sent = await bot.send_message(user.id, "春")

    with pytest.raises(telegram.error.BadRequest, match="(?i)MESSAGE_TOO_LONG"):
        await bot.edit_message_text("𠀀" * 2049, user.id, sent.message_id)
    with pytest.raises(telegram.error.BadRequest, match="(?i)Message text is empty"):
        await bot.edit_message_text("", user.id, sent.message_id)
