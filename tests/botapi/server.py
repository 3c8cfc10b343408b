"""The aiohttp server that python-telegram-bot talks to as if it were api.telegram.org."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from typing import Any

from aiohttp import web

from .errors import ApiError, not_found, unauthorized
from .methods import METHODS
from .params import Params
from .state import BotApiState, bot_id_from_token
from .users import TestUser
from .webhook import deliver_webhook_updates

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"

# The console endpoints treat a chat as settled when the bot has made no call about it for this long.
QUIET_S = 0.5


class BotApiServer(BotApiState):
    """A local Bot API server on 127.0.0.1 for tests, with helpers to act as users and read the bot's work.

    Use it as `async with BotApiServer() as server:` and pass `server.base_url`
    and `server.base_file_url` to `ApplicationBuilder`.
    """

    def __init__(self, *, port: int = 0, token: str | None = None, bot_username: str = "lyric_test_bot"):
        super().__init__(token=token, bot_username=bot_username)
        self.port = port
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task | None = None
        self._user_ids = itertools.count(10001)

    # --- lifecycle ----------------------------------------------------------

    @property
    def url(self) -> str:
        """Root URL of the running server, e.g. http://127.0.0.1:40123."""
        if self._runner is None:
            raise RuntimeError("the Bot API server is not running; call start() first")
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for `ApplicationBuilder().base_url()`; the library appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for `ApplicationBuilder().base_file_url()`."""
        return f"{self.url}/file/bot"

    async def start(self) -> "BotApiServer":
        """Bind to 127.0.0.1 (a free port unless one was given) and start serving."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_post("/_test/send", self._handle_test_send)
        app.router.add_post("/_test/press", self._handle_test_press)
        app.router.add_get("/_test/messages", self._handle_test_messages)

        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # the port the system chose for port 0
        self._webhook_task = asyncio.create_task(deliver_webhook_updates(self))
        logger.info("Bot API test server listening on %s", self.url)
        return self

    async def stop(self) -> None:
        """End waiting long polls and webhook delivery, then close the server."""
        self.closing = True
        self.notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        logger.info("Bot API test server on port %d stopped", self.port)

    async def __aenter__(self) -> "BotApiServer":
        return await self.start()

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.stop()

    # --- users ----------------------------------------------------------------

    def user(
        self,
        user_id: int | None = None,
        *,
        first_name: str = "Tester",
        username: str | None = None,
        language_code: str | None = "zh-hans",
        last_name: str | None = None,
    ) -> TestUser:
        """Create a user with a private chat; ids count up from 10001 unless given."""
        if user_id is None:
            user_id = next(self._user_ids)
        return TestUser(
            self,
            user_id,
            first_name=first_name,
            username=username if username is not None else f"user{user_id}",
            language_code=language_code,
            last_name=last_name,
        )

    # --- HTTP handlers ---------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        token = request.match_info["token"]
        try:
            if self.token is not None and token != self.token:
                raise unauthorized()
            handler = METHODS.get(method.lower())
            if handler is None:
                raise not_found()
            params = await Params.from_request(request)
        except ApiError as error:
            return _error_response(error)

        # without a fixed token, the bot's id follows the token in use, as on Telegram
        if self.token is None:
            self.bot_user["id"] = bot_id_from_token(token)
        call = self.record_call(method, params.as_dict())
        try:
            result = await handler(self, params)
        except ApiError as error:
            call.ok = False
            call.error = error.description
            logger.info("%s failed: %s", method, error.description)
            self.notify()
            return _error_response(error)
        except Exception:
            # a bug in this server must show up in the test log, not as a silent drop
            logger.exception("%s raised an unexpected error with parameters %s", method, call.params)
            call.ok = False
            call.error = "Internal Server Error"
            self.notify()
            return _error_response(ApiError(500, "Internal Server Error"))

        call.ok = True
        logger.debug("%s succeeded", method)
        self.notify()
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if self.token is not None and request.match_info["token"] != self.token:
            return _error_response(unauthorized())
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type=stored.content_type)
        return _error_response(not_found())

    async def _handle_test_send(self, request: web.Request) -> web.Response:
        """Send a text as a user: JSON {"text", "user_id", "first_name", "username", "language_code", "wait"}.

        The bot's messages carry no link to the update they answer, so "replies" follows a rule of
        order: before the text is sent, the chat is left to settle (every button press answered and
        no bot call about the chat for QUIET_S seconds, at most `wait` seconds), so replies to
        earlier updates are counted as earlier. A reply to an earlier update that comes after a
        longer pause than QUIET_S can still be listed; /_test/messages shows the whole chat.
        """
        body = await _read_json(request)
        text = body.get("text")
        if not isinstance(text, str) or text == "":
            return web.json_response({"error": 'missing "text": send {"text": "春"}'}, status=400)

        user = self._console_user(body)
        wait = float(body.get("wait", 10))
        await self._settle(user.id, wait)
        count_before = len(self.bot_messages.get(user.id, []))
        update = user.send_text(text)
        replies = await self._replies_after(user.id, count_before, wait)
        return web.json_response({"update_id": update.update_id, "chat_id": user.id, "replies": replies}, dumps=_dumps)

    async def _handle_test_press(self, request: web.Request) -> web.Response:
        """Press a button as a user: JSON {"message_id", "button" or "data", "user_id", "wait"}."""
        body = await _read_json(request)
        user = self._console_user(body)
        message = self.find_bot_message(user.id, int(body.get("message_id", 0)))
        if message is None:
            return web.json_response(
                {"error": f"no bot message {body.get('message_id')} in chat {user.id}"}, status=404, dumps=_dumps
            )
        button = body.get("button")
        if isinstance(button, str):
            button = _resolve_label(message, button)
        try:
            query_id = user.press(message, button, data=body.get("data"))
        except (AssertionError, ValueError) as error:
            return web.json_response({"error": str(error)}, status=400, dumps=_dumps)

        wait = float(body.get("wait", 10))
        edits_before = len(self.edits)
        try:
            answer = await self.wait_for_callback_answer(query_id, wait)
        except TimeoutError as error:
            return web.json_response({"error": str(error)}, status=504, dumps=_dumps)

        # the bot usually edits the keyboard after answering, so the reply shows the message after that
        # edit, or as it is once the chat has been quiet for QUIET_S seconds when no edit comes
        def edited() -> bool:
            new_edits = self.edits[edits_before:]
            return any(edit.chat_id == message.chat_id and edit.message_id == message.message_id for edit in new_edits)

        await self._settle(user.id, wait, done=edited)
        return web.json_response({"callback_query_id": query_id, "answer": answer.text, "message": _summary(message)}, dumps=_dumps)

    async def _handle_test_messages(self, request: web.Request) -> web.Response:
        chat_id = int(request.query.get("chat_id", "1"))
        messages = [_summary(message) for message in self.messages_in(chat_id)]
        return web.json_response({"chat_id": chat_id, "messages": messages}, dumps=_dumps)

    def _console_user(self, body: dict) -> TestUser:
        user_id = int(body.get("user_id", 1))
        return self.user(
            user_id,
            first_name=str(body.get("first_name", "Tester")),
            username=body.get("username"),
            language_code=body.get("language_code", "zh-hans"),
        )

    async def _settle(self, chat_id: int, wait: float, done=None) -> None:
        """Wait, at most `wait` seconds, until `done()` is true or the chat has settled.

        A chat has settled when every button press in it was answered and the bot made no call
        with this chat_id for QUIET_S seconds.
        """
        start = time.monotonic()

        def settled() -> bool | None:
            if done is not None and done():
                return True
            if any(query.chat_id == chat_id and query.answer is None for query in self.callback_queries.values()):
                return None
            last = max((call.time for call in self.calls if str(call.params.get("chat_id")) == str(chat_id)),
                       default=0.0)
            return True if time.monotonic() - max(last, start) >= QUIET_S else None

        deadline = start + wait
        while settled() is None and time.monotonic() < deadline:
            await self.wait_changed(min(0.1, max(deadline - time.monotonic(), 0.0)))

    async def _replies_after(self, chat_id: int, count_before: int, wait: float) -> list[dict]:
        # return once the first reply arrives, with any others already sent; later ones show in /_test/messages
        try:
            await self.wait_until(
                lambda: True if len(self.bot_messages.get(chat_id, [])) > count_before else None,
                wait,
                lambda: f"a reply in chat {chat_id}",
            )
        except TimeoutError:
            return []
        return [_summary(message) for message in self.bot_messages[chat_id][count_before:]]


def _resolve_label(message, label: str) -> str:
    """Return the label of the button that `label` names, allowing the plain score for a relabelled one like "★5"."""
    texts = message.button_texts
    if label in texts:
        return label
    loose = [text for text in texts if text.strip("★☆✓✔ ") == label.strip()]
    return loose[0] if len(loose) == 1 else label


def _summary(message) -> dict:
    return {"message_id": message.message_id, "text": message.text, "buttons": message.button_texts}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _error_response(error: ApiError) -> web.Response:
    return web.json_response(error.to_json(), status=error.error_code, dumps=_dumps)


async def _read_json(request: web.Request) -> dict:
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(text='the body must be JSON, e.g. {"text": "春"}') from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object")
    return body
