"""Turning a user's text message into a prompt of Han characters, or a reason to reject it."""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

# CJK Unified Ideographs, Extension A, the compatibility block and Extensions B-H (planes 2-3).
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


class PromptProblem(enum.Enum):
    """Reason a text message cannot be a prompt."""

    NO_HAN = "no_han"
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class ParsedPrompt:
    """The outcome of parsing: the Han characters, or the problem."""

    characters: str = ""
    problem: PromptProblem | None = None


def is_han(character: str) -> bool:
    """Return whether `character` is a Han ideograph."""
    return _HAN.fullmatch(character) is not None


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
    if not kept or not all(is_han(ch) for ch in kept):
        return ParsedPrompt(problem=PromptProblem.NO_HAN)

    if len(kept) > max_chars:
        return ParsedPrompt(problem=PromptProblem.TOO_LONG)

    return ParsedPrompt(characters="".join(kept))
