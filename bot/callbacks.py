"""Compact callback data for the inline buttons, and strict parsing of what comes back.

Telegram caps callback data at 64 bytes and returns it unchanged, so a client can send any
string. Buttons therefore carry only ids and small numbers, never lyric text, and every
field is checked on the way back. Formats (ids are decimal, at most 19 digits):

| button | data |
| --- | --- |
| score `s` for answer `id` | `r:<id>:<s>` |
| another line for answer `id` | `a:<id>` |
| history page `p` (0 is the newest) of user `u` | `h:<u>:<p>` |
| sampling level | `l:<level key>` |
| confirm or cancel /forget of user `u` | `f:y:<u>` / `f:n:<u>` |
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CALLBACK_BYTES = 64

# Ids above a signed 64-bit integer cannot be ours, and PostgreSQL would reject them as
# out of range, so parsing drops them as forged.
_MAX_ID = 2**63 - 1

_PATTERNS = {
    "rate": re.compile(r"r:(\d{1,19}):(-?\d{1,3})"),
    "another": re.compile(r"a:(\d{1,19})"),
    "history": re.compile(r"h:(\d{1,19}):(\d{1,6})"),
    "level": re.compile(r"l:([a-z]{1,16})"),
    "forget": re.compile(r"f:([yn]):(\d{1,19})"),
}


@dataclass(frozen=True)
class RateButton:
    generation_id: int
    score: int  # not yet checked against 1-5: the database rejects other scores


@dataclass(frozen=True)
class AnotherButton:
    generation_id: int


@dataclass(frozen=True)
class HistoryButton:
    user_id: int
    page: int


@dataclass(frozen=True)
class LevelButton:
    level: str


@dataclass(frozen=True)
class ForgetButton:
    confirmed: bool
    user_id: int


CallbackAction = RateButton | AnotherButton | HistoryButton | LevelButton | ForgetButton


def rate_data(generation_id: int, score: int) -> str:
    return _checked(f"r:{generation_id}:{score}")


def another_data(generation_id: int) -> str:
    return _checked(f"a:{generation_id}")


def history_data(user_id: int, page: int) -> str:
    return _checked(f"h:{user_id}:{page}")


def level_data(level: str) -> str:
    return _checked(f"l:{level}")


def forget_data(confirmed: bool, user_id: int) -> str:
    return _checked(f"f:{'y' if confirmed else 'n'}:{user_id}")


def _checked(data: str) -> str:
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data {data!r} exceeds {MAX_CALLBACK_BYTES} bytes")
    return data


def parse_callback(data: str | None) -> CallbackAction | None:
    """Parse button data; return None for anything this bot did not make."""
    if not data:
        return None

    if match := _PATTERNS["rate"].fullmatch(data):
        return RateButton(int(match[1]), int(match[2])) if int(match[1]) <= _MAX_ID else None
    if match := _PATTERNS["another"].fullmatch(data):
        return AnotherButton(int(match[1])) if int(match[1]) <= _MAX_ID else None
    if match := _PATTERNS["history"].fullmatch(data):
        return HistoryButton(int(match[1]), int(match[2])) if int(match[1]) <= _MAX_ID else None
    if match := _PATTERNS["level"].fullmatch(data):
        return LevelButton(match[1])
    if match := _PATTERNS["forget"].fullmatch(data):
        return ForgetButton(match[1] == "y", int(match[2])) if int(match[2]) <= _MAX_ID else None
    return None
