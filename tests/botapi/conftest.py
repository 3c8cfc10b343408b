"""Fixtures: a running local Bot API server and python-telegram-bot's Bot pointed at it."""

from __future__ import annotations

import pytest
import telegram

from tests.botapi import BotApiServer

TOKEN = "123456:TEST-TOKEN"


@pytest.fixture
async def server():
    """A fresh server on a free loopback port."""
    async with BotApiServer() as running:
        yield running


@pytest.fixture
async def bot(server):
    """python-telegram-bot's own client, initialised against the server."""
    client = telegram.Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url)
    async with client:
        yield client


@pytest.fixture
def user(server):
    """A user who writes in Simplified Chinese."""
    return server.user(42, first_name="小明", username="xiaoming", language_code="zh-hans")
