"""The one error handler: log the traceback with the update id, tell the user briefly."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.handlers.common import user_texts

log = logging.getLogger(__name__)


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log an unexpected handler error and send the user a short apology, never the traceback."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("unexpected error while handling update %s", update_id, exc_info=context.error)

    if not isinstance(update, Update):
        return
    texts = user_texts(update)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(texts.something_went_wrong)
        elif update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, texts.something_went_wrong)
    except TelegramError as error:
        log.warning("could not tell the user about the error in update %s: %s", update_id, error)
