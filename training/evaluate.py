"""Validation metrics: cross-entropy, bits per character and accuracy over whole songs.

Every song is scored the way generation uses the model: from a zero LSTM state,
with the end-of-song token as the first input, predicting each character of the
song and finally the end-of-song token. The same procedure scores the tutorial
recipe in the benchmarks, with its own separator, so the figures compare.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from model.checkpoint import METRIC_KEYS, Checkpoint
from training.dataset import EncodedSongs, encode_with_vocab

logger = logging.getLogger(__name__)

# songs per forward pass; songs are sorted by length first, so padding stays small
EVAL_BATCH_SONGS = 64


def autocast_context(device: torch.device, bf16: bool):
    """Return a bf16 autocast context for `device`, or a no-op one when bf16 is off."""
    if not bf16:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


@torch.no_grad()
def score_songs(
    model: nn.Module,
    songs: EncodedSongs,
    separator_id: int,
    *,
    device: torch.device | str = "cpu",
    bf16: bool = False,
    batch_songs: int = EVAL_BATCH_SONGS,
) -> dict[str, float]:
    """Return loss (nats per character), bpc, accuracy and the character count over `songs`.

    `model` is any module with forward(ids, state) -> (logits, state). It is
    switched to eval mode for the pass and back to its former mode after.
    """
    device = torch.device(device)
    was_training = model.training
    model.eval()

    lengths = songs.lengths
    order = torch.argsort(lengths, descending=True)
    total_loss = 0.0
    correct = 0
    count = 0

    try:
        for first in range(0, len(order), batch_songs):
            inputs, targets = _padded_batch(songs, order[first : first + batch_songs], separator_id)
            inputs = inputs.to(device, non_blocking=True)
            targets = targets.to(device, non_blocking=True)

            with autocast_context(device, bf16):
                logits, _ = model(inputs)  # (batch, time, vocab)
            logits = logits.float().flatten(0, 1)  # (batch * time, vocab)
            targets = targets.flatten()  # (batch * time,)

            total_loss += float(F.cross_entropy(logits, targets, ignore_index=-100, reduction="sum"))
            scored = targets != -100
            correct += int((logits.argmax(dim=-1)[scored] == targets[scored]).sum())
            count += int(scored.sum())
    finally:
        model.train(was_training)

    loss = total_loss / max(count, 1)
    return {
        "loss": loss,
        "bpc": loss / math.log(2),
        "accuracy": correct / max(count, 1),
        "characters": count,
    }


def checkpoint_metrics(scores: Mapping[str, Any]) -> dict[str, float]:
    """Return the loss, bpc and accuracy of `score_songs` under the checkpoint's METRIC_KEYS."""
    return dict(zip(METRIC_KEYS, (scores["loss"], scores["bpc"], scores["accuracy"]), strict=True))


def _padded_batch(songs: EncodedSongs, chosen: Tensor, separator_id: int) -> tuple[Tensor, Tensor]:
    """Build (inputs, targets), each (batch, longest), padded with the separator and -100."""
    lengths = songs.lengths[chosen]
    longest = int(lengths.max())
    inputs = torch.full((len(chosen), longest), separator_id, dtype=torch.long)
    targets = torch.full((len(chosen), longest), -100, dtype=torch.long)

    for row, (song, length) in enumerate(zip(chosen.tolist(), lengths.tolist(), strict=True)):
        start = int(songs.offsets[song])
        encoded = songs.ids[start : start + length]
        # input: separator, then the song without its own separator; target: the song with it
        inputs[row, 1:length] = encoded[:-1]
        targets[row, :length] = encoded
    return inputs, targets


def evaluate(
    checkpoint: Checkpoint,
    songs: Sequence[str],
    *,
    device: torch.device | str = "cpu",
    bf16: bool = False,
) -> dict[str, object]:
    """Score `checkpoint` on `songs` and count the characters its vocabulary lacks.

    Characters outside the vocabulary are scored as the unknown token, as in
    training, and reported through `unknown_characters` (their count) and
    `unknown_examples` (the most common ones with their counts).
    """
    vocab = checkpoint.vocab
    unknown = Counter(char for song in songs for char in song if char not in vocab)
    if unknown:
        logger.warning(
            "%d characters (%d distinct) are outside the vocabulary of checkpoint %s and count as unknown",
            sum(unknown.values()),
            len(unknown),
            checkpoint.version,
        )

    model = checkpoint.build_model(device=device)
    metrics = score_songs(model, encode_with_vocab(songs, vocab), vocab.eos_id, device=device, bf16=bf16)
    return {
        **metrics,
        "songs": len(songs),
        "unknown_characters": sum(unknown.values()),
        "unknown_examples": dict(unknown.most_common(10)),
    }
