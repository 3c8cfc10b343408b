"""Command handlers: /start, /help, /history, /model, /settings, /forget and the admin /stats."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.formatting import MAX_MESSAGE_UTF16, fit_utf16, format_iso_time, history_text
from bot.handlers.common import is_admin, user_texts
from bot.keyboards import forget_keyboard, history_keyboard, level_keyboard
from bot.runtime import get_runtime
from bot.sampling import level_for
from bot.texts import Texts

log = logging.getLogger(__name__)

HISTORY_PAGE_SIZE = 5


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet the user and say what to send."""
    storage, _ = get_runtime(context).require()
    await storage.touch_user(update.effective_user)
    limit = get_runtime(context).settings.max_prompt_chars
    await update.effective_message.reply_text(user_texts(update).start.format(limit=limit))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List what to send and what the buttons and commands do."""
    limit = get_runtime(context).settings.max_prompt_chars
    await update.effective_message.reply_text(user_texts(update).help.format(limit=limit))


async def model(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the served model's version, training time and validation bits per character."""
    _, service = get_runtime(context).require()
    texts = user_texts(update)
    checkpoint = service.writer.checkpoint
    val_bpc = (checkpoint.metrics or {}).get("val_bpc")
    shown_bpc = f"{val_bpc:.3f}" if isinstance(val_bpc, int | float) else texts.model_metric_missing
    await update.effective_message.reply_text(
        texts.model_info.format(version=service.version, created_at=format_iso_time(checkpoint.created_at), val_bpc=shown_bpc)
    )


async def history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the newest page of the user's answers with their scores."""
    text, keyboard = await history_page(context, user_texts(update), update.effective_user.id, page=0)
    await update.effective_message.reply_text(text, reply_markup=keyboard)


async def history_page(
    context: ContextTypes.DEFAULT_TYPE, texts: Texts, user_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Build the text and keyboard of one history page."""
    storage, _ = get_runtime(context).require()
    result = await storage.history(user_id, page=page, page_size=HISTORY_PAGE_SIZE)
    if result.total == 0:
        return texts.history_empty, None

    rows = [(e.created_at, e.prompt, e.text, e.score) for e in result.entries]
    text = history_text(texts, rows, result.page, result.page_count, result.total)
    return text, history_keyboard(texts, user_id, result.page, result.page_count)


async def settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the three sampling levels, the user's current one marked."""
    storage, _ = get_runtime(context).require()
    texts = user_texts(update)
    profile = await storage.touch_user(update.effective_user)
    current = level_for(profile.sampling_level).key
    await update.effective_message.reply_text(
        texts.settings_prompt.format(current=texts.level_names[current]),
        reply_markup=level_keyboard(texts, current),
    )


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask the user to confirm deleting their history and ratings."""
    texts = user_texts(update)
    await update.effective_message.reply_text(
        texts.forget_confirm, reply_markup=forget_keyboard(texts, update.effective_user.id)
    )


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show users, answers, ratings and the average score per model version, to admins only."""
    runtime = get_runtime(context)
    texts = user_texts(update)
    if not is_admin(update, runtime.settings):
        log.info("rejected /stats from user %s: not an admin", update.effective_user.id)
        await update.effective_message.reply_text(texts.admin_only)
        return

    storage, _ = runtime.require()
    summary = await storage.stats()
    lines = [texts.stats_header.format(users=summary.users, generations=summary.generations, ratings=summary.ratings)]
    for row in summary.versions:
        average = f"{row.average_score:.2f}" if row.average_score is not None else texts.stats_no_ratings
        lines.append(texts.stats_row.format(
            version=row.model_version, generations=row.generations, ratings=row.ratings, average=average,
        ))
    await update.effective_message.reply_text(fit_utf16("\n".join(lines), MAX_MESSAGE_UTF16))
