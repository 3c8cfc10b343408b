"""End to end: prompts of every kind, through the local Bot API server, answered by the real bot."""

import time

import pytest

from db.models import Generation
from tests.bot.conftest import rows

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCORE_AND_ANOTHER_ZH = ["1", "2", "3", "4", "5", "再来一句"]


async def test_one_character_gets_rated_line(shared_bot):
    user = shared_bot.server.user()
    reply = await user.ask("春")

    assert reply.text.startswith("春")
    assert reply.text.endswith("/")
    assert reply.text.count("/") == 1
    assert reply.button_texts == SCORE_AND_ANOTHER_ZH

    stored = rows(shared_bot.settings, Generation, user_id=user.id)
    assert len(stored) == 1
    assert stored[0].text == reply.text
    assert stored[0].prompt == "春"
    assert stored[0].chat_id == user.id
    version = shared_bot.application.bot_data["lyricbot.runtime"].service.version
    assert stored[0].model_version == version
    assert stored[0].seed is not None


async def test_several_characters_make_acrostic(shared_bot):
    user = shared_bot.server.user()
    reply = await user.ask("春风花")

    lines = reply.text.splitlines()
    assert [line[0] for line in lines] == ["春", "风", "花"]
    assert all(line.endswith("/") for line in lines)
    assert reply.button_texts == SCORE_AND_ANOTHER_ZH
    assert len(rows(shared_bot.settings, Generation, user_id=user.id)) == 1
    # an acrostic takes longer, so the bot shows that it is typing
    action = await shared_bot.server.wait_for_chat_action(user.id)
    assert action.action == "typing"


@pytest.mark.parametrize("text", ["  春  ", "春。", "「春」！", "\n春\n"])
async def test_spaces_and_punctuation_ignored(shared_bot, text):
    user = shared_bot.server.user()
    reply = await user.ask(text)
    assert reply.text.startswith("春")
    assert rows(shared_bot.settings, Generation, user_id=user.id)[0].prompt == "春"


async def test_traditional_character_converted_and_noted(shared_bot):
    user = shared_bot.server.user()
    reply = await user.ask("風")
    first_line, note = reply.text.splitlines()
    assert first_line.startswith("风")
    assert "風→风" in note


async def test_unknown_character_named_with_suggestions(shared_bot):
    user = shared_bot.server.user()
    reply = await user.ask("龘")
    assert "“龘”" in reply.text
    assert "试试这些字" in reply.text
    assert reply.buttons == []
    assert rows(shared_bot.settings, Generation, user_id=user.id) == []


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("春风花月山", "最多 4 个汉字"),
        ("hello", "请发汉字"),
        ("123", "请发汉字"),
        ("。！？", "请发汉字"),
        ("春a", "「a」不是汉字"),
    ],
)
async def test_bad_text_gets_hint(shared_bot, text, hint):
    user = shared_bot.server.user()
    reply = await user.ask(text)
    assert hint in reply.text
    assert reply.buttons == []
    assert rows(shared_bot.settings, Generation, user_id=user.id) == []


@pytest.mark.parametrize("kind", ["sticker", "photo", "photo with caption", "voice"])
async def test_non_text_message_gets_hint(shared_bot, kind):
    user = shared_bot.server.user()
    if kind == "sticker":
        user.send_sticker()
    elif kind == "photo":
        user.send_photo()
    elif kind == "photo with caption":
        user.send_photo(caption="春")
    else:
        user.send_voice()
    reply = await user.next_message()
    assert "我只能读文字" in reply.text


async def test_unknown_command_gets_hint(shared_bot):
    user = shared_bot.server.user()
    reply = await user.ask("/dance")
    assert "没有这个命令" in reply.text


async def test_english_user_gets_english(shared_bot):
    user = shared_bot.server.user(language_code="en")
    hint = await user.ask("hello")
    assert hint.text == "Please send Han characters, for example: 春"
    answer = await user.ask("春")
    assert answer.button_texts == ["1", "2", "3", "4", "5", "another"]


async def test_flood_of_prompts_answered_politely(shared_bot):
    user = shared_bot.server.user()
    limit = shared_bot.settings.rate_limit
    for _ in range(limit + 3):
        user.send_text("春")

    replies = [await user.next_message() for _ in range(limit + 1)]
    answers = [reply for reply in replies if reply.buttons]
    notices = [reply for reply in replies if not reply.buttons]
    assert len(answers) == limit
    assert len(notices) == 1
    assert "发得太快了" in notices[0].text
    # the rest of the burst is dropped without a second notice
    await shared_bot.server.expect_no_message(user.id, within=0.5)
    assert len(rows(shared_bot.settings, Generation, user_id=user.id)) == limit


async def test_telegram_flood_control_retried_after_wait(shared_bot):
    server = shared_bot.server
    user = server.user()
    server.flood(user.id, retry_after=1, times=1)

    started = time.monotonic()
    reply = await user.ask("春")
    assert reply.text.startswith("春")
    assert time.monotonic() - started >= 1.0

    sends = [call for call in server.calls_to("sendMessage") if call.params.get("chat_id") in (user.id, str(user.id))]
    assert [call.ok for call in sends] == [False, True]
    assert "retry after" in sends[0].error.lower()
    # the retry waited for retry_after instead of trying again at once
    assert sends[1].time - sends[0].time >= 1.0
