"""Turning a user's text message into a prompt of Han characters, or a reason to reject it."""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass

from model.vocab import is_han


class PromptProblem(enum.Enum):
    """Reason a text message cannot be a prompt."""

    NO_HAN = "no_han"
    NOT_HAN = "not_han"  # Han characters mixed with a letter, digit or other script
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class ParsedPrompt:
    """The outcome of parsing: the Han characters, or the problem and, for NOT_HAN, the first offending character."""

    characters: str = ""
    problem: PromptProblem | None = None
    not_han: str = ""


def _is_ignorable(character: str) -> bool:
    # Spaces, punctuation and symbols (Unicode categories Z*, P*, S*, and control
    # characters) carry no prompt, so users may type "春。" or " 春 天 ".
    category = unicodedata.category(character)
    return category[0] in "ZPSC"


def parse_prompt(text: str, max_chars: int) -> ParsedPrompt:
    """Keep the Han characters of `text`, ignoring spaces and punctuation.

    Letters, digits and other scripts mixed with Han characters reject the whole message,
    because silently dropping part of what a user typed would surprise them.
    """
    kept = [ch for ch in text if not _is_ignorable(ch)]
    if not any(is_han(ch) for ch in kept):
        return ParsedPrompt(problem=PromptProblem.NO_HAN)

    non_han = [ch for ch in kept if not is_han(ch)]
    if non_han:
        return ParsedPrompt(problem=PromptProblem.NOT_HAN, not_han=non_han[0])

    if len(kept) > max_chars:
        return ParsedPrompt(problem=PromptProblem.TOO_LONG)

    return ParsedPrompt(characters="".join(kept))
