"""The server's memory: chats, updates, the bot's messages, records, and waits on them."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import bad_request, too_many_requests
from .records import (
    BotMessage,
    CallbackAnswer,
    CallbackQuery,
    Chat,
    ChatAction,
    Edit,
    MethodCall,
    Update,
    UploadedFile,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT = 5.0

# Telegram leaves these out unless allowed_updates names them.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

# Methods that post or change a message, so flood control applies to them.
FLOOD_CONTROLLED_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "editmessagetext",
        "editmessagereplymarkup",
        "editmessagecaption",
    }
)


@dataclass
class Flood:
    """A planned run of 429 responses for one chat."""

    retry_after: float
    remaining: int


@dataclass
class WebhookConfig:
    """The webhook set by setWebhook and the state of its delivery."""

    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


class BotApiState:
    """Everything the fake Bot API server stores, with the waits tests use to read it."""

    def __init__(self, *, token: str | None = None, bot_username: str = "lyric_test_bot"):
        self.token = token
        self.bot_user = {
            "id": bot_id_from_token(token),
            "is_bot": True,
            "first_name": "Lyric Test Bot",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

        self.chats: dict[int, Chat] = {}
        self.bot_messages: dict[int, list[BotMessage]] = {}
        self.user_messages: dict[tuple[int, int], dict] = {}
        self.edits: list[Edit] = []
        self.calls: list[MethodCall] = []
        self.callback_queries: dict[str, CallbackQuery] = {}
        self.callback_answers: list[CallbackAnswer] = []
        self.chat_actions: list[ChatAction] = []
        self.uploads: list[UploadedFile] = []
        self.files: dict[str, UploadedFile] = {}
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.webhook: WebhookConfig | None = None
        self.allowed_updates: list[str] | None = None
        self.current_poller: object | None = None

        self._updates: list[Update] = []
        self._update_ids = itertools.count(1)
        self._last_message_id: dict[int, int] = {}
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._group_ids = itertools.count(1)
        self._floods: dict[int, Flood] = {}
        self._rate_limit: tuple[int, float] | None = None
        self._recent_sends: dict[int, deque[float]] = {}
        self._consumed: dict[str, set[int]] = {}
        self._changed = asyncio.Event()
        self.closing = False

        # callables run with ("message" | "edit", BotMessage), e.g. to print replies
        self.observers: list[Callable[[str, BotMessage], None]] = []

    # --- chats and ids ---------------------------------------------------------

    def add_private_chat(self, user: dict) -> Chat:
        """Register the private chat of a user. Its id is the user's id."""
        chat = self.chats.get(user["id"])
        if chat is None:
            chat = Chat(user["id"], "private", first_name=user["first_name"], username=user.get("username"))
            self.chats[chat.id] = chat
        return chat

    def add_group(self, title: str = "Test group", chat_id: int | None = None) -> Chat:
        """Register a group chat; its id is negative, as Telegram's group ids are."""
        if chat_id is None:
            chat_id = -1000 - next(self._group_ids)
        chat = Chat(chat_id, "group", title=title)
        self.chats[chat_id] = chat
        return chat

    def require_chat(self, chat_id: int) -> Chat:
        """Return a known chat or raise Telegram's "chat not found"."""
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def next_message_id(self, chat_id: int) -> int:
        """Allocate the next message id of a chat, a sequence that user and bot messages share."""
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return message_id

    def new_file(self, data: bytes, *, filename: str | None, content_type: str, folder: str) -> UploadedFile:
        """Store file content under a fresh file id."""
        number = next(self._file_ids)
        stored = UploadedFile(
            file_id=f"file-{number}",
            file_unique_id=f"unique-{number}",
            file_path=f"{folder}/file_{number}",
            data=data,
            filename=filename,
            content_type=content_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def new_callback_query_id(self) -> str:
        """Allocate a callback query id, an opaque string as on Telegram."""
        return f"cbq-{next(self._query_ids)}"

    # --- updates --------------------------------------------------------------

    def inject_update(self, kind: str, payload: dict) -> Update:
        """Queue an update for the bot, as Telegram does when a user acts."""
        update = Update(next(self._update_ids), kind, payload, time.monotonic())
        self._updates.append(update)
        logger.debug("queued update %d (%s)", update.update_id, kind)
        self.notify()
        return update

    def confirm_updates(self, offset: int | None) -> None:
        """Forget updates before `offset`, or all but the last -offset updates when `offset` is negative."""
        if offset is None or offset == 0:
            return
        if offset < 0:
            self._updates = self._updates[offset:]
        else:
            self._updates = [update for update in self._updates if update.update_id >= offset]

    def pending_updates(self, limit: int) -> list[Update]:
        """Return up to `limit` waiting updates of the allowed kinds and drop the others, as Telegram does."""
        self._updates = [update for update in self._updates if self.is_allowed(update.kind)]
        return self._updates[:limit]

    def is_allowed(self, kind: str) -> bool:
        """Tell whether the bot's allowed_updates let an update kind through."""
        if not self.allowed_updates:
            return kind not in OPT_IN_UPDATES
        return kind in self.allowed_updates

    @property
    def pending_update_count(self) -> int:
        """Number of updates not yet confirmed by the bot."""
        return len(self._updates)

    def drop_pending_updates(self) -> None:
        """Forget every waiting update, as deleteWebhook and setWebhook may ask."""
        self._updates.clear()

    # --- flood control --------------------------------------------------------

    def flood(self, chat_id: int, retry_after: float = 1, times: int = 1) -> None:
        """Make the next `times` sending or editing calls to a chat fail with 429 and `retry_after`."""
        self._floods[chat_id] = Flood(retry_after, times)

    def set_rate_limit(self, max_messages: int | None, period: float = 1.0) -> None:
        """Reject with 429 any send or edit beyond `max_messages` per chat within `period` seconds; None turns the limit off."""
        self._rate_limit = None if max_messages is None else (max_messages, period)
        self._recent_sends.clear()

    def check_flood(self, method: str, chat_id: int) -> None:
        """Raise a 429 error when a planned flood or the rate limit applies to this call."""
        if method not in FLOOD_CONTROLLED_METHODS:
            return

        flood = self._floods.get(chat_id)
        if flood is not None and flood.remaining > 0:
            flood.remaining -= 1
            logger.info("flood control for chat %d: retry after %s s", chat_id, flood.retry_after)
            raise too_many_requests(flood.retry_after)

        if self._rate_limit is None:
            return
        max_messages, period = self._rate_limit
        now = time.monotonic()
        recent = self._recent_sends.setdefault(chat_id, deque())
        while recent and now - recent[0] >= period:
            recent.popleft()
        if len(recent) >= max_messages:
            raise too_many_requests(period - (now - recent[0]))
        recent.append(now)

    # --- records --------------------------------------------------------------

    def record_call(self, method: str, params: dict) -> MethodCall:
        """Add a call to the log before it runs."""
        call = MethodCall(method, params, time.monotonic())
        self.calls.append(call)
        return call

    def add_bot_message(self, message: BotMessage) -> None:
        """Store a message the bot sent and wake the tests waiting for it."""
        self.bot_messages.setdefault(message.chat_id, []).append(message)
        self._observe("message", message)
        self.notify()

    def add_edit(self, edit: Edit) -> None:
        """Store an edit and wake the tests waiting for it."""
        self.edits.append(edit)
        self._observe("edit", edit.message)
        self.notify()

    def _observe(self, event: str, message: BotMessage) -> None:
        for observer in self.observers:
            observer(event, message)

    def find_bot_message(self, chat_id: int, message_id: int) -> BotMessage | None:
        """Return a message the bot sent, or None."""
        for message in self.bot_messages.get(chat_id, []):
            if message.message_id == message_id:
                return message
        return None

    def messages_in(self, chat_id: int) -> list[BotMessage]:
        """Return the bot's messages in a chat, oldest first, each in its current state."""
        return list(self.bot_messages.get(chat_id, []))

    def calls_to(self, method: str) -> list[MethodCall]:
        """Return the calls of one method, oldest first, matching the name without regard to case."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    # --- waits ----------------------------------------------------------------

    def notify(self) -> None:
        """Wake every wait so it checks its condition again."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_changed(self, timeout: float) -> None:
        """Sleep until the state changes or `timeout` seconds pass."""
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout)
        except TimeoutError:
            pass

    async def wait_until(self, check: Callable[[], T | None], timeout: float, describe: Callable[[], str]) -> T:
        """Return the first non-None result of `check`, re-run on every change.

        Raises TimeoutError with `describe()` in its message when `timeout` seconds pass first.
        """
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result is not None:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout} s waiting for {describe()}")
            await self.wait_changed(remaining)

    def _take(self, stream: str, items: list[T], match: Callable[[T], bool]) -> T | None:
        # each item is returned by one wait only, so consecutive waits see consecutive items
        consumed = self._consumed.setdefault(stream, set())
        for index, item in enumerate(items):
            if index not in consumed and match(item):
                consumed.add(index)
                return item
        return None

    async def wait_for_message(self, chat_id: int, timeout: float = DEFAULT_TIMEOUT) -> BotMessage:
        """Wait for the next bot message in a chat that no earlier wait returned."""
        return await self.wait_until(
            lambda: self._take(f"message:{chat_id}", self.bot_messages.get(chat_id, []), lambda _: True),
            timeout,
            lambda: f"a bot message in chat {chat_id}; {self._describe_chat(chat_id)}",
        )

    async def wait_for_edit(
        self, chat_id: int, message_id: int | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> Edit:
        """Wait for the next edit in a chat, or of one message, that no earlier wait returned."""
        return await self.wait_until(
            lambda: self._take(
                "edit",
                self.edits,
                lambda edit: edit.chat_id == chat_id and message_id in (None, edit.message_id),
            ),
            timeout,
            lambda: f"an edit of message {message_id} in chat {chat_id}; "
            f"edits so far: {[(e.message_id, e.text) for e in self.edits if e.chat_id == chat_id]}",
        )

    async def wait_for_callback_answer(
        self, callback_query_id: str, timeout: float = DEFAULT_TIMEOUT
    ) -> CallbackAnswer:
        """Wait until the bot answers one button press."""
        query = self.callback_queries[callback_query_id]
        return await self.wait_until(
            lambda: query.answer,
            timeout,
            lambda: f"the answer to callback query {callback_query_id} (data {query.data!r})",
        )

    async def wait_for_chat_action(self, chat_id: int, timeout: float = DEFAULT_TIMEOUT) -> ChatAction:
        """Wait for the next chat action in a chat that no earlier wait returned."""
        return await self.wait_until(
            lambda: self._take("action", self.chat_actions, lambda action: action.chat_id == chat_id),
            timeout,
            lambda: f"a chat action in chat {chat_id}",
        )

    async def wait_for_call(
        self,
        method: str,
        timeout: float = DEFAULT_TIMEOUT,
        match: Callable[[MethodCall], bool] | None = None,
    ) -> MethodCall:
        """Wait for the next finished call of a method, optionally matching `match`, that no earlier wait returned."""
        return await self.wait_until(
            lambda: self._take(
                f"call:{method.lower()}",
                self.calls,
                lambda call: call.method.lower() == method.lower()
                and call.ok is not None
                and (match is None or match(call)),
            ),
            timeout,
            lambda: f"a finished call of {method}; methods called so far: {[c.method for c in self.calls]}",
        )

    async def expect_no_message(self, chat_id: int, within: float = 0.3) -> None:
        """Fail when the bot sends a new message to a chat within `within` seconds.

        A negative check needs a bounded wait; prefer waiting for a positive event first.
        """
        try:
            message = await self.wait_for_message(chat_id, timeout=within)
        except TimeoutError:
            return
        raise AssertionError(f"expected no message in chat {chat_id}, got {message.text!r}")

    def _describe_chat(self, chat_id: int) -> str:
        texts = [message.text for message in self.bot_messages.get(chat_id, [])]
        return f"messages so far: {texts}" if texts else "the bot sent nothing there"


def bot_id_from_token(token: str | None) -> int:
    # a real token starts with the bot's numeric id, e.g. "123456:ABC..."
    if token and token.split(":", 1)[0].isdigit():
        return int(token.split(":", 1)[0])
    return 100000


def json_copy(value: Any) -> Any:
    """Copy a JSON-like value so later edits cannot change a stored record."""
    if isinstance(value, dict):
        return {key: json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_copy(item) for item in value]
    return value
