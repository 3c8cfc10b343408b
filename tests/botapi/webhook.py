"""Delivery of queued updates to a webhook set with setWebhook."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from .state import BotApiState

logger = logging.getLogger(__name__)

RETRY_DELAY = 0.5


async def deliver_webhook_updates(state: "BotApiState") -> None:
    """POST each waiting update to the webhook, in order, until the server closes.

    An update stays queued until the webhook responds with a 2xx status. A
    failure is stored for getWebhookInfo and retried after a short delay.
    """
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        while not state.closing:
            webhook = state.webhook
            pending = state.pending_updates(1) if webhook is not None else []
            if not pending:
                await state.wait_changed(5)
                continue

            update = pending[0]
            headers = {}
            if webhook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
            try:
                async with session.post(webhook.url, json=update.to_json(), headers=headers) as response:
                    if response.status >= 300:
                        raise aiohttp.ClientResponseError(
                            response.request_info, (), status=response.status, message=response.reason or ""
                        )
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                webhook.last_error_date = int(time.time())
                webhook.last_error_message = str(error) or type(error).__name__
                logger.warning("webhook delivery of update %d failed: %s", update.update_id, error)
                state.notify()
                await asyncio.sleep(RETRY_DELAY)
                continue

            state.confirm_updates(update.update_id + 1)
            state.notify()
