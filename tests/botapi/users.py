"""Simulated Telegram users who send messages and press buttons, as updates for the bot."""

from __future__ import annotations

import time
from typing import Any

from .limits import utf16_length
from .methods import message_json
from .records import BotMessage, CallbackAnswer, CallbackQuery, Update
from .state import DEFAULT_TIMEOUT, BotApiState

# A valid 1x1 greyscale PNG, used as the content of a user's photo.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
    "3a7e9b550000000a49444154789c63680000008200816f8c3e1e0000000049454e44ae426082"
)


class TestUser:
    """A user of the bot: builds the updates their actions make and waits for the bot's replies."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        state: BotApiState,
        user_id: int,
        *,
        first_name: str,
        username: str | None,
        language_code: str | None,
        last_name: str | None = None,
    ):
        self.state = state
        self.id = user_id
        self.first_name = first_name
        self.username = username
        self.language_code = language_code
        self.last_name = last_name
        self.chat = state.add_private_chat(self.to_json())

    def to_json(self) -> dict:
        """Build Telegram's User object."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            user["last_name"] = self.last_name
        if self.username is not None:
            user["username"] = self.username
        if self.language_code is not None:
            user["language_code"] = self.language_code
        return user

    # --- messages -------------------------------------------------------------

    def _message(self, chat_id: int | None, content: dict) -> Update:
        chat_id = self.id if chat_id is None else chat_id
        chat = self.state.require_chat(chat_id)
        message = {
            "message_id": self.state.next_message_id(chat_id),
            "from": self.to_json(),
            "chat": chat.to_json(),
            "date": int(time.time()),
            **content,
        }
        self.state.user_messages[(chat_id, message["message_id"])] = message
        return self.state.inject_update("message", message)

    def send_text(self, text: str, *, chat_id: int | None = None) -> Update:
        """Send a text message; a leading "/command" gets the bot_command entity Telegram adds."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_length(command)}]
        return self._message(chat_id, content)

    def send_command(self, command: str, *, chat_id: int | None = None) -> Update:
        """Send a command such as "start" or "/history 2"."""
        return self.send_text(command if command.startswith("/") else f"/{command}", chat_id=chat_id)

    def send_sticker(self, emoji: str = "🙂", *, chat_id: int | None = None) -> Update:
        """Send a sticker."""
        stored = self.state.new_file(b"RIFF sticker", filename=None, content_type="image/webp", folder="stickers")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._message(chat_id, {"sticker": sticker})

    def send_photo(self, caption: str | None = None, *, chat_id: int | None = None) -> Update:
        """Send a photo, optionally with a caption."""
        stored = self.state.new_file(TINY_PNG, filename=None, content_type="image/png", folder="photos")
        photo = [{"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": 1, "height": 1}]
        content: dict[str, Any] = {"photo": photo}
        if caption is not None:
            content["caption"] = caption
        return self._message(chat_id, content)

    def send_voice(self, duration: int = 2, *, chat_id: int | None = None) -> Update:
        """Send a voice message."""
        stored = self.state.new_file(b"OggS voice", filename=None, content_type="audio/ogg", folder="voice")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        return self._message(chat_id, {"voice": voice})

    # --- buttons --------------------------------------------------------------

    def press(self, message: BotMessage, button: str | None = None, *, data: str | None = None) -> str:
        """Press a button of a bot message and return the callback query id.

        Name the button by its label, or pass `data` to send any callback data,
        even data the keyboard never had, as a forged or stale press would.
        """
        if (button is None) == (data is None):
            raise ValueError("pass either a button label or data")
        if button is not None:
            data = message.button(button).get("callback_data")
            if data is None:
                raise AssertionError(f"button {button!r} of message {message.message_id} has no callback data")

        # the message is sent as it is now, after any edits, as Telegram does
        payload = message_json(self.state, message)
        return self._callback(message.chat_id, message.message_id, payload, data)

    def press_on(self, chat_id: int, message_id: int, data: str) -> str:
        """Press a button with `data` on a message the bot never sent, as a stale client might."""
        # Telegram sends an InaccessibleMessage (date 0) for a message the bot cannot see.
        chat = self.state.require_chat(chat_id)
        payload = {"chat": chat.to_json(), "message_id": message_id, "date": 0}
        return self._callback(chat_id, message_id, payload, data)

    def _callback(self, chat_id: int, message_id: int, payload: dict, data: str | None) -> str:
        query_id = self.state.new_callback_query_id()
        query = CallbackQuery(query_id, self.id, chat_id, message_id, data, time.monotonic())
        self.state.callback_queries[query_id] = query
        body = {
            "id": query_id,
            "from": self.to_json(),
            "message": payload,
            "chat_instance": f"instance-{chat_id}",
            "data": data,
        }
        self.state.inject_update("callback_query", body)
        return query_id

    # --- replies --------------------------------------------------------------

    async def next_message(self, timeout: float = DEFAULT_TIMEOUT, *, chat_id: int | None = None) -> BotMessage:
        """Wait for the bot's next message in this user's chat."""
        return await self.state.wait_for_message(self.id if chat_id is None else chat_id, timeout)

    async def ask(self, text: str, timeout: float = DEFAULT_TIMEOUT) -> BotMessage:
        """Send a text message and wait for the bot's next message in this user's chat."""
        self.send_text(text)
        return await self.next_message(timeout)

    async def press_and_wait(
        self, message: BotMessage, button: str | None = None, *, data: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> CallbackAnswer:
        """Press a button and wait for the bot's answer to the press."""
        query_id = self.press(message, button, data=data)
        return await self.state.wait_for_callback_answer(query_id, timeout)
