"""The corpus as one index tensor: loading, the split by song, the fingerprint and the batches."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from model.vocab import Vocabulary
from training.dataset import (
    DatasetError,
    RandomWindows,
    StreamBatches,
    corpus_fingerprint,
    encode_with_vocab,
    first_batch_rows,
    load_songs,
    split_songs,
)


def test_load_songs_skips_blank_lines_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "lyrics.txt"
    path.write_bytes("\ufeff春风来/花开了/\r\n\r\n月光明/\r\n".encode())

    assert load_songs(path) == ["春风来/花开了/", "月光明/"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "no songs"),
        (b"\n\n  \n", "no songs"),
        ("春风来/\n花开了\n".encode(), "line 2 does not end with '/'"),
        ("春风来/\n".encode("utf-16"), "not UTF-8"),
    ],
)
def test_load_songs_rejects_bad_file(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "lyrics.txt"
    path.write_bytes(content)

    with pytest.raises(DatasetError) as caught:
        load_songs(path)
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)


def test_load_songs_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="file not found.*python -m data prepare"):
        load_songs(tmp_path / "absent.txt")


def test_split_songs_is_seeded_and_disjoint() -> None:
    train, val = split_songs(100, seed=5, val_fraction=0.1)

    assert len(val) == 10
    assert sorted(train + val) == list(range(100))
    assert not set(train) & set(val)
    assert split_songs(100, seed=5, val_fraction=0.1) == (train, val)
    assert split_songs(100, seed=6, val_fraction=0.1)[1] != val


def test_split_songs_keeps_one_song_each_side() -> None:
    assert split_songs(2, seed=0, val_fraction=0.01)[1] != []
    assert len(split_songs(3, seed=0, val_fraction=0.99)[0]) == 1

    with pytest.raises(ValueError, match="at least 2 songs"):
        split_songs(1, seed=0, val_fraction=0.1)
    with pytest.raises(ValueError, match="val_fraction"):
        split_songs(10, seed=0, val_fraction=1.0)


def test_corpus_fingerprint_follows_content(tmp_path: Path) -> None:
    first = tmp_path / "a.txt"
    second = tmp_path / "b.txt"
    first.write_text("春风来/\n", encoding="utf-8")
    second.write_text("春风来/\n", encoding="utf-8")

    assert corpus_fingerprint(first) == corpus_fingerprint(second)
    assert corpus_fingerprint(first).startswith("sha256:")

    second.write_text("春风去/\n", encoding="utf-8")
    assert corpus_fingerprint(first) != corpus_fingerprint(second)


def test_encoded_songs_is_one_tensor_with_offsets() -> None:
    songs = ["春风/", "月/", "花开了/"]
    vocab = Vocabulary.build(songs, min_freq=1)
    encoded = encode_with_vocab(songs, vocab)

    assert encoded.ids.dtype == torch.long
    assert encoded.ids.dim() == 1
    assert encoded.offsets.tolist() == [0, 4, 7, 12]
    assert encoded.ids[3].item() == vocab.eos_id
    assert vocab.decode(encoded.ids[4:6].tolist()) == "月/"


def test_select_keeps_the_given_order() -> None:
    songs = ["春风/", "月/", "花开了/"]
    vocab = Vocabulary.build(songs, min_freq=1)
    chosen = encode_with_vocab(songs, vocab).select([2, 0])

    assert len(chosen) == 2
    assert chosen.lengths.tolist() == [5, 4]
    assert vocab.decode(chosen.ids.tolist(), skip_special=True) == "花开了/春风/"


def test_stream_rows_continue_from_batch_to_batch() -> None:
    songs = ["春风吹过小山/月光照在河上/"] * 20
    vocab = Vocabulary.build(songs, min_freq=1)
    batches = StreamBatches(encode_with_vocab(songs, vocab), batch_size=4, seq_len=8, seed=1)

    pairs = list(batches.epoch(0))
    assert len(pairs) == batches.steps_per_epoch
    for (inputs, targets), (next_inputs, _) in zip(pairs, pairs[1:], strict=False):
        assert inputs.shape == (4, 8)
        # the target of a window's last position is the next window's first input
        assert torch.equal(targets[:, -1], next_inputs[:, 0])
        # targets are the inputs shifted by one
        assert torch.equal(targets[:, :-1], inputs[:, 1:])


def test_stream_epochs_shuffle_songs_reproducibly() -> None:
    songs = [f"{char}风吹/" for char in "春夏秋冬山水云天日月"]
    vocab = Vocabulary.build(songs, min_freq=1)
    encoded = encode_with_vocab(songs, vocab)

    def first_rows(seed: int, epoch: int) -> list[list[int]]:
        batches = StreamBatches(encoded, batch_size=2, seq_len=5, seed=seed)
        return [inputs.tolist() for inputs, _ in batches.epoch(epoch)]

    assert first_rows(1, 0) == first_rows(1, 0)
    assert first_rows(1, 0) != first_rows(1, 1)
    assert first_rows(1, 0) != first_rows(2, 0)


def test_stream_covers_every_training_character() -> None:
    songs = [f"{char}{char}风/" for char in "春夏秋冬山水"]
    vocab = Vocabulary.build(songs, min_freq=1)
    batches = StreamBatches(encode_with_vocab(songs, vocab), batch_size=1, seq_len=4, seed=0)

    seen = torch.cat([inputs.flatten() for inputs, _ in batches.epoch(0)])
    # one row: every index but the very last of the stream is an input
    assert seen.numel() == sum(len(song) + 1 for song in songs) - 1
    for char in "春夏秋冬山水":
        assert (seen == vocab.index(char)).sum().item() == 2


def test_stream_resumes_mid_epoch() -> None:
    songs = ["春风吹过小山/月光照在河上/"] * 10
    vocab = Vocabulary.build(songs, min_freq=1)
    batches = StreamBatches(encode_with_vocab(songs, vocab), batch_size=2, seq_len=6, seed=3)

    whole = [inputs for inputs, _ in batches.epoch(2)]
    tail = [inputs for inputs, _ in batches.epoch(2, start_step=3)]
    assert len(tail) == len(whole) - 3
    assert all(torch.equal(a, b) for a, b in zip(whole[3:], tail, strict=True))


def test_stream_of_short_corpus_uses_fewer_rows() -> None:
    songs = ["春风/"]
    vocab = Vocabulary.build(songs, min_freq=1)
    batches = StreamBatches(encode_with_vocab(songs, vocab), batch_size=64, seq_len=2, seed=0)

    inputs, targets = next(iter(batches.epoch(0)))
    assert inputs.shape[0] == 1
    assert targets.shape == inputs.shape


def test_first_batch_rows_rejects_short_corpus() -> None:
    songs = ["春风/"]
    vocab = Vocabulary.build(songs, min_freq=1)

    with pytest.raises(ValueError, match="need"):
        first_batch_rows(encode_with_vocab(songs, vocab), rows=2, seq_len=16)


def test_random_windows_are_shifted_pairs() -> None:
    songs = [f"{char}风吹过小山/月光照在河上/" for char in "春夏秋冬山水云天"]
    vocab = Vocabulary.build(songs, min_freq=1)
    windows = RandomWindows(encode_with_vocab(songs, vocab), batch_size=4, seq_len=8, seed=1)

    batches = list(windows.epoch(0))
    assert len(batches) == windows.steps_per_epoch
    for inputs, targets in batches:
        assert inputs.shape[1] == 8
        assert torch.equal(targets[:, :-1], inputs[:, 1:])
    assert sum(inputs.shape[0] for inputs, _ in batches) == windows.windows


def test_random_windows_are_seeded_per_epoch() -> None:
    songs = [f"{char}风吹过小山/" for char in "春夏秋冬山水云天"]
    vocab = Vocabulary.build(songs, min_freq=1)
    encoded = encode_with_vocab(songs, vocab)

    def first(seed: int, epoch: int) -> list[list[int]]:
        windows = RandomWindows(encoded, batch_size=2, seq_len=4, seed=seed)
        return next(iter(windows.epoch(epoch)))[0].tolist()

    assert first(1, 0) == first(1, 0)
    assert first(1, 0) != first(1, 1)
    assert first(1, 0) != first(2, 0)


def test_random_windows_of_tiny_corpus_shrink() -> None:
    songs = ["春风/"]
    vocab = Vocabulary.build(songs, min_freq=1)
    windows = RandomWindows(encode_with_vocab(songs, vocab), batch_size=8, seq_len=64, seed=0)

    inputs, targets = next(iter(windows.epoch(0)))
    assert inputs.shape == (1, 3)
    assert targets.shape == (1, 3)
