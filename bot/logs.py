"""Logging set-up of the bot process, and redaction of the bot token from every log record."""

from __future__ import annotations

import logging

REDACTED = "<token>"

_redacted_secrets: set[str] = set()
_factory_installed = False


def configure_logging(level: str = "INFO") -> None:
    """Send log lines to stderr and quiet the HTTP clients, whose request lines contain the token."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
    # alembic and APScheduler log each migration step and job change at INFO on every start.
    for name in ("httpx", "httpcore", "alembic", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)

    # An unreachable Bot API is an expected failure that main() reports in one line, so
    # python-telegram-bot's record of it keeps only the error, not a traceback of about 100 lines.
    ptb_logger = logging.getLogger("telegram.ext")
    if not any(isinstance(existing, NetworkErrorOneLine) for existing in ptb_logger.filters):
        ptb_logger.addFilter(NetworkErrorOneLine())


class NetworkErrorOneLine(logging.Filter):
    """Filter that logs a connection failure (telegram.error.NetworkError or TimedOut) without its traceback.

    Only those two exact classes qualify, because BadRequest and other API errors
    subclass NetworkError and their tracebacks point at bugs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        from telegram.error import NetworkError, TimedOut

        if record.exc_info and type(record.exc_info[1]) in (NetworkError, TimedOut):
            record.msg = f"{record.getMessage()} ({record.exc_info[1]})"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            _redact(record)  # the error text joined the message after the factory redacted it
        return True


def redact_from_logs(secret: str) -> None:
    """Replace `secret` with "<token>" in every log record made from now on, by any logger.

    python-telegram-bot logs its API URLs, which contain the token, at DEBUG (for example
    "Set Bot API URL"), and an HTTP error message may carry a URL too. Redacting where
    records are made covers every handler, including ones added later.
    """
    global _factory_installed
    _redacted_secrets.add(secret)
    if _factory_installed:
        return

    make_record = logging.getLogRecordFactory()

    def redacting_factory(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        _redact(record)
        return record

    logging.setLogRecordFactory(redacting_factory)
    _factory_installed = True


def _redact(record: logging.LogRecord) -> None:
    message = record.getMessage()
    if any(secret in message for secret in _redacted_secrets):
        for secret in _redacted_secrets:
            message = message.replace(secret, REDACTED)
        record.msg, record.args = message, ()

    if record.exc_info and record.exc_info[0] is not None:
        # Format the traceback now, so that its text can be checked like the message.
        text = logging.Formatter().formatException(record.exc_info)
        if any(secret in text for secret in _redacted_secrets):
            for secret in _redacted_secrets:
                text = text.replace(secret, REDACTED)
            record.exc_text = text
