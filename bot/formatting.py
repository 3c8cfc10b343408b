"""Building message texts: answers, history pages, model info and statistics."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.texts import Texts

# Telegram counts a message's length in UTF-16 code units, so a character outside the
# Basic Multilingual Plane (many rare Han characters) counts as 2.
MAX_MESSAGE_UTF16 = 4096


def utf16_length(text: str) -> int:
    """Return the length of `text` as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def fit_utf16(text: str, max_units: int, ellipsis: str = "…") -> str:
    """Cut `text` to at most `max_units` UTF-16 code units, marking a cut with `ellipsis`."""
    if utf16_length(text) <= max_units:
        return text
    budget = max_units - utf16_length(ellipsis)
    kept: list[str] = []
    used = 0
    for character in text:
        size = 2 if ord(character) > 0xFFFF else 1
        if used + size > budget:
            break
        kept.append(character)
        used += size
    return "".join(kept) + ellipsis


def answer_text(texts: Texts, lines: list[str], converted: dict[str, str]) -> str:
    """Format generated lines, one per message line, with a note on any converted characters."""
    body = "\n".join(lines)
    if converted:
        pairs = "，".join(
            texts.converted_pair.format(traditional=t, simplified=s) for t, s in converted.items()
        )
        body += "\n" + texts.converted.format(pairs=pairs)
    return fit_utf16(body, MAX_MESSAGE_UTF16)


def display_lines(text: str) -> list[str]:
    """Split stored answer text ("line/line/") into lines that each keep their "/"."""
    return [part + "/" for part in text.split("/") if part]


def format_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def format_iso_time(text: str) -> str:
    """Show an ISO 8601 timestamp such as a checkpoint's created_at like format_time, in UTC.

    A timestamp without an offset is taken as UTC, and text that is not ISO 8601 is shown unchanged.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_time(moment.astimezone(UTC))


def history_text(texts: Texts, entries: list[tuple[datetime, str, str, int | None]],
                 page: int, pages: int, total: int) -> str:
    """Format one history page so that it stays within Telegram's message limit.

    Each entry gets an equal share of the limit and is cut to it, so a page of long
    acrostics, or of characters outside the Basic Multilingual Plane, still fits.
    """
    header = texts.history_header.format(page=page + 1, pages=pages, total=total)
    separator = "\n\n"
    room = MAX_MESSAGE_UTF16 - utf16_length(header) - utf16_length(separator) * max(len(entries), 1)
    share = room // max(len(entries), 1)

    parts = [header]
    for created_at, prompt, text, score in entries:
        entry = texts.history_entry.format(
            when=format_time(created_at),
            prompt=prompt,
            score=f"★{score}" if score is not None else texts.history_unrated,
            text="\n".join(display_lines(text)),
        )
        parts.append(fit_utf16(entry, share))
    return separator.join(parts)
