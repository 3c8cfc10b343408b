"""Helpers every handler uses: the user's texts, the runtime, and safe callback answers."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Update
from telegram.error import BadRequest

from bot.texts import Texts, texts_for

log = logging.getLogger(__name__)


def user_texts(update: Update) -> Texts:
    """Return the texts in the language of the user behind `update`."""
    user = update.effective_user
    return texts_for(user.language_code if user else None)


def is_not_modified(error: BadRequest) -> bool:
    """Return whether Telegram rejected an edit because it would change nothing."""
    return "message is not modified" in error.message.lower()


async def answer_query(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a callback query, logging rather than raising when it is too old to answer."""
    try:
        await query.answer(text)
    except BadRequest as error:
        # Telegram rejects an answer to an old query ("query is too old"). The user has
        # moved on by then, so the rest of the handler should still run.
        log.warning("could not answer callback query %s: %s", query.id, error.message)
