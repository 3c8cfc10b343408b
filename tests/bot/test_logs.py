"""The bot's logging set-up: quiet start-up libraries and one-line connection failures."""

from __future__ import annotations

import io
import logging

import pytest
from telegram.error import BadRequest, NetworkError

from bot.logs import configure_logging

QUIETED = ("alembic.runtime.migration", "apscheduler.scheduler")


@pytest.fixture
def configured_logging():
    """Run configure_logging, then restore the levels and filters it changed."""
    names = ("httpx", "httpcore", "alembic", "apscheduler")
    levels = {name: logging.getLogger(name).level for name in names}
    ptb_filters = list(logging.getLogger("telegram.ext").filters)
    configure_logging("INFO")
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.getLogger("telegram.ext").filters[:] = ptb_filters


def log_with_traceback(error: Exception) -> str:
    """Log `error` with its traceback on python-telegram-bot's logger and return what a handler wrote."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("telegram.ext")
    logger.addHandler(handler)
    try:
        try:
            raise error
        except Exception:
            logger.error("Network Retry Loop (Bootstrap Initialize Application): Failed run number 0 of 0. Aborting.",
                         exc_info=True)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


@pytest.mark.parametrize("name", QUIETED)
def test_startup_libraries_quiet_at_info(configured_logging, name):
    assert not logging.getLogger(name).isEnabledFor(logging.INFO)
    assert logging.getLogger(name).isEnabledFor(logging.WARNING)


def test_network_error_logged_in_one_line(configured_logging):
    written = log_with_traceback(NetworkError("httpx.ConnectError: All connection attempts failed"))

    assert written.count("\n") == 1, written
    assert "Traceback" not in written
    assert "All connection attempts failed" in written


def test_bad_request_keeps_traceback(configured_logging):
    written = log_with_traceback(BadRequest("Chat not found"))

    assert "Traceback" in written
