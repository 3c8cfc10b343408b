"""Message formatting and Telegram's UTF-16 message limit."""

from datetime import UTC, datetime

from bot.formatting import (
    MAX_MESSAGE_UTF16, answer_text, display_lines, fit_utf16, format_iso_time, format_time, history_text, utf16_length,
)
from bot.texts import en, zh

RARE = "𠀀"  # outside the Basic Multilingual Plane: 2 UTF-16 code units


def test_utf16_length_counts_astral_twice():
    assert utf16_length("春") == 1
    assert utf16_length(RARE) == 2


def test_fit_utf16_never_splits_astral_character():
    cut = fit_utf16(RARE * 10, 6)
    assert cut == RARE * 2 + "…"
    assert utf16_length(cut) <= 6


def test_answer_text_lines_and_conversion_note():
    text = answer_text(zh.TEXTS, ["华灯初上/", "夜色深/"], {"華": "华"})
    assert text.splitlines()[:2] == ["华灯初上/", "夜色深/"]
    assert "華→华" in text


def test_display_lines():
    assert display_lines("春风/夏雨/") == ["春风/", "夏雨/"]


def test_history_page_within_limit_for_astral_text():
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    # Each entry alone is longer than a fifth of the limit, so every one must be cut.
    entries = [(when, RARE * 8, (RARE * 60 + "/") * 8, None) for _ in range(5)]
    text = history_text(en.TEXTS, entries, page=0, pages=3, total=15)
    assert utf16_length(text) <= MAX_MESSAGE_UTF16
    assert text.count("…") == 5
    assert text.startswith("Your answers (page 1/3, 15 in all)")


def test_iso_time_matches_history_format():
    assert format_iso_time("2026-12-04T21:54:14+00:00") == "2026-12-04 21:54 UTC"
    assert format_iso_time("2026-12-04T23:54:14+02:00") == "2026-12-04 21:54 UTC"
    assert format_iso_time("2026-12-04T21:54:14") == "2026-12-04 21:54 UTC"
    assert format_iso_time("2026-12-04T21:54:14+00:00") == format_time(datetime(2026, 12, 4, 21, 54, tzinfo=UTC))


def test_iso_time_keeps_unparsable_text():
    assert format_iso_time("yesterday") == "yesterday"
