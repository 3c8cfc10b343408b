"""Telegram's limits on texts, keyboards, commands and files, checked as the real server does."""

from __future__ import annotations

import html
import re
import struct
from typing import Any

from .errors import ApiError, bad_request

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_COMMANDS = 100
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
PARSE_MODES = ("HTML", "Markdown", "MarkdownV2")
CHAT_ACTIONS = (
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
)
COMMAND_PATTERN = re.compile(r"[a-z0-9_]{1,32}")
HTML_TAG = re.compile(r"<[^>]*>")


def utf16_length(text: str) -> int:
    """Count UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def visible_text(text: str, parse_mode: str | None) -> str:
    """Return the text a user sees, which is what Telegram measures against its limits.

    Raises ApiError for a parse mode Telegram does not know.
    """
    if parse_mode is None or parse_mode == "":
        return text
    if parse_mode not in PARSE_MODES:
        raise bad_request("unsupported parse_mode")
    if parse_mode == "HTML":
        return html.unescape(HTML_TAG.sub("", text))

    # TODO: Markdown markup is not parsed, so its markup characters count
    # towards the limit — harmless while the bot sends plain text or HTML.
    return text


def check_message_text(text: str | None, parse_mode: str | None, *, editing: bool = False) -> str:
    """Check a message text against Telegram's limits and return the visible text."""
    if text is None or text.strip() == "":
        raise bad_request("message text is empty")

    visible = visible_text(text, parse_mode)
    if visible.strip() == "":
        raise bad_request("message text is empty")
    if utf16_length(visible) > MAX_TEXT_LENGTH:
        # Telegram words the same limit differently for new messages and edits.
        raise bad_request("MESSAGE_TOO_LONG" if editing else "message is too long")
    return visible


def check_caption(caption: str | None, parse_mode: str | None) -> str | None:
    """Check a media caption and return its visible text."""
    if caption is None:
        return None
    visible = visible_text(caption, parse_mode)
    if utf16_length(visible) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return visible


def check_reply_markup(markup: Any) -> dict | None:
    """Check a reply markup object; inline keyboards get the button checks Telegram makes."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")

    if "inline_keyboard" in markup:
        check_inline_keyboard(markup["inline_keyboard"])
    elif not any(key in markup for key in ("keyboard", "remove_keyboard", "force_reply")):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def check_inline_keyboard(rows: Any) -> None:
    """Check the rows and buttons of an inline keyboard."""
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")

    for row in rows:
        for button in row:
            check_inline_button(button)


def check_inline_button(button: Any) -> None:
    """Check one inline button: a text and exactly one action, with callback data of 1–64 bytes."""
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Field \"text\" must be of type String")
    if button["text"] == "":
        raise bad_request("BUTTON_TEXT_EMPTY")

    actions = [key for key in button if key != "text"]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )

    if "callback_data" in button:
        data = button["callback_data"]
        size = len(str(data).encode("utf-8"))
        if not isinstance(data, str) or size == 0 or size > MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not str(button["url"]).startswith(("http://", "https://", "tg://")):
        raise bad_request("BUTTON_URL_INVALID")


def check_commands(commands: Any) -> list[dict]:
    """Check a setMyCommands list: at most 100 commands, each 1–32 of a-z, 0-9, _ with a description."""
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > MAX_COMMANDS:
        raise bad_request("too many commands specified")

    checked = []
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand JSON object")
        name = command.get("command")
        description = command.get("description")
        if not isinstance(name, str) or not COMMAND_PATTERN.fullmatch(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("command description is empty or too long")
        checked.append({"command": name, "description": description})
    return checked


def image_size(data: bytes) -> tuple[int, int]:
    """Read the width and height of a PNG or JPEG, the formats sendPhoto accepts here."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    raise bad_request("IMAGE_PROCESS_FAILED")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    # walk the segments until a start-of-frame marker, which carries the size
    position = 2
    while position + 9 < len(data):
        if data[position] != 0xFF:
            break
        marker = data[position + 1]
        segment_length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        position += 2 + segment_length
    raise bad_request("IMAGE_PROCESS_FAILED")


def check_upload_size(size: int) -> None:
    """Reject empty files and files over the 50 MB limit of the public Bot API server."""
    if size == 0:
        raise bad_request("file must be non-empty")
    if size > MAX_UPLOAD_BYTES:
        raise ApiError(413, "Request Entity Too Large")
