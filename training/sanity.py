"""The overfit-one-batch check: a healthy model and loop memorise two samples quickly."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch

from model.network import CharLSTM
from model.vocab import Vocabulary
from training.config import TrainConfig
from training.dataset import encode_with_vocab, first_batch_rows, load_songs
from training.loop import TrainingError, make_optimizer, pick_device, training_step

logger = logging.getLogger(__name__)

# The check passes once the loss on the two samples falls below this many nats
# per character. The tiny preset got there in about 150 steps on a 300-song corpus.
OVERFIT_TARGET_LOSS = 0.05
OVERFIT_MAX_STEPS = 500
OVERFIT_SAMPLES = 2


class OverfitFailed(TrainingError):
    """The loss on one tiny batch did not fall to near zero."""


@dataclass(frozen=True)
class OverfitReport:
    """Outcome of a passing check."""

    steps: int
    first_loss: float
    final_loss: float


def overfit_batch(
    config: TrainConfig,
    data: str | os.PathLike[str],
    *,
    target_loss: float = OVERFIT_TARGET_LOSS,
    max_steps: int = OVERFIT_MAX_STEPS,
) -> OverfitReport:
    """Train the configured model on two samples of the first batch until the loss is near zero.

    Dropout is switched off and the learning rate held constant, so nothing
    but a fault in the model, the loss or the data can keep the loss up.
    Raises OverfitFailed with the losses reached when it stays above `target_loss`.
    """
    torch.manual_seed(config.seed)
    device = pick_device(config.device)
    songs = load_songs(data)
    vocab = Vocabulary.build(songs, min_freq=1)
    inputs, targets = first_batch_rows(encode_with_vocab(songs, vocab), rows=OVERFIT_SAMPLES, seq_len=config.seq_len)

    model = CharLSTM(config.with_overrides(dropout=0.0).model_config(len(vocab))).to(device).train()
    optimizer = make_optimizer(model, config.with_overrides(weight_decay=0.0), device)

    first_loss = None
    loss = float("inf")
    for step in range(1, max_steps + 1):
        # a zero state every step: the same two windows are learned again and again
        loss, _ = training_step(model, optimizer, inputs, targets, None, device=device, bf16=config.bf16,
                                grad_clip=config.grad_clip)
        first_loss = loss if first_loss is None else first_loss
        if step % 50 == 0:
            logger.info("overfit step %d: loss %.4f", step, loss)
        if loss < target_loss:
            logger.info("overfit check passed: loss %.4f after %d steps (from %.4f)", loss, step, first_loss)
            return OverfitReport(steps=step, first_loss=first_loss, final_loss=loss)

    raise OverfitFailed(
        f"the loss on {OVERFIT_SAMPLES} samples of {config.seq_len} characters only fell from {first_loss:.4f} "
        f"to {loss:.4f} in {max_steps} steps (target below {target_loss}). A model that cannot memorise two "
        "samples has a fault: check the learning rate, the shift between inputs and targets, and that "
        "gradients reach every layer"
    )
