"""Every handler of the bot: commands by `register_handlers`, the catch-all ones by `register_fallbacks`."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.handlers import buttons, commands, prompts
from bot.handlers.errors import error_handler

# Commands shown in Telegram's command menu, in this order; the texts module describes them.
MENU_COMMANDS = ("start", "help", "history", "model", "settings", "forget")

# Group 0 contains the user-facing handlers. The fallbacks take every update left over,
# so a later feature adds its handlers to this group between `register_handlers` and
# `register_fallbacks`. It may instead use an earlier group whose handlers raise
# ApplicationHandlerStop, as bot.retraining does.
USER_GROUP = 0


def register_handlers(application: Application) -> None:
    """Add the user and admin commands to `application`."""
    new_messages = filters.UpdateType.MESSAGE

    application.add_handler(CommandHandler("start", commands.start, filters=new_messages), USER_GROUP)
    application.add_handler(CommandHandler("help", commands.help_command, filters=new_messages), USER_GROUP)
    application.add_handler(CommandHandler("history", commands.history, filters=new_messages), USER_GROUP)
    application.add_handler(CommandHandler("model", commands.model, filters=new_messages), USER_GROUP)
    application.add_handler(CommandHandler("settings", commands.settings, filters=new_messages), USER_GROUP)
    application.add_handler(CommandHandler("forget", commands.forget, filters=new_messages), USER_GROUP)
    application.add_handler(CommandHandler("stats", commands.stats, filters=new_messages), USER_GROUP)


def register_fallbacks(application: Application) -> None:
    """Add the handlers that catch what no other handler took; call after every feature registered."""
    new_messages = filters.UpdateType.MESSAGE
    # The button handler also answers callback data that this bot did not make (forged or
    # stale), so it comes after any feature's own CallbackQueryHandler with a pattern.
    application.add_handler(CallbackQueryHandler(buttons.button), USER_GROUP)
    application.add_handler(MessageHandler(new_messages & filters.COMMAND, prompts.unknown_command), USER_GROUP)
    application.add_handler(MessageHandler(new_messages & filters.TEXT, prompts.prompt), USER_GROUP)
    # Service messages (members joining, pinned messages and the like) are not user input.
    application.add_handler(
        MessageHandler(new_messages & ~filters.TEXT & ~filters.StatusUpdate.ALL, prompts.not_text), USER_GROUP
    )
    application.add_error_handler(error_handler)
