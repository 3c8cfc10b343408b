"""End to end: /start, /help, /model, /history, /settings, /forget and the admin /stats."""

import pytest

from bot.formatting import format_iso_time
from db.models import Generation, Rating, User
from tests.bot.conftest import ADMIN_ID, rows

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize(
    ("command", "language", "expected"),
    [
        ("/start", "zh-hans", "发一个汉字"),
        ("/start", "en", "Send one Han character"),
        ("/help", "zh-hans", "/history"),
        ("/help", "en", "/forget delete your history"),
    ],
)
async def test_start_and_help(shared_bot, command, language, expected):
    user = shared_bot.server.user(language_code=language)
    reply = await user.ask(command)
    assert expected in reply.text
    assert "4" in reply.text  # the acrostic limit from the settings


async def test_command_menu_set_in_both_languages(shared_bot):
    calls = shared_bot.server.calls_to("setMyCommands")
    languages = {call.params.get("language_code") for call in calls}
    assert languages == {None, "en"}


async def test_model_shows_version_time_and_bpc(shared_bot):
    service = shared_bot.application.bot_data["lyricbot.runtime"].service
    checkpoint = service.writer.checkpoint
    reply = await shared_bot.server.user().ask("/model")
    assert checkpoint.version in reply.text
    assert format_iso_time(checkpoint.created_at) in reply.text
    assert reply.text.count(" UTC") == 1
    assert f"{checkpoint.metrics['val_bpc']:.3f}" in reply.text


async def test_history_empty(shared_bot):
    reply = await shared_bot.server.user().ask("/history")
    assert reply.text == "还没有记录。发一个汉字试试吧。"


async def test_history_pages_newest_first_with_scores(shared_bot):
    server = shared_bot.server
    user = server.user()
    prompts = ["春", "风", "花", "月", "山", "河"]
    answers = [await user.ask(prompt) for prompt in prompts]
    await user.press_and_wait(answers[-1], "4")  # the newest answer

    page = await user.ask("/history")
    assert page.text.startswith("我的回答（第 1/2 页，共 6 条）")
    assert page.text.index("「河」") < page.text.index("「月」")
    assert "「春」" not in page.text
    assert "★4" in page.text
    assert page.button_texts == ["较早 ›"]

    await user.press_and_wait(page, "较早 ›")
    await server.wait_for_edit(user.id, page.message_id)
    assert page.text.startswith("我的回答（第 2/2 页，共 6 条）")
    assert "「春」" in page.text
    assert "未评分" in page.text
    assert page.button_texts == ["‹ 较新"]


async def test_history_of_other_user_not_shown(shared_bot):
    server = shared_bot.server
    owner, other = server.user(), server.user()
    await owner.ask("春")
    page = await other.ask("/history")
    assert page.text == "还没有记录。发一个汉字试试吧。"
    # pressing someone else's page button is refused
    owner_page = await owner.ask("/history")
    forged = other.press_on(other.id, owner_page.message_id, f"h:{owner.id}:0")
    assert (await server.wait_for_callback_answer(forged)).text == "这个按钮已失效。"


async def test_settings_level_stored_and_used(shared_bot):
    server = shared_bot.server
    user = server.user()
    menu = await user.ask("/settings")
    assert "当前：平衡" in menu.text
    assert menu.button_texts == ["稳妥", "✓ 平衡", "大胆"]

    pressed = await user.press_and_wait(menu, "大胆")
    assert pressed.text == "已设为：大胆"
    await server.wait_for_edit(user.id, menu.message_id)
    assert menu.button_texts == ["稳妥", "平衡", "✓ 大胆"]
    assert rows(shared_bot.settings, User, id=user.id)[0].sampling_level == "bold"

    await user.ask("春")
    generation = rows(shared_bot.settings, Generation, user_id=user.id)[0]
    assert generation.temperature == 1.0
    assert generation.top_p == 0.97


async def test_forget_after_confirmation(shared_bot):
    server = shared_bot.server
    user = server.user()
    answer = await user.ask("春")
    await user.press_and_wait(answer, "5")

    confirm = await user.ask("/forget")
    assert confirm.button_texts == ["删除", "取消"]
    assert len(rows(shared_bot.settings, Generation, user_id=user.id)) == 1  # nothing yet

    await user.press_and_wait(confirm, "删除")
    await server.wait_for_edit(user.id, confirm.message_id)
    assert confirm.text == "已删除 1 条回答和 1 个评分。"
    assert confirm.buttons == []
    assert rows(shared_bot.settings, Generation, user_id=user.id) == []
    assert rows(shared_bot.settings, Rating, user_id=user.id) == []
    assert (await user.ask("/history")).text == "还没有记录。发一个汉字试试吧。"


async def test_forget_cancelled_keeps_everything(shared_bot):
    server = shared_bot.server
    user = server.user()
    await user.ask("春")
    confirm = await user.ask("/forget")
    await user.press_and_wait(confirm, "取消")
    await server.wait_for_edit(user.id, confirm.message_id)
    assert confirm.text == "已取消，什么也没删。"
    assert len(rows(shared_bot.settings, Generation, user_id=user.id)) == 1


async def test_forget_button_of_other_user_refused(shared_bot):
    server = shared_bot.server
    owner, other = server.user(), server.user()
    await owner.ask("春")
    forged = other.press_on(other.id, 1, f"f:y:{owner.id}")
    assert (await server.wait_for_callback_answer(forged)).text == "这个按钮已失效。"
    assert len(rows(shared_bot.settings, Generation, user_id=owner.id)) == 1


async def test_stats_refused_for_non_admin(shared_bot):
    user = shared_bot.server.user(username="admin")  # a username never makes an admin
    reply = await user.ask("/stats")
    assert reply.text == "这个命令只有管理员能用。"


async def test_stats_for_admin(shared_bot):
    server = shared_bot.server
    asker = server.user()
    answer = await asker.ask("春")
    await asker.press_and_wait(answer, "4")
    version = shared_bot.application.bot_data["lyricbot.runtime"].service.version

    admin = server.user(ADMIN_ID, language_code="en")
    reply = await admin.ask("/stats")
    lines = reply.text.splitlines()
    assert lines[0] == f"Users: {len(rows(shared_bot.settings, User))}"
    assert lines[1] == f"Answers: {len(rows(shared_bot.settings, Generation))}"
    assert lines[2] == f"Ratings: {len(rows(shared_bot.settings, Rating))}"
    row = next(line for line in lines if line.startswith(version))
    assert "ratings" in row
    assert "average" in row


async def test_history_page_fits_limit_with_astral_text(shared_bot):
    from sqlalchemy.orm import Session

    from db import queries
    from db.engine import make_sync_engine

    server = shared_bot.server
    user = server.user()
    # Answers stored earlier by a model whose vocabulary had rare characters outside the
    # Basic Multilingual Plane. Each counts 2 UTF-16 units, and five answers exceed 4096 units.
    rare_line = "𠀀" * 19 + "/"
    engine = make_sync_engine(shared_bot.settings.database_url)
    try:
        with Session(engine) as session, session.begin():
            queries.upsert_user(session=session, user_id=user.id, first_name=user.first_name)
            for _ in range(6):
                queries.record_generation(
                    session=session, user_id=user.id, chat_id=user.id, prompt="𠀀" * 8,
                    text=rare_line * 60, model_version="rare-model",
                )
    finally:
        engine.dispose()

    page = await user.ask("/history")
    sent = next(c for c in server.calls_to("sendMessage") if str(c.params["chat_id"]) == str(user.id))
    assert sent.ok, sent.error
    assert len(page.text.encode("utf-16-le")) // 2 <= 4096
    assert page.text.startswith("我的回答（第 1/2 页，共 6 条）")
    assert page.text.count("「" + "𠀀" * 8 + "」") == 5
