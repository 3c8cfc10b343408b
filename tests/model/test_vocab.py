"""Tests for the character vocabulary."""

from __future__ import annotations

import pytest

from model.vocab import EOS, SPECIAL_TOKENS, UNK, Vocabulary, is_han


def test_build_puts_specials_first_and_sorts():
    vocab = Vocabulary.build(["乙甲/", "甲丙/"], min_freq=1)

    assert vocab.to_list()[:2] == [UNK, EOS]
    assert vocab.characters() == sorted("乙甲/丙")
    assert vocab.unk_id == 0
    assert vocab.eos_id == 1


def test_build_is_deterministic_across_song_order():
    songs = ["春风/", "秋月/", "春雨/"]

    first = Vocabulary.build(songs, min_freq=1)
    second = Vocabulary.build(reversed(songs), min_freq=1)

    assert first == second


def test_build_applies_min_freq():
    vocab = Vocabulary.build(["春春春风/", "风秋/"], min_freq=2)

    assert "春" in vocab
    assert "风" in vocab
    assert "/" in vocab
    assert "秋" not in vocab
    assert vocab.encode("秋") == [vocab.unk_id]


def test_build_ignores_line_breaks():
    vocab = Vocabulary.build(["春风/\n", "秋月/\r\n"], min_freq=1)

    assert "\n" not in vocab
    assert "\r" not in vocab


def test_slash_is_ordinary_character():
    vocab = Vocabulary.build(["春/"], min_freq=1)

    assert "/" in vocab
    assert vocab.index("/") not in vocab.special_ids


@pytest.mark.parametrize("min_freq", [0, -1, 1.5, True, "2"])
def test_build_rejects_invalid_min_freq(min_freq):
    with pytest.raises(ValueError, match="min_freq"):
        Vocabulary.build(["春/"], min_freq=min_freq)


def test_build_rejects_empty_corpus():
    with pytest.raises(ValueError, match="no character"):
        Vocabulary.build([], min_freq=1)


def test_encode_decode_round_trip(tiny_vocab):
    text = "春风吹过小山/"

    ids = tiny_vocab.encode(text)

    assert tiny_vocab.decode(ids) == text
    assert all(0 <= i < len(tiny_vocab) for i in ids)


def test_unknown_character_encodes_as_unk(tiny_vocab):
    ids = tiny_vocab.encode("春龘")

    assert ids[1] == tiny_vocab.unk_id
    assert "龘" not in tiny_vocab


def test_decode_skips_special_tokens_on_request(tiny_vocab):
    ids = [tiny_vocab.index("春"), tiny_vocab.unk_id, tiny_vocab.eos_id]

    assert tiny_vocab.decode(ids) == "春" + UNK + EOS
    assert tiny_vocab.decode(ids, skip_special=True) == "春"


def test_list_round_trip(tiny_vocab):
    restored = Vocabulary.from_list(tiny_vocab.to_list())

    assert restored == tiny_vocab
    assert len(restored) == len(tiny_vocab)
    assert restored.encode("春风/") == tiny_vocab.encode("春风/")


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["春", UNK, EOS], "special tokens"),
        ([UNK, EOS, "春", "春"], "repeats"),
        ([UNK, EOS, "春风"], "one character"),
        ([UNK, EOS, 7], "one character"),
        ([UNK, EOS, "\n"], "line break"),
    ],
)
def test_from_list_rejects_malformed(items, message):
    with pytest.raises(ValueError, match=message):
        Vocabulary.from_list(items)


def test_special_ids_cover_all_specials(tiny_vocab):
    assert sorted(tiny_vocab.special_ids) == sorted(tiny_vocab.index(t) for t in SPECIAL_TOKENS)


def test_is_han_agrees_with_corpus_preparation():
    # a prompt character is Han exactly when `data prepare` would keep it in lyrics.txt
    from data.charset import HAN_CHAR

    samples = [chr(cp) for cp in range(0x3000, 0xA000)] + [chr(cp) for cp in range(0x20000, 0x31400, 97)]
    samples += ["〇", "々", "a", "/", "。", "가", "あ", "\U0002a700"]
    mismatched = [c for c in samples if is_han(c) != bool(HAN_CHAR.fullmatch(c))]
    assert mismatched == []
