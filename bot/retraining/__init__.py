"""Retraining in the bot: /retrain, /retrain cancel and /status for admins, the schedule, and model swaps.

`register_retraining(application, settings)` adds the handlers and chains
`start_retraining` and `stop_retraining` into the application's `post_init`
and `post_stop` hooks, which `run_polling` and `run_webhook` call. Code that
starts the application by hand calls the two functions itself. Both do
nothing when called twice, and registering again before the start only
replaces the retraining settings.
"""

from __future__ import annotations

import logging

from telegram.ext import Application, CommandHandler, filters

from bot.retraining.handlers import retrain, status
from bot.retraining.service import SERVICE_KEY, RetrainingService, get_service
from bot.retraining.settings import RetrainSettings
from bot.settings import Settings

logger = logging.getLogger(__name__)

# A group before the bot's own (0), so these commands are handled before its
# unknown-command fallback; each handler ends with ApplicationHandlerStop.
RETRAINING_GROUP = -1

__all__ = ["RetrainSettings", "register_retraining", "start_retraining", "stop_retraining"]


def register_retraining(
    application: Application, settings: Settings, retrain_settings: RetrainSettings | None = None
) -> RetrainingService:
    """Add the retraining handlers and hooks to `application`; settings default to the environment's.

    On an application that has them already, only the settings change, so a
    test can register its own on an application that `build_application` made.
    Raises RuntimeError once retraining has started.
    """
    retrain_settings = retrain_settings or RetrainSettings.from_env()
    existing = get_service(application)
    if existing is not None:
        existing.configure(retrain_settings)
        return existing
    service = RetrainingService(application, settings, retrain_settings)
    application.bot_data[SERVICE_KEY] = service

    new_messages = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("retrain", retrain, filters=new_messages), RETRAINING_GROUP)
    application.add_handler(CommandHandler("status", status, filters=new_messages), RETRAINING_GROUP)

    previous_init, previous_stop = application.post_init, application.post_stop

    async def post_init(app: Application) -> None:
        if previous_init is not None:
            await previous_init(app)
        await start_retraining(app)

    async def post_stop(app: Application) -> None:
        await stop_retraining(app)
        if previous_stop is not None:
            await previous_stop(app)

    application.post_init = post_init
    application.post_stop = post_stop
    return service


async def start_retraining(application: Application) -> None:
    """Open the retraining service once the bot's model and database are ready."""
    service = get_service(application)
    if service is not None:
        await service.open()


async def stop_retraining(application: Application) -> None:
    """Stop the jobs this bot started and close the retraining service."""
    service = get_service(application)
    if service is not None:
        await service.close()
