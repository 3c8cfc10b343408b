"""A local Telegram Bot API server for tests, with simulated users and waits on the bot's replies."""

from .errors import ApiError
from .records import BotMessage, CallbackAnswer, CallbackQuery, ChatAction, Edit, MethodCall, UploadedFile
from .server import BotApiServer
from .users import TestUser

__all__ = [
    "ApiError",
    "BotApiServer",
    "BotMessage",
    "CallbackAnswer",
    "CallbackQuery",
    "ChatAction",
    "Edit",
    "MethodCall",
    "TestUser",
    "UploadedFile",
]
