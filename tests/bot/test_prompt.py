"""Prompt parsing: what counts as Han characters, what is ignored, what is rejected."""

import pytest

from bot.prompt import PromptProblem, parse_prompt


@pytest.mark.parametrize(
    ("text", "characters"),
    [
        ("春", "春"),
        ("  春  ", "春"),
        ("春。", "春"),
        ("「春」！", "春"),
        ("春 天", "春天"),
        ("春，夏，秋，冬", "春夏秋冬"),
        ("華", "華"),  # traditional stays: the model converts it and the reply notes that
        ("𠀀", "𠀀"),  # outside the Basic Multilingual Plane
        ("\u200b春\n", "春"),
    ],
)
def test_han_characters_kept(text, characters):
    parsed = parse_prompt(text, max_chars=8)
    assert parsed.problem is None
    assert parsed.characters == characters


@pytest.mark.parametrize("text", ["", "   ", "hello", "123", "。！", "🙂", "はる", "봄"])
def test_no_han_rejected(text):
    assert parse_prompt(text, max_chars=8).problem is PromptProblem.NO_HAN


@pytest.mark.parametrize(("text", "character"), [("春a", "a"), ("春1", "1"), ("春 天x", "x"), ("春はる", "は")])
def test_mixed_text_names_first_non_han(text, character):
    parsed = parse_prompt(text, max_chars=8)
    assert parsed.problem is PromptProblem.NOT_HAN
    assert parsed.not_han == character


def test_too_long_rejected():
    assert parse_prompt("一二三四五", max_chars=4).problem is PromptProblem.TOO_LONG
    assert parse_prompt("一二三四", max_chars=4).characters == "一二三四"
