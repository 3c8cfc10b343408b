"""What the server stores: chats, the bot's messages, calls, answers, actions and files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Chat:
    """A chat registered on the server. A private chat has the user's id as its id."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    username: str | None = None

    def to_json(self) -> dict:
        """Build Telegram's Chat object."""
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title is not None:
            chat["title"] = self.title
        if self.first_name is not None:
            chat["first_name"] = self.first_name
        if self.username is not None:
            chat["username"] = self.username
        return chat


@dataclass
class UploadedFile:
    """A file the bot uploaded or a user sent, served again by getFile and the file URL."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    filename: str | None = None
    content_type: str = "application/octet-stream"
    chat_id: int | None = None
    method: str | None = None


@dataclass
class BotMessage:
    """A message the bot sent, with its current text and keyboard after any edits."""

    chat_id: int
    message_id: int
    kind: str
    text: str | None
    raw_text: str | None
    parse_mode: str | None
    reply_markup: dict | None
    date: int
    sent_at: float
    file: UploadedFile | None = None
    photo_size: tuple[int, int] | None = None
    edit_date: int | None = None
    history: list[tuple[str | None, dict | None]] = field(default_factory=list)

    @property
    def keyboard(self) -> list[list[dict]]:
        """Rows of the inline keyboard, empty when the message has none."""
        if not self.reply_markup:
            return []
        return self.reply_markup.get("inline_keyboard", [])

    @property
    def buttons(self) -> list[dict]:
        """Every inline button, row by row."""
        return [button for row in self.keyboard for button in row]

    @property
    def button_texts(self) -> list[str]:
        """Labels of the inline buttons, row by row."""
        return [button["text"] for button in self.buttons]

    def button(self, text: str) -> dict:
        """Find an inline button by its label; raises AssertionError listing the labels there are."""
        for button in self.buttons:
            if button["text"] == text:
                return button
        raise AssertionError(
            f"message {self.message_id} in chat {self.chat_id} has no button {text!r}; "
            f"its buttons are {self.button_texts}"
        )


@dataclass
class Edit:
    """One successful edit of a bot message, with the content it set."""

    chat_id: int
    message_id: int
    method: str
    text: str | None
    reply_markup: dict | None
    time: float
    message: BotMessage


@dataclass
class CallbackQuery:
    """A button press sent to the bot, with the bot's answerCallbackQuery once it arrives."""

    id: str
    user_id: int
    chat_id: int | None
    message_id: int | None
    data: str | None
    sent_at: float
    answer: "CallbackAnswer | None" = None


@dataclass
class CallbackAnswer:
    """The bot's answerCallbackQuery for one press."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    time: float
    query: CallbackQuery


@dataclass
class ChatAction:
    """One sendChatAction call."""

    chat_id: int
    action: str
    time: float


@dataclass
class MethodCall:
    """One Bot API call with its parameters, start time (monotonic seconds) and outcome."""

    method: str
    params: dict
    time: float
    ok: bool | None = None
    error: str | None = None


@dataclass
class Update:
    """An update waiting for the bot, with the monotonic time it was made."""

    update_id: int
    kind: str
    payload: dict
    injected_at: float

    def to_json(self) -> dict:
        """Build Telegram's Update object."""
        return {"update_id": self.update_id, self.kind: self.payload}
