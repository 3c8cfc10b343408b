"""Tiny vocabularies, networks and checkpoints built in place for the model tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch

from model.checkpoint import Checkpoint
from model.network import CharLSTM, LSTMConfig
from model.vocab import Vocabulary

# Made-up lines in the lyrics.txt shape; no real lyrics belong in fixtures.
TINY_SONGS = [
    "春风吹过小山/月光照在河上/",
    "春天来了花开/夜里听见雨声/",
    "风起云飞远方/山高水长路远/",
    "花落月明人静/河边灯火闪亮/",
]


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread inside the block, restoring the previous count after it.

    Tiny models gain nothing from a second thread, and on a busy 2-core machine
    two OpenMP threads made the tiny training below about ten times slower.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def _single_thread() -> Iterator[None]:
    with one_thread():
        yield


@pytest.fixture
def tiny_vocab() -> Vocabulary:
    """Return a vocabulary of every character in TINY_SONGS."""
    return Vocabulary.build(TINY_SONGS, min_freq=1)


def build_tiny_model(vocab: Vocabulary, *, seed: int = 0, projection_size: int = 0) -> CharLSTM:
    """Build a small randomly initialised network for `vocab`."""
    torch.manual_seed(seed)
    config = LSTMConfig(
        vocab_size=len(vocab),
        embedding_size=16,
        hidden_size=32,
        num_layers=2,
        dropout=0.0,
        projection_size=projection_size,
    )
    return CharLSTM(config).eval()


def wrap_checkpoint(vocab: Vocabulary, model: CharLSTM, **overrides) -> Checkpoint:
    """Wrap `model` in a checkpoint with plausible training records."""
    values = dict(
        model_state=model.state_dict(),
        model_config=model.config,
        vocab=vocab,
        train_config={"preset": "test", "lr": 0.001, "batch_size": 4},
        metrics={"val_loss": 2.5, "val_bpc": 2.5 / 0.6931471805599453, "val_accuracy": 0.3},
        corpus_fingerprint="sha256:test",
        validation_songs=[1, 3],
    )
    values.update(overrides)
    return Checkpoint(**values)


@pytest.fixture
def tiny_checkpoint(tiny_vocab: Vocabulary) -> Checkpoint:
    """Return a checkpoint of a random tiny network."""
    return wrap_checkpoint(tiny_vocab, build_tiny_model(tiny_vocab))


@pytest.fixture
def make_model():
    """Return the tiny network factory, so tests need not import conftest."""
    return build_tiny_model


@pytest.fixture
def make_checkpoint():
    """Return the checkpoint factory, so tests need not import conftest."""
    return wrap_checkpoint


@pytest.fixture
def tiny_songs() -> list[str]:
    return list(TINY_SONGS)


def train_tiny_model(vocab: Vocabulary, songs: list[str], *, steps: int = 150, seed: int = 0) -> CharLSTM:
    """Fit a tiny network to `songs` with real Adam steps.

    Each row reads all songs in a rotated order, each after an end-of-song
    token, from a zero state. So the model learns both the first song of a
    stream and songs that follow another, as in real training.
    """
    torch.manual_seed(seed)
    config = LSTMConfig(vocab_size=len(vocab), embedding_size=16, hidden_size=48, num_layers=2, dropout=0.0)
    model = CharLSTM(config).train()
    rows = []
    for shift in range(len(songs)):
        stream = []
        for song in songs[shift:] + songs[:shift]:
            stream += [vocab.eos_id, *vocab.encode(song)]
        rows.append(stream + [vocab.eos_id])
    rows = torch.tensor(rows)
    inputs, targets = rows[:, :-1], rows[:, 1:]  # (songs, time)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)

    with one_thread():
        for _ in range(steps):
            logits, _ = model(inputs)  # (songs, time, vocab)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), targets.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


@pytest.fixture(scope="session")
def trained_checkpoint() -> Checkpoint:
    """Return a checkpoint of a tiny network fitted to TINY_SONGS, shared by the whole session."""
    vocab = Vocabulary.build(TINY_SONGS, min_freq=1)
    return wrap_checkpoint(vocab, train_tiny_model(vocab, TINY_SONGS))
