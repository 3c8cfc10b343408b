"""Text prompts and everything else a user can send: parse, generate, store, reply."""

from __future__ import annotations

import logging
import math
import secrets
import time

from telegram import Update, User
from telegram.constants import ChatAction
from telegram.ext import ContextTypes

from bot.formatting import answer_text
from bot.handlers.common import answer_query, user_texts
from bot.keyboards import answer_keyboard
from bot.prompt import PromptProblem, parse_prompt
from bot.runtime import get_runtime
from bot.sampling import level_for
from bot.texts import Texts

log = logging.getLogger(__name__)


async def prompt(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Write one line per Han character of the user's message."""
    runtime = get_runtime(context)
    message = update.effective_message
    user = update.effective_user
    texts = user_texts(update)

    limit = runtime.settings.max_prompt_chars
    parsed = parse_prompt(message.text or "", limit)
    if parsed.problem is PromptProblem.NO_HAN:
        await message.reply_text(texts.no_han)
        return
    if parsed.problem is PromptProblem.NOT_HAN:
        await message.reply_text(texts.not_han.format(character=parsed.not_han))
        return
    if parsed.problem is PromptProblem.TOO_LONG:
        await message.reply_text(texts.too_long.format(limit=limit))
        return

    if not await allow_prompt(update, context, texts):
        return

    await send_answer(context, chat_id=message.chat_id, user=user, characters=parsed.characters, texts=texts)


async def allow_prompt(update: Update, context: ContextTypes.DEFAULT_TYPE, texts: Texts) -> bool:
    """Apply the per-user rate limit, telling the user once per burst when they must wait."""
    runtime = get_runtime(context)
    user_id = update.effective_user.id
    decision = runtime.rate_limiter.check(user_id)
    if decision.allowed:
        return True

    seconds = max(1, math.ceil(decision.retry_after_s))
    log.info("rate limit: user %s must wait %d s (notified: %s)", user_id, seconds, decision.notify)
    notice = texts.rate_limited.format(seconds=seconds)
    if update.callback_query is not None:
        # A callback must be answered anyway, so every rejected press gets the notice.
        await answer_query(update.callback_query, notice)
    elif decision.notify:
        await update.effective_message.reply_text(notice)
    return False


async def send_answer(
    context: ContextTypes.DEFAULT_TYPE,
    *,
    chat_id: int,
    user: User,
    characters: str,
    texts: Texts,
) -> int | None:
    """Generate lines for `characters`, store them and send them with the answer keyboard.

    Returns the stored generation id, or None when the model did not know a character
    (the user then gets the character named, with suggestions, and nothing is stored).
    """
    from model.generate import GenerationRequest, UnknownCharacterError

    storage, service = get_runtime(context).require()
    if len(characters) > 1:
        # An acrostic takes noticeably longer than one line, so show that the bot is writing.
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)

    level = level_for(await storage.sampling_level(user))
    # A stored seed makes every answer reproducible from its row.
    request = GenerationRequest(
        prompt=characters, temperature=level.temperature, top_p=level.top_p, seed=secrets.randbits(62)
    )
    started = time.perf_counter()
    generated = await service.generate(request)
    result = generated.result

    if isinstance(result.error, UnknownCharacterError):
        await context.bot.send_message(chat_id, unknown_character_text(texts, result.error))
        return None
    if result.error is not None:
        # parse_prompt already rejected what the model would, so this means the two disagree.
        log.warning("model rejected prompt %r of user %s: %s", characters, user.id, result.error)
        await context.bot.send_message(chat_id, texts.no_han)
        return None

    latency_ms = (time.perf_counter() - started) * 1000
    generation_id = await storage.record_generation(
        user, chat_id=chat_id, prompt=characters, text=result.text,
        model_version=generated.model_version, temperature=request.temperature,
        top_k=request.top_k, top_p=request.top_p, seed=request.seed, latency_ms=latency_ms,
    )
    await context.bot.send_message(
        chat_id,
        answer_text(texts, result.lines, result.converted),
        reply_markup=answer_keyboard(texts, generation_id),
    )
    log.debug("generation %s for user %s in chat %s written by model %s in a batch of %d",
              generation_id, user.id, chat_id, generated.model_version, generated.batch_size)
    return generation_id


def unknown_character_text(texts: Texts, error) -> str:
    """Name the unknown character and suggest known ones."""
    if not error.suggestions:
        return texts.unknown_character_no_suggestions.format(character=error.character)
    return texts.unknown_character.format(character=error.character, suggestions=" ".join(error.suggestions))


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the user that stickers, photos, voice and other non-text messages cannot be prompts."""
    await update.effective_message.reply_text(user_texts(update).not_text)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Point the user to /help for a command this bot does not have."""
    await update.effective_message.reply_text(user_texts(update).unknown_command)
