"""Handlers of the admin commands /retrain, /retrain cancel and /status."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.formatting import MAX_MESSAGE_UTF16, fit_utf16
from bot.handlers.common import is_admin, user_language
from bot.retraining.reports import format_time, progress_details, recent_row
from bot.retraining.service import RetrainingService, get_service
from bot.retraining.texts import RetrainTexts, retrain_texts
from bot.runtime import get_runtime
from db.errors import RunAlreadyActive
from db.models import RunTrigger

logger = logging.getLogger(__name__)


async def retrain(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start a run now, or stop the active one with `/retrain cancel`; admins only."""
    checked = await _admin_service(update, context, "/retrain")
    if checked is None:
        raise ApplicationHandlerStop
    service, texts = checked
    message = update.effective_message
    arguments = [argument.lower() for argument in context.args or []]

    if arguments == ["cancel"]:
        run = await service.cancel_active()
        text = texts.nothing_to_cancel if run is None else texts.cancel_requested.format(run_id=run.id)
        await message.reply_text(text)
        raise ApplicationHandlerStop
    if arguments:
        await message.reply_text(texts.usage)
        raise ApplicationHandlerStop

    user_id = update.effective_user.id
    try:
        run_id = await service.start_run(RunTrigger.ADMIN, requested_by=user_id, chat_ids=[message.chat_id],
                                         texts=texts)
    except RunAlreadyActive as error:
        active = error.run
        await message.reply_text(texts.already_active.format(
            run_id=active.id, status=texts.statuses[active.status.value],
            since=format_time(active.started_at or active.created_at, service.zone, texts),
        ))
        raise ApplicationHandlerStop from None
    logger.info("admin %s started training run %s", user_id, run_id)
    raise ApplicationHandlerStop


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the served model, the active run, the last runs and the next scheduled time; admins only."""
    checked = await _admin_service(update, context, "/status")
    if checked is None:
        raise ApplicationHandlerStop
    service, texts = checked
    active, recent, promoted_at = await service.status()
    generation = get_runtime(context).service
    version = generation.version if generation is not None else texts.unknown

    lines = [texts.status_model.format(version=version, since=format_time(promoted_at, service.zone, texts))]
    if active is None:
        lines.append(texts.status_no_active)
    else:
        lines.append(texts.status_active.format(
            run_id=active.id, trigger=texts.triggers[active.trigger.value], status=texts.statuses[active.status.value],
            since=format_time(active.started_at or active.created_at, service.zone, texts),
            details=progress_details(active.progress or {}, texts),
        ))
    if recent:
        lines.append(texts.status_recent_header)
        lines.extend(recent_row(run, texts, service.zone) for run in recent)
    else:
        lines.append(texts.status_no_runs)
    next_time = service.next_scheduled()
    if next_time is None:
        lines.append(texts.status_schedule_off)
    else:
        lines.append(texts.status_next.format(when=format_time(next_time, service.zone, texts)))

    await update.effective_message.reply_text(fit_utf16("\n".join(lines), MAX_MESSAGE_UTF16))
    raise ApplicationHandlerStop


async def _admin_service(
    update: Update, context: ContextTypes.DEFAULT_TYPE, command: str
) -> tuple[RetrainingService, RetrainTexts] | None:
    """Return the service and the user's texts, or reply with a refusal and return None."""
    user = update.effective_user
    texts = retrain_texts(user_language(update))
    if not is_admin(update, get_runtime(context).settings):
        logger.info("user %s is not an admin; %s rejected", user.id if user else None, command)
        await update.effective_message.reply_text(texts.admin_only)
        return None
    service = get_service(context.application)
    if service is None or not service.opened:
        await update.effective_message.reply_text(texts.not_ready)
        return None
    return service, texts
