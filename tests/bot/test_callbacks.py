"""Callback data: compact, at most 64 bytes, and strict on the way back."""

import pytest

from bot import callbacks
from bot.callbacks import (
    AnotherButton,
    ForgetButton,
    HistoryButton,
    LevelButton,
    RateButton,
    parse_callback,
)

BIGGEST_ID = 2**63 - 1


def test_round_trip():
    assert parse_callback(callbacks.rate_data(12, 3)) == RateButton(12, 3)
    assert parse_callback(callbacks.another_data(12)) == AnotherButton(12)
    assert parse_callback(callbacks.history_data(99, 2)) == HistoryButton(99, 2)
    assert parse_callback(callbacks.level_data("bold")) == LevelButton("bold")
    assert parse_callback(callbacks.forget_data(True, 99)) == ForgetButton(True, 99)
    assert parse_callback(callbacks.forget_data(False, 99)) == ForgetButton(False, 99)


def test_largest_ids_fit_64_bytes():
    for data in (
        callbacks.rate_data(BIGGEST_ID, 5),
        callbacks.another_data(BIGGEST_ID),
        callbacks.history_data(BIGGEST_ID, 999_999),
        callbacks.forget_data(True, BIGGEST_ID),
    ):
        assert len(data.encode()) <= callbacks.MAX_CALLBACK_BYTES


@pytest.mark.parametrize(
    "data",
    [None, "", "r:1", "r:x:3", "r:1:3:extra", "a:", "a:-1", "h:5", "f:maybe:1", "春", "r:1:3\n",
     f"r:{BIGGEST_ID + 1}:3", f"a:{10**19}", "l:BOLD"],
)
def test_foreign_data_rejected(data):
    assert parse_callback(data) is None


def test_out_of_range_score_still_parsed():
    # The handler rejects these politely; parsing keeps them so the refusal can be logged.
    assert parse_callback("r:1:9") == RateButton(1, 9)
    assert parse_callback("r:1:0") == RateButton(1, 0)
