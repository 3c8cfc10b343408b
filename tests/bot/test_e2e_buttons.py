"""End to end: score buttons, "another", and forged or stale presses."""

import pytest

from db.models import Generation, Rating
from tests.bot.conftest import rows

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_score_stored_and_shown(shared_bot):
    server = shared_bot.server
    user = server.user()
    answer = await user.ask("春")
    generation = rows(shared_bot.settings, Generation, user_id=user.id)[0]

    pressed = await user.press_and_wait(answer, "3")
    assert pressed.text == "已记录：3 分"
    edit = await server.wait_for_edit(user.id, answer.message_id)
    assert edit.method == "editMessageReplyMarkup"
    assert answer.button_texts == ["1", "2", "★3", "4", "5", "再来一句"]

    ratings = rows(shared_bot.settings, Rating, generation_id=generation.id)
    assert [(r.user_id, r.score) for r in ratings] == [(user.id, 3)]


async def test_callback_answered_before_keyboard_edit(shared_bot):
    server = shared_bot.server
    user = server.user()
    answer = await user.ask("春")
    query_id = user.press(answer, "5")
    await server.wait_for_edit(user.id, answer.message_id)
    answer_call = next(c for c in server.calls_to("answerCallbackQuery") if c.params["callback_query_id"] == query_id)
    edit_call = [c for c in server.calls_to("editMessageReplyMarkup") if int(c.params["message_id"]) == answer.message_id][-1]
    assert answer_call.time <= edit_call.time


async def test_same_score_twice_skips_edit(shared_bot):
    server = shared_bot.server
    user = server.user()
    answer = await user.ask("春")
    await user.press_and_wait(answer, "4")
    await server.wait_for_edit(user.id, answer.message_id)

    again = await user.press_and_wait(answer, "★4")
    assert again.text == "已经是 4 分了"
    edits = [e for e in server.edits if e.chat_id == user.id]
    assert len(edits) == 1
    assert len(rows(shared_bot.settings, Rating, user_id=user.id)) == 1


async def test_second_score_replaces_first(shared_bot):
    server = shared_bot.server
    user = server.user()
    answer = await user.ask("春")
    await user.press_and_wait(answer, "2")
    await server.wait_for_edit(user.id, answer.message_id)
    await user.press_and_wait(answer, "5")
    await server.wait_for_edit(user.id, answer.message_id)

    assert answer.button_texts == ["1", "2", "3", "4", "★5", "再来一句"]
    ratings = rows(shared_bot.settings, Rating, user_id=user.id)
    assert [r.score for r in ratings] == [5]


async def test_double_press_leaves_one_rating(shared_bot):
    server = shared_bot.server
    user = server.user()
    answer = await user.ask("春")
    # two presses in flight at once, as a double click sends them
    first = user.press(answer, "3")
    second = user.press(answer, "3")
    await server.wait_for_callback_answer(first)
    await server.wait_for_callback_answer(second)

    ratings = rows(shared_bot.settings, Rating, user_id=user.id)
    assert [r.score for r in ratings] == [3]
    assert answer.button_texts[2] == "★3"


async def test_two_users_rate_same_answer_in_group(shared_bot):
    server = shared_bot.server
    group = server.add_group("Lyrics fans")
    asker, friend = server.user(), server.user()
    asker.send_text("春", chat_id=group.id)
    answer = await server.wait_for_message(group.id)

    assert (await asker.press_and_wait(answer, "2")).text == "已记录：2 分"
    assert (await friend.press_and_wait(answer, "5")).text == "已记录：5 分"

    generation = rows(shared_bot.settings, Generation, chat_id=group.id)[0]
    ratings = rows(shared_bot.settings, Rating, generation_id=generation.id)
    assert sorted((r.user_id, r.score) for r in ratings) == sorted([(asker.id, 2), (friend.id, 5)])


@pytest.mark.parametrize(
    "data",
    ["r:{id}:9", "r:{id}:0", "r:{id}:-1", "r:99999999:3", "a:99999999", "garbage", "r:{id}", "h:1:x"],
)
async def test_forged_callback_changes_nothing(shared_bot, data):
    server = shared_bot.server
    user = server.user()
    answer = await user.ask("春")
    generation = rows(shared_bot.settings, Generation, user_id=user.id)[0]

    reply = await user.press_and_wait(answer, data=data.format(id=generation.id))
    assert reply.text == "这个按钮已失效。"
    assert rows(shared_bot.settings, Rating, generation_id=generation.id) == []
    assert len(rows(shared_bot.settings, Generation, user_id=user.id)) == 1
    assert answer.button_texts == ["1", "2", "3", "4", "5", "再来一句"]


async def test_rating_from_another_chat_refused(shared_bot):
    server = shared_bot.server
    owner, stranger = server.user(), server.user()
    await owner.ask("春")
    generation = rows(shared_bot.settings, Generation, user_id=owner.id)[0]

    # the stranger's client sends the owner's answer id from the stranger's own chat
    query_id = stranger.press_on(stranger.id, 1, f"r:{generation.id}:1")
    reply = await server.wait_for_callback_answer(query_id)
    assert reply.text == "只能给发到这个聊天的回答评分。"
    assert rows(shared_bot.settings, Rating, generation_id=generation.id) == []


async def test_another_writes_new_stored_answer(shared_bot):
    server = shared_bot.server
    user = server.user()
    first = await user.ask("春风")

    query_id = user.press(first, "再来一句")
    second = await user.next_message()
    pressed = await server.wait_for_callback_answer(query_id)
    assert pressed.text == "正在写新的一句……"
    assert pressed.time <= second.sent_at

    assert [line[0] for line in second.text.splitlines()] == ["春", "风"]
    assert second.message_id != first.message_id
    stored = rows(shared_bot.settings, Generation, user_id=user.id)
    assert len(stored) == 2
    assert {g.prompt for g in stored} == {"春风"}


async def test_another_for_forgotten_answer_refused(shared_bot):
    server = shared_bot.server
    user = server.user()
    answer = await user.ask("春")
    user.send_text("/forget")
    confirm = await user.next_message()
    await user.press_and_wait(confirm, "删除")

    reply = await user.press_and_wait(answer, "再来一句")
    assert reply.text == "这个按钮已失效。"
    rating = await user.press_and_wait(answer, "3")
    assert rating.text == "这个按钮已失效。"
    await server.expect_no_message(user.id, within=0.3)
    assert rows(shared_bot.settings, Generation, user_id=user.id) == []
