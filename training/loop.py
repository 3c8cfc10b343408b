"""The training loop: truncated backpropagation through time over the corpus stream.

`train` is the one entry point, for a fresh run, a resumed run (`resume`) and a
retraining run that starts from an existing model (`init_checkpoint`). Each
step reads in order: learning rate, forward, backward, clip, optimizer step,
then evaluation, checkpoints and samples when they are due.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F
from tqdm import tqdm

from model.checkpoint import METRIC_KEYS, Checkpoint, load_checkpoint, save_checkpoint
from model.network import CharLSTM, LSTMState
from model.vocab import Vocabulary
from training.config import TrainConfig
from training.dataset import (
    RandomWindows,
    StreamBatches,
    corpus_fingerprint,
    encode_with_vocab,
    load_songs,
    split_songs,
)
from training.evaluate import autocast_context, checkpoint_metrics, score_songs
from training.metrics import MetricsLog
from training.samples import pick_start_characters, sample_lines

logger = logging.getLogger(__name__)

LAST_NAME = "last.pt"
BEST_NAME = "best.pt"
METRICS_NAME = "metrics.jsonl"


class TrainingError(RuntimeError):
    """A run that cannot start or continue; the message gives the reason and the fix."""


class TrainingDiverged(TrainingError):
    """The loss became NaN or infinite."""


@dataclass(frozen=True)
class TrainProgress:
    """A snapshot of a run for progress callbacks, such as the bot's retraining status."""

    step: int
    epoch: int
    # share of the budget used, 0 to 1
    fraction: float
    elapsed_s: float
    train_loss: float | None
    val_loss: float | None
    best_val_loss: float | None


ProgressCallback = Callable[[TrainProgress], None]


def pick_device(name: str) -> torch.device:
    """Return the torch device for "auto", "cpu" or "cuda[:N]"; auto prefers CUDA when present."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise TrainingError(f"device {name!r} was requested but CUDA is not available; use --device cpu or auto")
    return device


def train(
    config: TrainConfig,
    *,
    data: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    resume: str | os.PathLike[str] | None = None,
    init_checkpoint: Checkpoint | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress_bar: bool = True,
) -> Checkpoint:
    """Train on `data` and return the checkpoint with the best validation loss.

    Writes `out_dir/last.pt` after each epoch and at the end, `out_dir/best.pt`
    on each improvement and `out_dir/metrics.jsonl` throughout. With `resume`,
    the run continues from that checkpoint's step, optimizer and split, and
    raises TrainingError when the corpus fingerprint differs. With
    `init_checkpoint`, training starts from its weights, vocabulary and
    validation songs with a fresh optimizer, which is what retraining needs.
    `should_stop` is polled every step; returning True ends the run as if the
    budget were spent. Ctrl-C writes last.pt, then re-raises KeyboardInterrupt.
    """
    if resume is not None and init_checkpoint is not None:
        raise ValueError("pass either resume or init_checkpoint, not both")

    run = _Run.prepare(config, Path(data), Path(out_dir), resume, init_checkpoint)
    return run.execute(on_progress=on_progress, should_stop=should_stop, progress_bar=progress_bar)


@dataclass
class _Counters:
    """Progress counters of a run, saved in last.pt so that a resumed run continues from them."""

    step: int = 0
    epoch: int = 0
    epoch_step: int = 0
    elapsed_s: float = 0.0
    train_time_s: float = 0.0
    train_chars: int = 0
    best_val_loss: float = math.inf
    bad_evals: int = 0
    last_metrics: dict[str, float] = field(default_factory=lambda: dict.fromkeys(METRIC_KEYS, math.nan))


class _Run:
    """One training run: data, model, optimizer and counters, with the methods that advance them."""

    def __init__(self, **parts: Any) -> None:
        self.__dict__.update(parts)

    # set-up

    @classmethod
    def prepare(
        cls,
        config: TrainConfig,
        data: Path,
        out_dir: Path,
        resume: str | os.PathLike[str] | None,
        init_checkpoint: Checkpoint | None,
    ) -> _Run:
        """Load the corpus, build or restore the model and optimizer, and open the metrics log."""
        if config.threads:
            torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)
        device = pick_device(config.device)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True

        songs = load_songs(data)
        fingerprint = corpus_fingerprint(data)
        resumed = _load_resume(Path(resume), fingerprint, data) if resume is not None else None
        source = resumed or init_checkpoint

        # the vocabulary and the split come from the checkpoint when there is one, so
        # that a continued model keeps its indices and is judged on the same songs
        if source is not None:
            vocab = source.vocab
            model_config = source.model_config
            val_ids = _checked_validation_songs(source.validation_songs, len(songs))
            val_set = set(val_ids)
            train_ids = [i for i in range(len(songs)) if i not in val_set]
        else:
            train_ids, val_ids = split_songs(len(songs), seed=config.seed, val_fraction=config.val_fraction)
            vocab = Vocabulary.build((songs[i] for i in train_ids), min_freq=config.min_freq)
            model_config = config.model_config(len(vocab))
        if not train_ids:
            raise TrainingError(f"{data}: every song is in the validation split; add songs to the corpus")

        encoded = encode_with_vocab(songs, vocab)
        train_songs = encoded.select(train_ids)
        val_songs = encoded.select(val_ids)
        sampler = StreamBatches if config.sampling == "stream" else RandomWindows
        batches = sampler(train_songs, batch_size=config.batch_size, seq_len=config.seq_len, seed=config.seed)

        model = CharLSTM(model_config)
        if source is not None:
            model.load_state_dict(source.model_state)
        model.to(device).train()
        optimizer = make_optimizer(model, config, device)

        counters = _Counters()
        if resumed is not None:
            state = resumed.training_state
            optimizer.load_state_dict(state["optimizer"])
            counters = _counters_from_state(state)
            if "rng" in state:
                torch.set_rng_state(state["rng"])

        out_dir.mkdir(parents=True, exist_ok=True)
        metrics = MetricsLog(out_dir / METRICS_NAME, tensorboard_dir=out_dir / "tensorboard")
        logger.info(
            "run in %s: %d training songs (%d characters), %d validation songs, vocabulary %d, "
            "model %s with %d parameters on %s, %d steps per epoch",
            out_dir,
            len(train_ids),
            train_songs.ids.numel(),
            len(val_ids),
            len(vocab),
            model_config,
            model.num_parameters(),
            device,
            batches.steps_per_epoch,
        )
        metrics.write(
            "start",
            step=counters.step,
            config=config.to_dict(),
            data=str(data),
            corpus_fingerprint=fingerprint,
            vocab_size=len(vocab),
            train_songs=len(train_ids),
            val_songs=len(val_ids),
            resumed_from=str(resume) if resume is not None else None,
        )

        return cls(
            config=config,
            data=data,
            out_dir=out_dir,
            device=device,
            fingerprint=fingerprint,
            vocab=vocab,
            model_config=model_config,
            model=model,
            optimizer=optimizer,
            batches=batches,
            val_songs=val_songs,
            val_ids=val_ids,
            sample_starts=pick_start_characters(vocab, [songs[i] for i in val_ids]),
            counters=counters,
            metrics=metrics,
            best=None,
            evaluated_step=-1,
            saved_step=-1,
        )

    # the loop

    def execute(
        self,
        *,
        on_progress: ProgressCallback | None,
        should_stop: Callable[[], bool] | None,
        progress_bar: bool,
    ) -> Checkpoint:
        """Run epochs until the budget is spent or early stopping ends the run; return the best checkpoint."""
        config, counters = self.config, self.counters
        bar = tqdm(total=100, unit="%", desc="training", disable=not progress_bar, leave=False)
        bar.update(round(100 * self.fraction()))
        self.on_progress = on_progress
        started = time.perf_counter() - counters.elapsed_s
        last_eval_time = counters.train_time_s
        state = None
        train_loss: float | None = None
        stop_reason = "epochs done"

        try:
            while counters.epoch < config.epochs:
                for inputs, targets in self.batches.epoch(counters.epoch, start_step=counters.epoch_step,
                                                          device=self.device):
                    # learning rate for this step
                    lr = self.learning_rate()
                    for group in self.optimizer.param_groups:
                        group["lr"] = lr

                    # forward, backward, clip, step
                    step_started = time.perf_counter()
                    loss, state = self.train_step(inputs, targets, state)
                    if not self.batches.carries_state:
                        state = None
                    counters.train_time_s += time.perf_counter() - step_started
                    counters.step += 1
                    counters.epoch_step += 1
                    counters.train_chars += inputs.numel()
                    counters.elapsed_s = time.perf_counter() - started
                    if not math.isfinite(loss):
                        raise TrainingDiverged(_divergence_advice(loss, counters.step, lr))
                    train_loss = loss if train_loss is None else 0.98 * train_loss + 0.02 * loss

                    # one progress line
                    self._advance_bar(bar, train_loss)
                    if counters.step % 50 == 0:
                        self.metrics.write("train", step=counters.step, loss=train_loss, lr=lr,
                                           train_time_s=counters.train_time_s, train_chars=counters.train_chars)
                        self.report(train_loss)

                    # evaluation, samples and stopping when due
                    if self.eval_due(last_eval_time):
                        last_eval_time = counters.train_time_s
                        if self.evaluate_and_keep_best(train_loss):
                            stop_reason = "early stopping"
                            return self.finish(stop_reason)
                    if config.sample_every_steps and counters.step % config.sample_every_steps == 0:
                        self.write_samples()
                    if self.budget_spent() or (should_stop is not None and should_stop()):
                        stop_reason = "budget spent" if self.budget_spent() else "stop requested"
                        return self.finish(stop_reason)

                # end of epoch: evaluate and write last.pt
                counters.epoch += 1
                counters.epoch_step = 0
                state = None
                last_eval_time = counters.train_time_s
                if self.evaluate_and_keep_best(train_loss):
                    stop_reason = "early stopping"
                    return self.finish(stop_reason)
                self.save_last()

            return self.finish(stop_reason)
        except KeyboardInterrupt:
            logger.warning("interrupted at step %d; saving %s before exiting", counters.step, self.out_dir / LAST_NAME)
            self.save_last()
            self.metrics.write("interrupted", step=counters.step)
            raise
        finally:
            bar.close()
            self.metrics.close()

    def train_step(self, inputs: Tensor, targets: Tensor, state: LSTMState | None):
        """Run one optimizer step on a batch with this run's settings."""
        config = self.config
        return training_step(
            self.model,
            self.optimizer,
            inputs,
            targets,
            state,
            device=self.device,
            bf16=config.bf16,
            grad_clip=config.grad_clip,
            state_reset_prob=config.state_reset_prob,
        )

    # schedule and budget

    def fraction(self) -> float:
        """Share of the budget used so far: the largest of the epoch, step and time shares."""
        config, counters = self.config, self.counters
        shares = [(counters.epoch + counters.epoch_step / self.batches.steps_per_epoch) / config.epochs]
        if config.max_steps:
            shares.append(counters.step / config.max_steps)
        if config.time_budget_s:
            shares.append(counters.elapsed_s / config.time_budget_s)
        return min(1.0, max(shares))

    def learning_rate(self) -> float:
        """Return the learning rate for the coming step."""
        return scheduled_learning_rate(self.config, self.counters.step, self.fraction())

    def budget_spent(self) -> bool:
        """Return True once the step or time budget is used up."""
        config, counters = self.config, self.counters
        if config.max_steps and counters.step >= config.max_steps:
            return True
        return bool(config.time_budget_s and counters.elapsed_s >= config.time_budget_s)

    def eval_due(self, last_eval_time: float) -> bool:
        """Return True when a step or time interval for mid-epoch evaluation has passed."""
        config, counters = self.config, self.counters
        if config.eval_every_steps and counters.step % config.eval_every_steps == 0:
            return True
        return bool(config.eval_every_s and counters.train_time_s - last_eval_time >= config.eval_every_s)

    # evaluation and checkpoints

    def evaluate_and_keep_best(self, train_loss: float | None) -> bool:
        """Score the validation songs, write best.pt on improvement; return True when early stopping applies."""
        config, counters = self.config, self.counters
        scores = score_songs(self.model, self.val_songs, self.vocab.eos_id, device=self.device, bf16=config.bf16)
        self.evaluated_step = counters.step
        counters.last_metrics = checkpoint_metrics(scores)

        improved = scores["loss"] < counters.best_val_loss - config.min_improvement
        if improved:
            counters.best_val_loss = scores["loss"]
            counters.bad_evals = 0
        else:
            counters.bad_evals += 1

        self.metrics.write(
            "eval",
            step=counters.step,
            epoch=counters.epoch,
            train_loss=train_loss,
            **counters.last_metrics,
            best_val_loss=counters.best_val_loss,
            train_time_s=round(counters.train_time_s, 3),
            elapsed_s=round(counters.elapsed_s, 3),
            train_chars=counters.train_chars,
        )
        logger.info(
            "step %d, %d epochs done: validation loss %.4f (%.3f bits per character, accuracy %.3f)%s",
            counters.step,
            counters.epoch,
            scores["loss"],
            scores["bpc"],
            scores["accuracy"],
            ", best so far" if improved else "",
        )
        if improved:
            self.best = self.make_checkpoint(with_training_state=False)
            save_checkpoint(self.best, self.out_dir / BEST_NAME)
        self.report(train_loss)
        return counters.bad_evals >= config.patience

    def finish(self, reason: str) -> Checkpoint:
        """Evaluate if the weights changed since the last evaluation, write last.pt and return the best checkpoint."""
        counters = self.counters
        if self.evaluated_step != counters.step:
            self.evaluate_and_keep_best(None)
        self.save_last()
        self.metrics.write("end", step=counters.step, reason=reason, best_val_loss=counters.best_val_loss,
                           elapsed_s=round(counters.elapsed_s, 3), train_time_s=round(counters.train_time_s, 3))
        logger.info("run ended after %d steps (%s); best validation loss %.4f", counters.step, reason,
                    counters.best_val_loss)
        return self.best if self.best is not None else self._earlier_best()

    def _earlier_best(self) -> Checkpoint:
        """Return the best.pt of the earlier part of a resumed run that has not improved since."""
        path = self.out_dir / BEST_NAME
        if path.is_file():
            return load_checkpoint(path)
        return self.make_checkpoint(with_training_state=False)

    def save_last(self) -> None:
        """Write last.pt with the optimizer and counters, so that the run can resume from it."""
        if self.saved_step == self.counters.step:
            return
        self.saved_step = self.counters.step
        save_checkpoint(self.make_checkpoint(with_training_state=True), self.out_dir / LAST_NAME)

    def make_checkpoint(self, *, with_training_state: bool) -> Checkpoint:
        """Return a checkpoint of the current weights with the latest validation metrics."""
        counters = self.counters
        training_state = None
        if with_training_state:
            training_state = {
                "optimizer": self.optimizer.state_dict(),
                "step": counters.step,
                "epoch": counters.epoch,
                "epoch_step": counters.epoch_step,
                "elapsed_s": counters.elapsed_s,
                "train_time_s": counters.train_time_s,
                "train_chars": counters.train_chars,
                "best_val_loss": counters.best_val_loss,
                "bad_evals": counters.bad_evals,
                "rng": torch.get_rng_state(),
            }
        return Checkpoint(
            model_state={name: tensor.detach().clone() for name, tensor in self.model.state_dict().items()},
            model_config=self.model_config,
            vocab=self.vocab,
            train_config={**self.config.to_dict(), "data": str(self.data)},
            metrics=dict(counters.last_metrics),
            corpus_fingerprint=self.fingerprint,
            validation_songs=list(self.val_ids),
            training_state=training_state,
        )

    # reporting

    def write_samples(self) -> None:
        """Log a few sampled lines and add them to the metrics file."""
        if not self.sample_starts:
            return
        lines = sample_lines(self.model, self.vocab, self.sample_starts, seed=self.counters.step)
        logger.info("samples at step %d: %s", self.counters.step, " ".join(lines))
        self.metrics.write("samples", step=self.counters.step, lines=lines)

    def report(self, train_loss: float | None) -> None:
        """Send a TrainProgress snapshot to the callback, if there is one."""
        if self.on_progress is None:
            return
        counters = self.counters
        val_loss = counters.last_metrics["val_loss"]
        self.on_progress(
            TrainProgress(
                step=counters.step,
                epoch=counters.epoch,
                fraction=self.fraction(),
                elapsed_s=counters.elapsed_s,
                train_loss=train_loss,
                val_loss=None if math.isnan(val_loss) else val_loss,
                best_val_loss=None if math.isinf(counters.best_val_loss) else counters.best_val_loss,
            )
        )

    def _advance_bar(self, bar: tqdm, train_loss: float) -> None:
        target = round(100 * self.fraction())
        if target > bar.n:
            bar.update(target - bar.n)
        if self.counters.step % 10 == 0:
            bar.set_postfix(loss=f"{train_loss:.3f}", step=self.counters.step, refresh=False)


# helpers


def scheduled_learning_rate(config: TrainConfig, step: int, fraction: float) -> float:
    """Linear warm-up over the first `warmup_steps`, then cosine decay to `min_lr_ratio` as `fraction` goes to 1.

    The decay follows the share of the budget used rather than the step count,
    so a time budget and an epoch budget give the same shape.
    """
    warmup = min(1.0, (step + 1) / max(config.warmup_steps, 1))
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(max(fraction, 0.0), 1.0)))
    return config.learning_rate * warmup * (config.min_lr_ratio + (1.0 - config.min_lr_ratio) * cosine)


def training_step(
    model: CharLSTM,
    optimizer: torch.optim.Optimizer,
    inputs: Tensor,
    targets: Tensor,
    state: LSTMState | None,
    *,
    device: torch.device,
    bf16: bool,
    grad_clip: float,
    state_reset_prob: float = 0.0,
) -> tuple[float, LSTMState]:
    """Run forward, backward, gradient clipping and the optimizer step; return the loss and the final state.

    `state` is the final state of the previous window of the same rows. It is
    detached here, so gradients stop at the window edge (truncated BPTT).
    """
    inputs = inputs.to(device, non_blocking=True)
    targets = targets.to(device, non_blocking=True)

    # carry the state over, cut from its graph, and reset a few rows to zero
    if state is not None:
        state = tuple(part.detach() for part in state)
        if state_reset_prob > 0:
            keep = torch.rand(inputs.size(0), device=device) >= state_reset_prob  # (batch,)
            state = tuple(part * keep.view(1, -1, 1).to(part.dtype) for part in state)

    # forward
    with autocast_context(device, bf16):
        logits, state = model(inputs, state)  # (batch, time, vocab)
    loss = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())

    # backward, clip, step
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return float(loss.detach()), state


def make_optimizer(model: CharLSTM, config: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    """Return AdamW, fused where this torch build supports it for `device` (faster on CPU and CUDA)."""
    try:
        return torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay,
                                 fused=True)
    except (RuntimeError, TypeError) as error:
        logger.info("fused AdamW is not available on %s (%s); using the default implementation", device, error)
        return torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)


def _load_resume(path: Path, fingerprint: str, data: Path) -> Checkpoint:
    """Load the checkpoint to resume from and check that it belongs to a run on this corpus."""
    checkpoint = load_checkpoint(path)
    if checkpoint.training_state is None:
        raise TrainingError(
            f"{path} contains no training state (best.pt and retrained models do not); "
            f"resume from the run's {LAST_NAME} instead"
        )
    if checkpoint.corpus_fingerprint != fingerprint:
        raise TrainingError(
            f"cannot resume from {path}: it was trained on a corpus with fingerprint "
            f"{checkpoint.corpus_fingerprint}, but {data} has {fingerprint}; resume with the same "
            "lyrics.txt, or start a new run without --resume"
        )
    return checkpoint


def _checked_validation_songs(validation_songs: list[int], n_songs: int) -> list[int]:
    """Return the checkpoint's validation song indices, raising TrainingError when one is out of range."""
    if not validation_songs:
        raise TrainingError("the checkpoint stores no validation songs, so there is nothing to evaluate on")
    largest = max(validation_songs)
    if largest >= n_songs or min(validation_songs) < 0:
        raise TrainingError(
            f"the checkpoint's validation split refers to song {largest}, but the corpus has only "
            f"{n_songs} songs; train on a corpus that starts with the songs of the original one"
        )
    return sorted(set(validation_songs))


def _counters_from_state(state: dict[str, Any]) -> _Counters:
    """Rebuild the counters from a checkpoint's training_state."""
    return _Counters(
        step=int(state["step"]),
        epoch=int(state["epoch"]),
        epoch_step=int(state["epoch_step"]),
        elapsed_s=float(state["elapsed_s"]),
        train_time_s=float(state.get("train_time_s", 0.0)),
        train_chars=int(state.get("train_chars", 0)),
        best_val_loss=float(state["best_val_loss"]),
        bad_evals=int(state["bad_evals"]),
    )


def _divergence_advice(loss: float, step: int, lr: float) -> str:
    return (
        f"the training loss became {loss} at step {step} (learning rate {lr:.2e}); the weights are no longer "
        "usable. Likely causes: a learning rate too high for this model (try half of it with --lr), "
        "or gradient clipping switched off. Restart, or resume from the last.pt written before this step"
    )

