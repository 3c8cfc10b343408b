"""Our re-implementation of the tutorial recipe that the product must beat.

The recipe works as follows. Every character of lyrics.txt, line breaks
included, gets an index from a vocabulary rebuilt at each start. Samples are
windows of 48 characters, and the target is the window shifted by one; a
Dataset serves them one Python sample at a time. The network is
Embedding(128), a 2-layer LSTM, Linear, Linear(vocab). Training uses Adam at
1e-3, batch 32, cross-entropy and float32, with no gradient clipping and a
zero state for every batch.

One choice is ours: the recipe names Linear(1024) after an LSTM of 1024. When
the benchmarks shrink the LSTM, the extra layer shrinks with it
(`extra_size = hidden_size`), which makes the smaller recipe faster and so a
harder baseline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset

from training.dataset import encode_songs
from training.evaluate import score_songs

RECIPE_WINDOW = 48
RECIPE_BATCH = 32
RECIPE_LR = 1e-3
RECIPE_EMBEDDING = 128


class RecipeVocab:
    """Every distinct character of the file, sorted, rebuilt from the data at each start."""

    def __init__(self, text: str) -> None:
        self.chars = sorted(set(text))
        self.index = {char: i for i, char in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        return [self.index[char] for char in text]


class RecipeWindows(Dataset):
    """Windows of 48 characters at every position of the text, one sample per __getitem__."""

    def __init__(self, ids: list[int], window: int = RECIPE_WINDOW) -> None:
        self.ids = ids
        self.window = window

    def __len__(self) -> int:
        return len(self.ids) - self.window

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        x = torch.tensor(self.ids[i : i + self.window])
        y = torch.tensor(self.ids[i + 1 : i + self.window + 1])
        return x, y


class RecipeNet(nn.Module):
    """Embedding(128), 2-layer LSTM, Linear(extra), Linear(vocab)."""

    def __init__(self, vocab_size: int, hidden_size: int = 1024, extra_size: int | None = None) -> None:
        super().__init__()
        extra_size = extra_size or hidden_size
        self.embedding = nn.Embedding(vocab_size, RECIPE_EMBEDDING)
        self.lstm = nn.LSTM(RECIPE_EMBEDDING, hidden_size, num_layers=2, batch_first=True)
        self.extra = nn.Linear(hidden_size, extra_size)
        self.out = nn.Linear(extra_size, vocab_size)

    def forward(self, ids: Tensor, state=None):
        x, state = self.lstm(self.embedding(ids), state)  # (batch, time, hidden)
        return self.out(self.extra(x)), state  # (batch, time, vocab)


@dataclass
class RecipeRun:
    """Measurements of a timed recipe run: the evaluation curve and the throughput."""

    hidden_size: int
    vocab_size: int
    # (training seconds, training characters, validation loss) at each evaluation
    curve: list[tuple[float, int, float]] = field(default_factory=list)
    train_time_s: float = 0.0
    train_chars: int = 0
    steps: int = 0
    last_loss: float = float("nan")

    @property
    def chars_per_s(self) -> float:
        return self.train_chars / self.train_time_s if self.train_time_s else 0.0

    @classmethod
    def from_dict(cls, saved: dict) -> RecipeRun:
        """Rebuild a run from the "recipe" part of a saved benchmark result."""
        return cls(
            hidden_size=saved["hidden_size"],
            vocab_size=saved["vocab_size"],
            curve=[tuple(point) for point in saved["curve"]],
            train_time_s=saved["train_time_s"],
            train_chars=saved.get("train_chars", saved["curve"][-1][1]),
            steps=saved.get("steps", 0),
        )

    @property
    def final_val_loss(self) -> float:
        return self.curve[-1][2] if self.curve else float("nan")


def train_recipe(
    songs: Sequence[str],
    train_ids: Sequence[int],
    val_ids: Sequence[int],
    *,
    hidden_size: int,
    seconds: float,
    eval_every_s: float | None = None,
    max_steps: int | None = None,
    warmup_steps: int = 0,
    final_eval: bool = True,
    seed: int = 0,
    device: str = "cpu",
    on_eval: Callable[[float, float], None] | None = None,
) -> RecipeRun:
    """Train the recipe on the training songs for `seconds` of training time, scoring the validation songs.

    Evaluation time is not counted, nor are the first `warmup_steps` steps
    (one-off allocation and import costs). The validation songs are scored with the
    product's procedure (training.evaluate.score_songs), with "\\n" as the song
    separator, so the losses compare with the product's.
    """
    torch.manual_seed(seed)
    text = "".join(song + "\n" for song in songs)
    vocab = RecipeVocab(text)
    train_text = "".join(songs[i] + "\n" for i in train_ids)
    loader = DataLoader(RecipeWindows(vocab.encode(train_text)), batch_size=RECIPE_BATCH, shuffle=True)
    newline = vocab.index["\n"]
    val_songs = encode_songs([songs[i] for i in val_ids], vocab.encode, newline)

    model = RecipeNet(len(vocab), hidden_size).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=RECIPE_LR)
    run = RecipeRun(hidden_size=hidden_size, vocab_size=len(vocab))
    last_eval = 0.0

    def evaluate() -> None:
        loss = score_songs(model, val_songs, newline, device=device)["loss"]
        run.curve.append((round(run.train_time_s, 3), run.train_chars, loss))
        if on_eval is not None:
            on_eval(run.train_time_s, loss)

    done = False
    warmup_left = warmup_steps
    while not done:
        started = time.perf_counter()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits, _ = model(x)
            loss = F.cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            # reading the loss waits for the device, as the product's loop does each step
            run.last_loss = loss.item()

            if warmup_left:
                warmup_left -= 1
                started = time.perf_counter()
                continue

            # the clock covers data loading too, as it does for the product
            now = time.perf_counter()
            run.train_time_s += now - started
            run.train_chars += x.numel()
            run.steps += 1
            if run.train_time_s >= seconds or (max_steps and run.steps >= max_steps):
                done = True
                break
            if eval_every_s and run.train_time_s - last_eval >= eval_every_s:
                last_eval = run.train_time_s
                evaluate()
            started = time.perf_counter()

    if final_eval:
        evaluate()
    return run
