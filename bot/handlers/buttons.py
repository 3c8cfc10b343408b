"""Inline button presses: scores, "another", history pages, sampling levels and /forget."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import callbacks
from bot.handlers.commands import history_page
from bot.handlers.common import answer_query, is_not_modified, user_texts
from bot.handlers.prompts import allow_prompt, send_answer
from bot.keyboards import SCORES, answer_keyboard, level_keyboard
from bot.runtime import get_runtime
from bot.sampling import LEVELS
from bot.storage import RatingRejected

log = logging.getLogger(__name__)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Dispatch a button press by its callback data; data this bot did not make changes nothing."""
    query = update.callback_query
    action = callbacks.parse_callback(query.data)
    if action is None:
        log.info("callback %s from user %s has unknown data %r", query.id, query.from_user.id, query.data)
        await answer_query(query, user_texts(update).button_expired)
        return

    match action:
        case callbacks.RateButton():
            await rate(update, context, action)
        case callbacks.AnotherButton():
            await another(update, context, action)
        case callbacks.HistoryButton():
            await turn_history_page(update, context, action)
        case callbacks.LevelButton():
            await choose_level(update, context, action)
        case callbacks.ForgetButton():
            await confirm_forget(update, context, action)


async def rate(update: Update, context: ContextTypes.DEFAULT_TYPE, action: callbacks.RateButton) -> None:
    """Store the user's score for an answer and mark it on the keyboard."""
    query = update.callback_query
    texts = user_texts(update)
    storage, _ = get_runtime(context).require()
    if action.score not in SCORES or query.message is None:
        await answer_query(query, texts.button_expired)
        return

    try:
        previous = await storage.rate(
            generation_id=action.generation_id, user=query.from_user,
            chat_id=query.message.chat.id, score=action.score,
        )
    except RatingRejected as rejected:
        log.info("rating of generation %s by user %s rejected: %s", action.generation_id, query.from_user.id, rejected)
        text = texts.not_allowed_to_rate if rejected.not_allowed else texts.button_expired
        await answer_query(query, text)
        return

    if previous == action.score:
        # Pressing the chosen score again changes nothing, so the edit is skipped too.
        await answer_query(query, texts.rating_unchanged.format(score=action.score))
        return
    await answer_query(query, texts.rating_saved.format(score=action.score))
    await edit_markup(query, answer_keyboard(texts, action.generation_id, chosen=action.score))


async def another(update: Update, context: ContextTypes.DEFAULT_TYPE, action: callbacks.AnotherButton) -> None:
    """Answer the press, then write a new answer for the same prompt."""
    query = update.callback_query
    texts = user_texts(update)
    storage, _ = get_runtime(context).require()
    generation = await storage.get_generation(action.generation_id)
    if generation is None or query.message is None or generation.chat_id != query.message.chat.id:
        await answer_query(query, texts.button_expired)
        return
    if not await allow_prompt(update, context, texts):
        return

    await answer_query(query, texts.writing_another)
    await send_answer(
        context, chat_id=generation.chat_id, user=query.from_user, characters=generation.prompt, texts=texts
    )


async def turn_history_page(update: Update, context: ContextTypes.DEFAULT_TYPE, action: callbacks.HistoryButton) -> None:
    """Show another page of the history in the same message."""
    query = update.callback_query
    texts = user_texts(update)
    if action.user_id != query.from_user.id or query.message is None:
        await answer_query(query, texts.button_expired)
        return

    await answer_query(query)
    text, keyboard = await history_page(context, texts, query.from_user.id, action.page)
    await edit_text(query, text, keyboard)


async def choose_level(update: Update, context: ContextTypes.DEFAULT_TYPE, action: callbacks.LevelButton) -> None:
    """Store the chosen sampling level for the user who pressed."""
    query = update.callback_query
    texts = user_texts(update)
    if action.level not in LEVELS:
        await answer_query(query, texts.button_expired)
        return

    storage, _ = get_runtime(context).require()
    await storage.touch_user(query.from_user)
    await storage.set_sampling_level(query.from_user.id, action.level)
    name = texts.level_names[action.level]
    await answer_query(query, texts.settings_saved.format(level=name))
    await edit_text(query, texts.settings_saved.format(level=name), level_keyboard(texts, action.level))


async def confirm_forget(update: Update, context: ContextTypes.DEFAULT_TYPE, action: callbacks.ForgetButton) -> None:
    """Delete the user's history and ratings once they confirm; only they can confirm."""
    query = update.callback_query
    texts = user_texts(update)
    if action.user_id != query.from_user.id:
        await answer_query(query, texts.button_expired)
        return

    if not action.confirmed:
        await answer_query(query)
        await edit_text(query, texts.forget_cancelled, None)
        return

    storage, _ = get_runtime(context).require()
    generations, ratings = await storage.forget(query.from_user.id)
    log.info("user %s forgot %d generations and %d ratings", query.from_user.id, generations, ratings)
    done = texts.forget_done.format(generations=generations, ratings=ratings)
    await answer_query(query)
    await edit_text(query, done, None)


async def edit_markup(query: CallbackQuery, markup: InlineKeyboardMarkup) -> None:
    """Replace a message's keyboard, ignoring Telegram's "not modified" for racing presses."""
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as error:
        if not is_not_modified(error):
            raise
        log.debug("keyboard of message %s already up to date", query.message.message_id)


async def edit_text(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Replace a message's text and keyboard, ignoring Telegram's "not modified"."""
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        if not is_not_modified(error):
            raise
        log.debug("message %s already shows this text", query.message.message_id)
