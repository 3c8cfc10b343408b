"""Building the Telegram application: client settings, start-up and shutdown hooks, handlers."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from pathlib import Path

from telegram import BotCommand
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.generation import GenerationService
from bot.logs import redact_from_logs
from bot.handlers import MENU_COMMANDS, register_fallbacks, register_handlers
from bot.ratelimit import UserRateLimiter
from bot.retraining import register_retraining
from bot.runtime import RUNTIME_KEY, BotRuntime, get_runtime
from bot.settings import Settings
from bot.storage import Storage
from bot.texts import en, zh

log = logging.getLogger(__name__)

# Updates handled at once. Prompts must run concurrently, or they could never share a
# generation batch; the limit keeps a flood from starting unbounded tasks.
CONCURRENT_UPDATES = 256

# Only these update kinds reach the bot; edits of old messages are not prompts.
ALLOWED_UPDATES = ["message", "callback_query"]

# How often the client-side rate limiter retries a request that got 429 "retry after",
# waiting the time Telegram asked for before each retry.
FLOOD_RETRIES = 3


def build_application(settings: Settings) -> Application:
    """Build the application with every handler; the model and database open in `post_init`."""
    redact_from_logs(settings.token)
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(f"{settings.bot_api_url}/bot")
        .base_file_url(f"{settings.bot_api_url}/file/bot")
        .concurrent_updates(CONCURRENT_UPDATES)
        .rate_limiter(AIORateLimiter(overall_max_rate=settings.api_max_rate, max_retries=FLOOD_RETRIES))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    application = builder.build()
    application.bot_data[RUNTIME_KEY] = BotRuntime(
        settings=settings,
        rate_limiter=UserRateLimiter(settings.rate_limit, settings.rate_window_s),
    )

    register_handlers(application)
    register_retraining(application, settings)
    register_fallbacks(application)
    return application


def load_writer(path: Path, *, max_prompt_chars: int):
    """Load a `LineWriter` from a checkpoint file; raises `CheckpointError` for a bad file."""
    from model.generate import LineWriter

    return LineWriter.from_path(path, max_prompt_length=max_prompt_chars)


async def post_init(application: Application) -> None:
    """Open the database, load the model once, start the generation worker, set the command menu."""
    runtime = get_runtime(application)
    settings = runtime.settings

    runtime.storage = await Storage.open(settings.database_url)

    loader = partial(load_writer, max_prompt_chars=settings.max_prompt_chars)
    writer = await asyncio.to_thread(loader, settings.checkpoint_path)
    runtime.service = GenerationService(
        writer, batch_size=settings.batch_size, wait_s=settings.batch_wait_ms / 1000, loader=loader,
    )
    log.info("serving model %s from %s", writer.version, settings.checkpoint_path)

    await set_command_menu(application)


async def set_command_menu(application: Application) -> None:
    """Describe the commands in Chinese by default and in English for English clients."""
    for texts, language in ((zh.TEXTS, None), (en.TEXTS, "en")):
        commands = [BotCommand(name, texts.commands[name]) for name in MENU_COMMANDS]
        await application.bot.set_my_commands(commands, language_code=language)


async def post_shutdown(application: Application) -> None:
    """Stop the generation worker after its last answers, then close the database."""
    runtime = get_runtime(application)
    if runtime.service is not None:
        await asyncio.to_thread(runtime.service.close)
    if runtime.storage is not None:
        await runtime.storage.close()


async def start_polling(application: Application, *, poll_timeout: float = 10) -> None:
    """Start the application and long polling in the order `run_polling` uses, for tests and benchmarks.

    It calls the application's own `post_init` hook, so hooks that features chained onto
    it run here as they do under `run_polling`.
    """
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.updater.start_polling(timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES)
        await application.start()
    except BaseException:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
        raise


async def stop_polling(application: Application) -> None:
    """Stop polling, finish the updates in flight, then shut down as `run_polling` does."""
    if application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)
