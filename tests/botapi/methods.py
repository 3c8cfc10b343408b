"""The Bot API methods the server implements, each a coroutine from parameters to a result."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from . import limits
from .errors import bad_request, conflict
from .params import Params
from .records import BotMessage, CallbackAnswer, ChatAction, Edit
from .state import BotApiState, WebhookConfig, json_copy

logger = logging.getLogger(__name__)

Method = Callable[[BotApiState, Params], Awaitable[Any]]

MAX_POLL_TIMEOUT = 50

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def message_json(state: BotApiState, message: BotMessage) -> dict:
    """Build Telegram's Message object for a message the bot sent."""
    body: dict[str, Any] = {
        "message_id": message.message_id,
        "from": state.bot_user,
        "chat": state.chats[message.chat_id].to_json(),
        "date": message.date,
    }
    if message.kind == "text":
        body["text"] = message.text
    elif message.text is not None:
        body["caption"] = message.text

    if message.kind == "photo" and message.file is not None:
        width, height = message.photo_size or (0, 0)
        body["photo"] = [
            {
                "file_id": message.file.file_id,
                "file_unique_id": message.file.file_unique_id,
                "width": width,
                "height": height,
                "file_size": len(message.file.data),
            }
        ]
    if message.kind == "document" and message.file is not None:
        body["document"] = {
            "file_id": message.file.file_id,
            "file_unique_id": message.file.file_unique_id,
            "file_name": message.file.filename,
            "mime_type": message.file.content_type,
            "file_size": len(message.file.data),
        }

    # Telegram returns only inline keyboards in a Message; reply keyboards stay client-side.
    if message.reply_markup and "inline_keyboard" in message.reply_markup:
        body["reply_markup"] = message.reply_markup
    if message.edit_date is not None:
        body["edit_date"] = message.edit_date
    return body


# --- bot and webhook -----------------------------------------------------------


async def get_me(state: BotApiState, params: Params) -> dict:
    """Return the bot's User object."""
    return state.bot_user


async def log_out(state: BotApiState, params: Params) -> bool:
    """Accept logOut and close, which change nothing because a local server has no session to end."""
    return True


async def set_webhook(state: BotApiState, params: Params) -> bool:
    """Set a loopback webhook; the server then POSTs updates to it instead of holding them for getUpdates."""
    url = params.get_str("url", "")
    if url == "":
        return await delete_webhook(state, params)

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not _is_loopback(parts.hostname):
        raise bad_request(
            "bad webhook: this test server delivers only to http(s) URLs on 127.0.0.1, ::1 or localhost"
        )

    allowed = params.get_json("allowed_updates")
    if allowed is not None:
        state.allowed_updates = list(allowed)
    if params.get_bool("drop_pending_updates"):
        state.drop_pending_updates()

    state.webhook = WebhookConfig(
        url=url,
        secret_token=params.get_str("secret_token"),
        max_connections=params.get_int("max_connections", 40),
    )
    logger.info("webhook set to %s", url)
    state.notify()
    return True


async def delete_webhook(state: BotApiState, params: Params) -> bool:
    """Remove the webhook so the bot can poll again."""
    if params.get_bool("drop_pending_updates"):
        state.drop_pending_updates()
    if state.webhook is not None:
        logger.info("webhook %s removed", state.webhook.url)
    state.webhook = None
    state.notify()
    return True


async def get_webhook_info(state: BotApiState, params: Params) -> dict:
    """Return Telegram's WebhookInfo, whose url is empty while the bot polls."""
    info: dict[str, Any] = {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": state.pending_update_count,
    }
    if state.webhook is not None:
        info["url"] = state.webhook.url
        info["max_connections"] = state.webhook.max_connections
        if state.allowed_updates:
            info["allowed_updates"] = state.allowed_updates
        if state.webhook.last_error_date is not None:
            info["last_error_date"] = state.webhook.last_error_date
            info["last_error_message"] = state.webhook.last_error_message
    return info


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- updates --------------------------------------------------------------------


async def get_updates(state: BotApiState, params: Params) -> list[dict]:
    """Long-poll for updates: return at once when some wait, else when one arrives or `timeout` ends."""
    if state.webhook is not None:
        raise conflict("can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")

    offset = params.get_int("offset")
    limit = min(max(params.get_int("limit", 100), 1), 100)
    timeout = min(max(params.get_float("timeout", 0), 0), MAX_POLL_TIMEOUT)
    allowed = params.get_json("allowed_updates")
    if allowed is not None:
        if not isinstance(allowed, list):
            raise bad_request("can't parse allowed_updates JSON array")
        state.allowed_updates = allowed

    state.confirm_updates(offset)

    # A newer getUpdates call ends this one with 409, as Telegram does for two pollers.
    poller = object()
    state.current_poller = poller
    state.notify()
    deadline = time.monotonic() + timeout
    while True:
        batch = state.pending_updates(limit)
        remaining = deadline - time.monotonic()
        if batch or remaining <= 0 or state.closing:
            return [update.to_json() for update in batch]
        await state.wait_changed(remaining)
        if state.current_poller is not poller:
            raise conflict("terminated by other getUpdates request; make sure that only one bot instance is running")


# --- messages ---------------------------------------------------------------------


async def send_message(state: BotApiState, params: Params) -> dict:
    """Send a text message, with the limits Telegram applies to text and keyboards."""
    chat_id = params.require_chat_id()
    state.require_chat(chat_id)
    parse_mode = params.get_str("parse_mode")
    raw_text = params.get_str("text")
    text = limits.check_message_text(raw_text, parse_mode)
    markup = limits.check_reply_markup(params.get_json("reply_markup"))
    state.check_flood("sendmessage", chat_id)

    message = BotMessage(
        chat_id=chat_id,
        message_id=state.next_message_id(chat_id),
        kind="text",
        text=text,
        raw_text=raw_text,
        parse_mode=parse_mode,
        reply_markup=json_copy(markup),
        date=int(time.time()),
        sent_at=time.monotonic(),
    )
    state.add_bot_message(message)
    logger.debug("bot sent message %d to chat %d", message.message_id, chat_id)
    return message_json(state, message)


async def send_photo(state: BotApiState, params: Params) -> dict:
    """Send a photo uploaded as multipart data or given by a known file id."""
    return await _send_media(state, params, kind="photo", method="sendphoto")


async def send_document(state: BotApiState, params: Params) -> dict:
    """Send a document uploaded as multipart data or given by a known file id."""
    return await _send_media(state, params, kind="document", method="senddocument")


async def _send_media(state: BotApiState, params: Params, *, kind: str, method: str) -> dict:
    chat_id = params.require_chat_id()
    state.require_chat(chat_id)
    parse_mode = params.get_str("parse_mode")
    caption = limits.check_caption(params.get_str("caption"), parse_mode)
    markup = limits.check_reply_markup(params.get_json("reply_markup"))
    stored = _media_file(state, params, kind)
    photo_size = limits.image_size(stored.data) if kind == "photo" else None
    state.check_flood(method, chat_id)

    if stored.chat_id is None:
        stored.chat_id = chat_id
        stored.method = method
        state.uploads.append(stored)

    message = BotMessage(
        chat_id=chat_id,
        message_id=state.next_message_id(chat_id),
        kind=kind,
        text=caption,
        raw_text=params.get_str("caption"),
        parse_mode=parse_mode,
        reply_markup=json_copy(markup),
        date=int(time.time()),
        sent_at=time.monotonic(),
        file=stored,
        photo_size=photo_size,
    )
    state.add_bot_message(message)
    return message_json(state, message)


def _media_file(state: BotApiState, params: Params, field: str):
    # an upload arrives as a multipart part, either under the field's own name or
    # through "attach://<part name>"
    reference = params.get_str(field)
    part = params.files.get(field)
    if part is None and reference and reference.startswith("attach://"):
        part = params.files.get(reference.removeprefix("attach://"))

    if part is not None:
        limits.check_upload_size(len(part.data))
        return state.new_file(part.data, filename=part.filename, content_type=part.content_type, folder=f"{field}s")

    if not reference:
        raise bad_request(f"there is no {field} in the request")
    if reference in state.files:
        return state.files[reference]

    # NOTE: URLs are rejected on purpose, so no test can make this server fetch from the network.
    raise bad_request("wrong file identifier/HTTP URL specified")


async def edit_message_text(state: BotApiState, params: Params) -> dict:
    """Edit a message's text; leaving out reply_markup removes its inline keyboard, as on Telegram."""
    message = _message_to_edit(state, params)
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")

    parse_mode = params.get_str("parse_mode")
    raw_text = params.get_str("text")
    text = limits.check_message_text(raw_text, parse_mode, editing=True)
    markup = limits.check_reply_markup(params.get_json("reply_markup"))
    return _apply_edit(state, message, "editMessageText", text, markup, raw_text=raw_text)


async def edit_message_caption(state: BotApiState, params: Params) -> dict:
    """Edit a media message's caption."""
    message = _message_to_edit(state, params)
    if message.kind == "text":
        raise bad_request("there is no caption in the message to edit")
    caption = limits.check_caption(params.get_str("caption"), params.get_str("parse_mode"))
    markup = limits.check_reply_markup(params.get_json("reply_markup"))
    return _apply_edit(state, message, "editMessageCaption", caption, markup, raw_text=params.get_str("caption"))


async def edit_message_reply_markup(state: BotApiState, params: Params) -> dict:
    """Replace or, when reply_markup is left out, remove a message's inline keyboard."""
    message = _message_to_edit(state, params)
    markup = limits.check_reply_markup(params.get_json("reply_markup"))
    return _apply_edit(state, message, "editMessageReplyMarkup", message.text, markup, raw_text=message.raw_text)


def _message_to_edit(state: BotApiState, params: Params) -> BotMessage:
    if "inline_message_id" in params:
        # TODO: inline-mode messages are not modelled — the bot does not use inline mode.
        raise bad_request("MESSAGE_ID_INVALID")

    chat_id = params.require_chat_id()
    state.require_chat(chat_id)
    message_id = params.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")

    message = state.find_bot_message(chat_id, message_id)
    if message is None:
        if (chat_id, message_id) in state.user_messages:
            raise bad_request("message can't be edited")
        raise bad_request("message to edit not found")
    return message


def _apply_edit(
    state: BotApiState,
    message: BotMessage,
    method: str,
    text: str | None,
    markup: dict | None,
    *,
    raw_text: str | None,
) -> dict:
    # only inline keyboards can be set by an edit; anything else leaves the message without one
    new_markup = markup if markup and "inline_keyboard" in markup else None
    current_markup = message.reply_markup if message.keyboard else None
    if text == message.text and _same_keyboard(new_markup, current_markup):
        raise bad_request(NOT_MODIFIED)
    state.check_flood(method.lower(), message.chat_id)

    message.history.append((message.text, message.reply_markup))
    message.text = text
    message.raw_text = raw_text
    message.reply_markup = json_copy(new_markup)
    message.edit_date = int(time.time())
    state.add_edit(
        Edit(message.chat_id, message.message_id, method, text, json_copy(new_markup), time.monotonic(), message)
    )
    return message_json(state, message)


def _same_keyboard(first: dict | None, second: dict | None) -> bool:
    # an empty keyboard and no keyboard look the same to a user
    rows_first = (first or {}).get("inline_keyboard") or []
    rows_second = (second or {}).get("inline_keyboard") or []
    return rows_first == rows_second


# --- callbacks, actions, commands, files --------------------------------------------------


async def answer_callback_query(state: BotApiState, params: Params) -> bool:
    """Record the answer to a button press. A second answer or an unknown id fails, as on Telegram."""
    query_id = params.get_str("callback_query_id")
    query = state.callback_queries.get(query_id or "")
    if query is None or query.answer is not None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")

    text = params.get_str("text")
    if text is not None and len(text) > limits.MAX_CALLBACK_ANSWER_LENGTH:
        raise bad_request("MESSAGE_TOO_LONG")

    answer = CallbackAnswer(
        callback_query_id=query.id,
        text=text,
        show_alert=params.get_bool("show_alert"),
        url=params.get_str("url"),
        cache_time=params.get_int("cache_time"),
        time=time.monotonic(),
        query=query,
    )
    query.answer = answer
    state.callback_answers.append(answer)
    state.notify()
    return True


async def send_chat_action(state: BotApiState, params: Params) -> bool:
    """Record a chat action such as "typing"."""
    chat_id = params.require_chat_id()
    state.require_chat(chat_id)
    action = params.get_str("action")
    if action not in limits.CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    state.chat_actions.append(ChatAction(chat_id, action, time.monotonic()))
    state.notify()
    return True


def _commands_key(params: Params) -> tuple[str, str]:
    scope = params.get_json("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    return (_scope_key(scope), params.get_str("language_code", "") or "")


def _scope_key(scope: dict) -> str:
    return ",".join(f"{key}={scope[key]}" for key in sorted(scope))


async def set_my_commands(state: BotApiState, params: Params) -> bool:
    """Store the command list for a scope and language."""
    commands = limits.check_commands(params.get_json("commands"))
    state.commands[_commands_key(params)] = commands
    state.notify()
    return True


async def get_my_commands(state: BotApiState, params: Params) -> list[dict]:
    """Return the command list for a scope and language, empty when none is set."""
    return state.commands.get(_commands_key(params), [])


async def delete_my_commands(state: BotApiState, params: Params) -> bool:
    """Remove the command list for a scope and language."""
    state.commands.pop(_commands_key(params), None)
    state.notify()
    return True


async def get_file(state: BotApiState, params: Params) -> dict:
    """Return Telegram's File object for a stored file."""
    stored = state.files.get(params.get_str("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


# Telegram matches method names without regard to case.
METHODS: dict[str, Method] = {
    "getme": get_me,
    "logout": log_out,
    "close": log_out,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "getupdates": get_updates,
    "sendmessage": send_message,
    "sendphoto": send_photo,
    "senddocument": send_document,
    "editmessagetext": edit_message_text,
    "editmessagecaption": edit_message_caption,
    "editmessagereplymarkup": edit_message_reply_markup,
    "answercallbackquery": answer_callback_query,
    "sendchataction": send_chat_action,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "getfile": get_file,
}


