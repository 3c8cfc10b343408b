"""User-facing texts: one module per language, picked by the user's Telegram language.

Simplified Chinese is the default; users whose Telegram language is English get English.
Every text is a field of `Texts`, so a language that lacks one fails at import, not in a chat.
Templates use `str.format` fields, named in each field's comment.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Texts:
    """All the texts of one language."""

    language: str

    # commands
    start: str
    help: str
    commands: dict[str, str]  # command name -> description for the command menu
    unknown_command: str

    # prompts and answers
    no_han: str
    not_han: str  # {character}
    too_long: str  # {limit}
    not_text: str
    unknown_character: str  # {character}, {suggestions}
    unknown_character_no_suggestions: str  # {character}
    converted: str  # {pairs}
    converted_pair: str  # {traditional}, {simplified}
    rate_limited: str  # {seconds}
    something_went_wrong: str

    # answer keyboard and callbacks
    another_button: str
    rating_saved: str  # {score}
    rating_unchanged: str  # {score}
    button_expired: str
    not_allowed_to_rate: str
    writing_another: str

    # /history
    history_empty: str
    history_header: str  # {page}, {pages}, {total}
    history_entry: str  # {when}, {prompt}, {score}, {text}
    history_unrated: str
    history_previous: str
    history_next: str

    # /model
    model_info: str  # {version}, {created_at}, {val_bpc}
    model_metric_missing: str

    # /settings
    settings_prompt: str  # {current}
    settings_saved: str  # {level}
    level_names: dict[str, str]  # level key -> name shown on the button

    # /forget
    forget_confirm: str
    forget_yes: str
    forget_no: str
    forget_done: str  # {generations}, {ratings}
    forget_cancelled: str

    # /stats
    admin_only: str
    stats_header: str  # {users}, {generations}, {ratings}
    stats_row: str  # {version}, {generations}, {ratings}, {average}
    stats_no_ratings: str


def is_english(language_code: str | None) -> bool:
    """Return whether a Telegram `language_code` such as "en", "en-GB" or "zh-hans" asks for English."""
    return bool(language_code) and language_code.lower().split("-")[0] == "en"


def texts_for(language_code: str | None) -> Texts:
    """Return the texts for a Telegram `language_code`: English for English, Chinese otherwise."""
    from bot.texts import en, zh

    return en.TEXTS if is_english(language_code) else zh.TEXTS
