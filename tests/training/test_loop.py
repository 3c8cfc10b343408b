"""The training loop on tiny corpora: files written, loss falling, resume, stops and callbacks."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from model.checkpoint import load_checkpoint
from training.config import TINY_PRESET
from training.dataset import load_songs, split_songs
from training.loop import (
    TrainingDiverged,
    TrainingError,
    TrainProgress,
    scheduled_learning_rate,
    train,
)
from training.metrics import read_metrics


def events(folder: Path, name: str) -> list[dict]:
    """Return the metrics records of one event type."""
    return [record for record in read_metrics(folder / "metrics.jsonl") if record["event"] == name]


def test_train_writes_best_last_and_metrics(tiny_lyrics: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    best = train(TINY_PRESET.with_overrides(epochs=2), data=tiny_lyrics, out_dir=out, progress_bar=False)

    assert (out / "best.pt").is_file()
    assert (out / "last.pt").is_file()
    evals = events(out, "eval")
    assert len(evals) >= 2
    for record in evals:
        assert math.isclose(record["val_bpc"], record["val_loss"] / math.log(2))
        assert 0.0 <= record["val_accuracy"] <= 1.0
    assert best.metrics["val_loss"] == min(record["val_loss"] for record in evals)
    assert events(out, "end")[0]["reason"] == "epochs done"


def test_checkpoints_carry_split_fingerprint_and_state(tiny_lyrics: Path, tmp_path: Path) -> None:
    config = TINY_PRESET.with_overrides(epochs=1)
    train(config, data=tiny_lyrics, out_dir=tmp_path, progress_bar=False)
    best = load_checkpoint(tmp_path / "best.pt")
    last = load_checkpoint(tmp_path / "last.pt")

    _, val_ids = split_songs(len(load_songs(tiny_lyrics)), seed=config.seed, val_fraction=config.val_fraction)
    assert best.validation_songs == val_ids
    assert best.corpus_fingerprint.startswith("sha256:")
    assert best.train_config["preset"] == "tiny"
    assert best.training_state is None
    assert last.training_state["epoch"] == 1
    assert "optimizer" in last.training_state


def test_training_lowers_validation_loss(tiny_lyrics: Path, tmp_path: Path) -> None:
    config = TINY_PRESET.with_overrides(epochs=6, eval_every_steps=5, patience=20)
    best = train(config, data=tiny_lyrics, out_dir=tmp_path, progress_bar=False)
    losses = [record["val_loss"] for record in events(tmp_path, "eval")]

    # uniform guessing scores ln(vocabulary size); the made-up songs are random draws,
    # so the model can only learn character frequencies and line lengths
    assert losses[-1] < losses[0]
    assert best.metrics["val_loss"] < math.log(len(best.vocab)) - 0.3


def test_resume_continues_the_same_run(tiny_lyrics: Path, tmp_path: Path) -> None:
    config = TINY_PRESET.with_overrides(epochs=50, max_steps=12)
    train(config, data=tiny_lyrics, out_dir=tmp_path, progress_bar=False)
    first = load_checkpoint(tmp_path / "last.pt")
    assert first.training_state["step"] == 12

    train(config.with_overrides(max_steps=20), data=tiny_lyrics, out_dir=tmp_path,
          resume=tmp_path / "last.pt", progress_bar=False)
    second = load_checkpoint(tmp_path / "last.pt")

    assert second.training_state["step"] == 20
    assert second.validation_songs == first.validation_songs
    assert second.vocab == first.vocab
    starts = events(tmp_path, "start")
    assert starts[-1]["resumed_from"] == str(tmp_path / "last.pt")
    assert starts[-1]["step"] == 12


def test_resume_rejects_a_changed_corpus(tiny_lyrics: Path, tmp_path: Path) -> None:
    config = TINY_PRESET.with_overrides(max_steps=5)
    train(config, data=tiny_lyrics, out_dir=tmp_path / "run", progress_bar=False)
    changed = tmp_path / "changed.txt"
    changed.write_text(tiny_lyrics.read_text(encoding="utf-8") + "新歌一首/\n", encoding="utf-8")

    with pytest.raises(TrainingError, match="fingerprint") as caught:
        train(config, data=changed, out_dir=tmp_path / "run", resume=tmp_path / "run" / "last.pt",
              progress_bar=False)
    assert str(changed) in str(caught.value)


def test_resume_rejects_a_model_without_training_state(tiny_lyrics: Path, tmp_path: Path) -> None:
    config = TINY_PRESET.with_overrides(max_steps=5)
    train(config, data=tiny_lyrics, out_dir=tmp_path, progress_bar=False)

    with pytest.raises(TrainingError, match="last.pt"):
        train(config, data=tiny_lyrics, out_dir=tmp_path, resume=tmp_path / "best.pt", progress_bar=False)


def test_nan_loss_stops_with_advice(tiny_lyrics: Path, tmp_path: Path) -> None:
    # an absurd learning rate drives the weights to infinity within a few steps
    config = TINY_PRESET.with_overrides(learning_rate=1e30, warmup_steps=1, grad_clip=1e30, epochs=5)

    with pytest.raises(TrainingDiverged, match="learning rate"):
        train(config, data=tiny_lyrics, out_dir=tmp_path, progress_bar=False)


def test_keyboard_interrupt_saves_last(tiny_lyrics: Path, tmp_path: Path) -> None:
    def interrupt(progress: TrainProgress) -> None:
        if progress.step >= 50:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(TINY_PRESET.with_overrides(epochs=100), data=tiny_lyrics, out_dir=tmp_path,
              on_progress=interrupt, progress_bar=False)

    assert load_checkpoint(tmp_path / "last.pt").training_state["step"] == 50
    assert events(tmp_path, "interrupted")[0]["step"] == 50


def test_early_stopping_ends_a_stalled_run(tiny_lyrics: Path, tmp_path: Path) -> None:
    # a learning rate this small cannot improve the loss by min_improvement between evaluations
    config = TINY_PRESET.with_overrides(learning_rate=1e-9, epochs=50, eval_every_steps=3, patience=2)
    train(config, data=tiny_lyrics, out_dir=tmp_path, progress_bar=False)

    assert events(tmp_path, "end")[0]["reason"] == "early stopping"
    assert len(events(tmp_path, "eval")) == 3


def test_time_budget_ends_the_run(tiny_lyrics: Path, tmp_path: Path) -> None:
    config = TINY_PRESET.with_overrides(epochs=100_000, time_budget_s=1.0, patience=1_000_000)
    train(config, data=tiny_lyrics, out_dir=tmp_path, progress_bar=False)
    end = events(tmp_path, "end")[0]

    assert end["reason"] == "budget spent"
    assert 1.0 <= end["elapsed_s"] < 10.0


def test_progress_callback_and_stop_request(tiny_lyrics: Path, tmp_path: Path) -> None:
    seen: list[TrainProgress] = []

    train(TINY_PRESET.with_overrides(epochs=100, eval_every_steps=20), data=tiny_lyrics, out_dir=tmp_path,
          on_progress=seen.append, should_stop=lambda: len(seen) >= 4, progress_bar=False)

    steps = [progress.step for progress in seen]
    assert steps == sorted(steps)
    assert all(0.0 <= progress.fraction <= 1.0 for progress in seen)
    assert any(progress.val_loss is not None for progress in seen)
    assert events(tmp_path, "end")[0]["reason"] == "stop requested"


def test_training_from_a_checkpoint_keeps_vocab_and_split(tiny_checkpoint: Path, tmp_path: Path) -> None:
    start = load_checkpoint(tiny_checkpoint)
    lyrics = tmp_path / "lyrics.txt"
    shutil.copy(tiny_checkpoint.parent / "lyrics.txt", lyrics)
    # retraining data: the same corpus with new songs appended
    with lyrics.open("a", encoding="utf-8") as stream:
        stream.write("春风花月夜/山水云天/\n")

    result = train(TINY_PRESET.with_overrides(max_steps=10), data=lyrics, out_dir=tmp_path / "run",
                   init_checkpoint=start, progress_bar=False)

    assert result.vocab == start.vocab
    assert result.validation_songs == start.validation_songs
    assert result.model_config == start.model_config
    assert result.corpus_fingerprint != start.corpus_fingerprint


def test_sample_lines_are_logged(tiny_lyrics: Path, tmp_path: Path) -> None:
    train(TINY_PRESET.with_overrides(epochs=1, sample_every_steps=5), data=tiny_lyrics, out_dir=tmp_path,
          progress_bar=False)
    samples = events(tmp_path, "samples")

    assert samples
    for line in samples[0]["lines"]:
        assert line.endswith("/")
        assert "/" not in line[:-1]
        assert "<" not in line


def test_learning_rate_warms_up_then_decays() -> None:
    config = TINY_PRESET.with_overrides(learning_rate=1.0, warmup_steps=10, min_lr_ratio=0.1)

    assert scheduled_learning_rate(config, 0, 0.0) == pytest.approx(0.1)
    assert scheduled_learning_rate(config, 9, 0.0) == pytest.approx(1.0)
    assert scheduled_learning_rate(config, 100, 0.5) == pytest.approx(0.55)
    assert scheduled_learning_rate(config, 1000, 1.0) == pytest.approx(0.1)



def test_random_sampling_trains_and_resumes(tiny_lyrics: Path, tmp_path: Path) -> None:
    config = TINY_PRESET.with_overrides(sampling="random", epochs=50, max_steps=8)
    train(config, data=tiny_lyrics, out_dir=tmp_path, progress_bar=False)
    train(config.with_overrides(max_steps=14), data=tiny_lyrics, out_dir=tmp_path, resume=tmp_path / "last.pt",
          progress_bar=False)

    assert load_checkpoint(tmp_path / "last.pt").training_state["step"] == 14
    assert load_checkpoint(tmp_path / "last.pt").train_config["sampling"] == "random"
