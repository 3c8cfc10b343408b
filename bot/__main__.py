"""`python -m bot [--prepare]`: start the Telegram bot, optionally preparing corpus and model first."""

from __future__ import annotations

import argparse
import logging
import sys
from urllib.parse import urlsplit

from bot.settings import Settings, SettingsError

log = logging.getLogger("bot")


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Start the lyrics bot. Settings come from the environment and .env; "
        "see bot/settings.py for every variable.",
    )
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="before starting, build the corpus and train a model when LYRICBOT_LYRICS or "
        "LYRICBOT_CHECKPOINT is missing (what `make run` does)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the bot until SIGINT or SIGTERM; return the process exit code."""
    arguments = parse_arguments(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"lyricbot: invalid setting {error}", file=sys.stderr)
        return 2

    from bot.logs import configure_logging

    configure_logging(settings.log_level)

    if arguments.prepare:
        from bot.prepare import PrepareError, prepare

        try:
            prepare(settings)
        except PrepareError as error:
            print(f"lyricbot: preparation failed: {error}", file=sys.stderr)
            return 1
    elif not settings.checkpoint_path.is_file():
        print(
            f"lyricbot: no checkpoint at {settings.checkpoint_path}. Set LYRICBOT_CHECKPOINT to a "
            "trained checkpoint, or run `make run` (python -m bot --prepare) to train one.",
            file=sys.stderr,
        )
        return 2

    # The thread count is process-wide, so it is set here and not by the application, which
    # tests build inside their own process. Batch-1 steps measured 10 to 40 times slower with
    # two threads than with one while another process loaded the second core, and the event
    # loop needs a core of its own anyway.
    import torch

    torch.set_num_threads(settings.torch_threads)
    return run(settings)


def run(settings: Settings) -> int:
    """Build the application and serve updates by polling or webhook until stopped."""
    from sqlalchemy.exc import SQLAlchemyError
    from telegram.error import InvalidToken, NetworkError

    from db.errors import DatabaseError
    from model.checkpoint import CheckpointError

    from bot.app import ALLOWED_UPDATES, build_application

    application = build_application(settings)
    try:
        if settings.use_webhook:
            log.info("starting webhook on %s:%d", settings.webhook_listen, settings.webhook_port)
            application.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
                webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            log.info("starting long polling of %s", settings.bot_api_url)
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
    except CheckpointError as error:
        print(f"lyricbot: cannot serve the model: {error}", file=sys.stderr)
        return 1
    except InvalidToken:
        print("lyricbot: the Bot API rejected TELEGRAM_BOT_TOKEN; check the token from @BotFather", file=sys.stderr)
        return 1
    except NetworkError as error:
        print(
            f"lyricbot: cannot reach the Bot API at {settings.bot_api_url} ({error}); "
            "check LYRICBOT_BOT_API_URL and the network",
            file=sys.stderr,
        )
        return 1
    except (SQLAlchemyError, DatabaseError, OSError) as error:
        print(
            f"lyricbot: cannot open the database ({type(error).__name__}: {error}); "
            "check LYRICBOT_DATABASE_URL and that the database server is running",
            file=sys.stderr,
        )
        return 1
    log.info("bot stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
