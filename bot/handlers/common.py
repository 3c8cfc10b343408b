"""Helpers every handler uses: the user's texts, the admin check, and safe callback answers."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Update
from telegram.error import BadRequest

from bot.settings import Settings
from bot.texts import Texts, texts_for

log = logging.getLogger(__name__)


def user_language(update: Update) -> str | None:
    """Return the language code of the user behind `update`, or None when there is no user."""
    user = update.effective_user
    return user.language_code if user else None


def user_texts(update: Update) -> Texts:
    """Return the texts in the language of the user behind `update`."""
    return texts_for(user_language(update))


def is_admin(update: Update, settings: Settings) -> bool:
    """Return whether the user behind `update` is one of the configured admins."""
    user = update.effective_user
    # Admins are recognised by numeric id only: usernames can be changed and reused.
    return user is not None and user.id in settings.admin_ids


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
