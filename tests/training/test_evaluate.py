"""Validation metrics: exact values on a uniform model, unknown characters, agreement with training."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from model.checkpoint import Checkpoint, load_checkpoint
from model.network import CharLSTM, LSTMConfig
from model.vocab import Vocabulary
from training.dataset import encode_with_vocab, load_songs
from training.evaluate import evaluate, score_songs


def uniform_checkpoint(vocab: Vocabulary) -> Checkpoint:
    """Return a checkpoint whose output layer is all zeros, so every prediction is uniform."""
    model = CharLSTM(LSTMConfig(vocab_size=len(vocab), embedding_size=8, hidden_size=8, num_layers=1, dropout=0.0))
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
    return Checkpoint(
        model_state=model.state_dict(),
        model_config=model.config,
        vocab=vocab,
        train_config={},
        metrics={"val_loss": 0.0, "val_bpc": 0.0, "val_accuracy": 0.0},
        corpus_fingerprint="sha256:none",
        validation_songs=[0],
    )


def test_uniform_model_scores_log_vocab_size() -> None:
    songs = ["春风吹/月光明/", "花开/"]
    vocab = Vocabulary.build(songs, min_freq=1)
    scores = evaluate(uniform_checkpoint(vocab), songs)

    assert scores["loss"] == pytest.approx(math.log(len(vocab)), rel=1e-5)
    assert scores["bpc"] == pytest.approx(math.log2(len(vocab)), rel=1e-5)
    # every character of each song plus one end-of-song prediction per song
    assert scores["characters"] == len(songs[0]) + len(songs[1]) + 2
    assert scores["unknown_characters"] == 0


def test_unknown_characters_are_counted_and_named() -> None:
    vocab = Vocabulary.build(["春风吹/"], min_freq=1)
    scores = evaluate(uniform_checkpoint(vocab), ["春雨吹/", "雪风雪/"])

    assert scores["unknown_characters"] == 3
    assert scores["unknown_examples"] == {"雪": 2, "雨": 1}
    # unknown characters are scored as the unknown token, not dropped
    assert scores["characters"] == 10


def test_score_songs_restores_training_mode() -> None:
    vocab = Vocabulary.build(["春风/"], min_freq=1)
    model = uniform_checkpoint(vocab).build_model().train()
    score_songs(model, encode_with_vocab(["春风/"], vocab), vocab.eos_id)

    assert model.training


def test_score_songs_is_independent_of_batching() -> None:
    songs = ["春风吹过/", "月/", "花开花落又一年/", "山水/"]
    vocab = Vocabulary.build(songs, min_freq=1)
    torch.manual_seed(0)
    model = CharLSTM(LSTMConfig(vocab_size=len(vocab), embedding_size=8, hidden_size=16, num_layers=2, dropout=0.0))
    encoded = encode_with_vocab(songs, vocab)

    one_by_one = score_songs(model, encoded, vocab.eos_id, batch_songs=1)
    together = score_songs(model, encoded, vocab.eos_id, batch_songs=4)
    # padding must not change a song's score
    assert together["loss"] == pytest.approx(one_by_one["loss"], rel=1e-5)
    assert together["accuracy"] == one_by_one["accuracy"]


def test_evaluate_reproduces_the_training_metric(tiny_checkpoint: Path) -> None:
    checkpoint = load_checkpoint(tiny_checkpoint)
    songs = load_songs(tiny_checkpoint.parent / "lyrics.txt")
    scores = evaluate(checkpoint, [songs[i] for i in checkpoint.validation_songs])

    assert scores["loss"] == pytest.approx(checkpoint.metrics["val_loss"], rel=1e-5)
    assert scores["accuracy"] == pytest.approx(checkpoint.metrics["val_accuracy"])
