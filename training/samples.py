"""A few sample lines during training, to see what the model writes at this point.

This is a minimal sampler for the training log only; the product's generation
(acrostics, top-p, traditional characters) lives in model.generate.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from model.network import CharLSTM
from model.vocab import Vocabulary

SAMPLE_TEMPERATURE = 0.8
SAMPLE_MAX_LENGTH = 30


@torch.no_grad()
def sample_lines(
    model: CharLSTM,
    vocab: Vocabulary,
    starts: Sequence[str],
    *,
    seed: int = 0,
    temperature: float = SAMPLE_TEMPERATURE,
    max_length: int = SAMPLE_MAX_LENGTH,
) -> list[str]:
    """Sample one line per start character, each ending at the first "/" or cut at `max_length`."""
    was_training = model.training
    model.eval()
    device = model.head.weight.device
    generator = torch.Generator(device=device).manual_seed(seed)
    slash = vocab.index("/")

    # the end-of-song token primes the state, as at the start of a song in training
    ids = torch.tensor([vocab.eos_id] * len(starts), device=device)
    _, state = model.step(ids, model.initial_state(len(starts), device=device))
    ids = torch.tensor([vocab.index(char) for char in starts], device=device)
    lines = [[char] for char in starts]
    finished = [False] * len(starts)

    try:
        for _ in range(max_length - 1):
            logits, state = model.step(ids, state)  # (batch, vocab)
            logits = logits.float() / temperature
            logits[:, vocab.special_ids] = float("-inf")
            ids = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator).squeeze(1)

            for row, index in enumerate(ids.tolist()):
                if not finished[row]:
                    lines[row].append(vocab.decode([index]))
                    finished[row] = index == slash
            if all(finished):
                break
    finally:
        model.train(was_training)

    return ["".join(line) if line[-1] == "/" else "".join(line) + "/" for line in lines]


def pick_start_characters(vocab: Vocabulary, songs: Sequence[str], count: int = 4) -> list[str]:
    """Return up to `count` distinct first characters of `songs` that the vocabulary contains."""
    starts: list[str] = []
    for song in songs:
        char = song[:1]
        if char and char in vocab and char not in starts:
            starts.append(char)
        if len(starts) == count:
            break
    return starts
