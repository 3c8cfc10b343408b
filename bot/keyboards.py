"""Inline keyboards: the score and "another" buttons, history pages, levels, /forget confirmation."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.sampling import LEVELS
from bot.texts import Texts

SCORES = (1, 2, 3, 4, 5)


def score_label(score: int, chosen: int | None) -> str:
    """Label a score button; the chosen score is starred so the user sees what they picked."""
    return f"★{score}" if score == chosen else str(score)


def answer_keyboard(texts: Texts, generation_id: int, chosen: int | None = None) -> InlineKeyboardMarkup:
    """Build the keyboard under an answer: scores 1-5, then "another"."""
    scores = [
        InlineKeyboardButton(score_label(s, chosen), callback_data=callbacks.rate_data(generation_id, s))
        for s in SCORES
    ]
    another = InlineKeyboardButton(texts.another_button, callback_data=callbacks.another_data(generation_id))
    return InlineKeyboardMarkup([scores, [another]])


def history_keyboard(texts: Texts, user_id: int, page: int, pages: int) -> InlineKeyboardMarkup | None:
    """Build the newer / older buttons of a history page, or None for a single page."""
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton(texts.history_previous, callback_data=callbacks.history_data(user_id, page - 1)))
    if page + 1 < pages:
        buttons.append(InlineKeyboardButton(texts.history_next, callback_data=callbacks.history_data(user_id, page + 1)))
    return InlineKeyboardMarkup([buttons]) if buttons else None


def level_keyboard(texts: Texts, current: str) -> InlineKeyboardMarkup:
    """Build one button per sampling level, the current one marked."""
    buttons = [
        InlineKeyboardButton(
            ("✓ " if key == current else "") + texts.level_names[key], callback_data=callbacks.level_data(key)
        )
        for key in LEVELS
    ]
    return InlineKeyboardMarkup([buttons])


def forget_keyboard(texts: Texts, user_id: int) -> InlineKeyboardMarkup:
    """Build the confirm and cancel buttons of /forget, bound to the user who asked."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.forget_yes, callback_data=callbacks.forget_data(True, user_id)),
        InlineKeyboardButton(texts.forget_no, callback_data=callbacks.forget_data(False, user_id)),
    ]])
