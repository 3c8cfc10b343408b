"""The objects one running bot shares between handlers, kept in `application.bot_data`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram.ext import Application, ContextTypes

from bot.ratelimit import UserRateLimiter
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.generation import GenerationService
    from bot.storage import Storage

RUNTIME_KEY = "lyricbot.runtime"


@dataclass
class BotRuntime:
    """Settings, storage, generation service and rate limiter of one application.

    `storage` and `service` are filled in by the application's `post_init` hook, because
    opening the database and loading the model must not happen at import or build time.
    """

    settings: Settings
    rate_limiter: UserRateLimiter
    storage: Storage | None = None
    service: GenerationService | None = None

    def require(self) -> tuple[Storage, GenerationService]:
        """Return storage and service, which handlers may rely on once the bot has started."""
        if self.storage is None or self.service is None:
            raise RuntimeError("the bot has not finished starting: storage or generation service missing")
        return self.storage, self.service


def get_runtime(source: Application | ContextTypes.DEFAULT_TYPE) -> BotRuntime:
    """Return the runtime of an application, or of the application behind a handler context."""
    application = source if isinstance(source, Application) else source.application
    return application.bot_data[RUNTIME_KEY]
