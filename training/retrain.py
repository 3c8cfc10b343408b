"""The retraining job: `python -m training retrain`, one run from the current model to a promoted or rejected candidate.

The job trains in its own process and talks to the bot only through its
training-run row. It moves the row from queued to running, writes progress
(phase, epoch, step, loss, ETA) while it trains, and closes the row with its
metrics and outcome. A cancel request on the row, SIGTERM or the job's own
timeout stop training between two steps.

Promotion happens when the candidate's validation loss is at most the current
model's plus the tolerance, both scored on the validation songs stored in the
current checkpoint. The model-version row, the run's outcome and the atomic
replacement of the served checkpoint happen inside one database transaction,
so a job killed before the commit leaves the old model's row in place.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from db import engine as db_engine
from db import queries
from db.errors import DatabaseError
from db.models import RunStatus, RunTrigger
from model.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from training.config import TrainConfig
from training.dataset import DatasetError, corpus_fingerprint, load_songs
from training.evaluate import checkpoint_metrics, evaluate
from training.feedback import DEFAULT_MAX_LINES, select_rated_lines, write_training_set
from training.loop import METRICS_NAME, TrainingError, TrainProgress, train

logger = logging.getLogger(__name__)

EXIT_DONE = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130

TRAINING_SET_NAME = "train.txt"
CANDIDATE_NAME = "candidate.pt"
PREVIOUS_NAME = "previous.pt"

# A fine-tuning run starts from trained weights, so a lower peak rate than a
# fresh run's keeps it from undoing what the model has learned.
FINE_TUNE_LR_SCALE = 0.3
FINE_TUNE_WARMUP_STEPS = 20

# Added to the job's nice value, so that on a shared machine the bot's replies
# get the CPU before training steps do.
DEFAULT_NICENESS = 10


class RunStopped(Exception):
    """Training stopped early on a cancel request, a signal or the timeout; `status` is the status to record."""

    def __init__(self, status: RunStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class JobOptions:
    """Everything one retraining run needs, from the command line."""

    database_url: str
    lyrics: Path
    checkpoint: Path
    runs_dir: Path
    run_id: int | None
    requested_by: int | None
    good_score: float
    bad_score: float
    tolerance: float
    epochs: int
    minutes: float | None
    max_steps: int | None
    learning_rate: float | None
    timeout_minutes: float
    threads: int | None
    eval_every_steps: int | None
    progress_seconds: float
    max_feedback_lines: int
    niceness: int


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of `python -m training retrain`."""
    parser = argparse.ArgumentParser(
        prog="python -m training retrain",
        description="Fine-tune the served checkpoint on the corpus plus well-rated generated lines, "
        "and promote the result when its validation loss is not worse.",
    )
    parser.add_argument("--database-url", default=None,
                        help="SQLAlchemy URL of the bot's database; default: $LYRICBOT_DATABASE_URL or the "
                        "SQLite file under $LYRICBOT_DATA_DIR")
    parser.add_argument("--lyrics", type=Path, required=True, help="the prepared corpus (lyrics.txt)")
    parser.add_argument("--checkpoint", type=Path, required=True,
                        help="the served checkpoint: the run starts from it and a promotion replaces it")
    parser.add_argument("--runs-dir", type=Path, default=None,
                        help="folder for run folders; default: runs/ beside the checkpoint")
    parser.add_argument("--run-id", type=int, default=None,
                        help="a queued training-run row to carry out; default: queue a new one")
    parser.add_argument("--requested-by", type=int, default=None,
                        help="Telegram id of the admin who asked, for a run queued by this command")

    parser.add_argument("--good-score", type=float, default=4.0,
                        help="mean score at or above which a rated line is used (default 4)")
    parser.add_argument("--bad-score", type=float, default=2.0,
                        help="a line with any rating at or below this score is left out (default 2)")
    parser.add_argument("--tolerance", type=float, default=0.0,
                        help="nats per character by which the candidate's validation loss may exceed the "
                        "current model's and still be promoted (default 0)")

    parser.add_argument("--epochs", type=int, default=1, help="passes over the training set (default 1)")
    parser.add_argument("--minutes", type=float, default=None, help="training time budget in minutes")
    parser.add_argument("--max-steps", type=int, default=None, help="cap on optimizer steps")
    parser.add_argument("--learning-rate", type=float, default=None,
                        help=f"peak learning rate; default: {FINE_TUNE_LR_SCALE} times the current model's")
    parser.add_argument("--timeout-minutes", type=float, default=30.0,
                        help="wall-time limit of the whole job; the run fails when it is reached (default 30)")

    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads; default: torch's choice")
    parser.add_argument("--eval-every-steps", type=int, default=None,
                        help="also evaluate every this many steps, for a finer loss plot")
    parser.add_argument("--progress-seconds", type=float, default=1.0,
                        help="minimum seconds between two progress writes to the run's row (default 1)")
    parser.add_argument("--niceness", type=int, default=DEFAULT_NICENESS,
                        help=f"added to the job's nice value, 0 to 19; higher yields the CPU sooner "
                        f"(default {DEFAULT_NICENESS})")
    parser.add_argument("--max-feedback-lines", type=int, default=DEFAULT_MAX_LINES,
                        help=f"maximum number of rated lines in the training set, best first (default {DEFAULT_MAX_LINES})")
    return parser


def parse_options(argv: Sequence[str]) -> JobOptions:
    """Parse and check the command line; argparse exits with status 2 on invalid options."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.bad_score >= args.good_score:
        parser.error(f"--bad-score {args.bad_score} must be lower than --good-score {args.good_score}")
    for name in ("epochs", "max_steps", "threads", "eval_every_steps", "max_feedback_lines"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    for name in ("minutes", "learning_rate", "timeout_minutes"):
        value = getattr(args, name)
        if value is not None and not (value > 0 and math.isfinite(value)):
            parser.error(f"--{name.replace('_', '-')} must be a positive number, got {value}")
    if args.tolerance < 0:
        parser.error(f"--tolerance must not be negative, got {args.tolerance}")
    if not 0 <= args.niceness <= 19:
        parser.error(f"--niceness must be from 0 to 19, got {args.niceness}")

    return JobOptions(
        database_url=args.database_url or db_engine.database_url(),
        lyrics=args.lyrics,
        checkpoint=args.checkpoint,
        runs_dir=args.runs_dir or args.checkpoint.parent / "runs",
        run_id=args.run_id,
        requested_by=args.requested_by,
        good_score=args.good_score,
        bad_score=args.bad_score,
        tolerance=args.tolerance,
        epochs=args.epochs,
        minutes=args.minutes,
        max_steps=args.max_steps,
        learning_rate=args.learning_rate,
        timeout_minutes=args.timeout_minutes,
        threads=args.threads,
        eval_every_steps=args.eval_every_steps,
        progress_seconds=args.progress_seconds,
        max_feedback_lines=args.max_feedback_lines,
        niceness=args.niceness,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one retraining job and return its exit status: 0 done, 1 failed, 130 interrupted."""
    options = parse_options(list(sys.argv[1:] if argv is None else argv))
    stop_signal = StopSignal()
    stop_signal.install()
    if options.niceness:
        os.nice(options.niceness)
    if options.threads:
        # evaluation runs before the training loop sets its own thread count
        torch.set_num_threads(options.threads)

    engine = db_engine.make_sync_engine(options.database_url)
    recorder = RunRecorder(db_engine.sync_session_factory(engine), options.progress_seconds,
                           read_sessions=db_engine.sync_session_factory(db_engine.read_only(engine)))
    try:
        run_id = recorder.begin(options.run_id, options.requested_by)
    except DatabaseError as error:
        print(f"error: {error}", file=sys.stderr)
        engine.dispose()
        return EXIT_FAILED

    try:
        return run_job(options, run_id, recorder, stop_signal)
    finally:
        engine.dispose()


def run_job(options: JobOptions, run_id: int, recorder: RunRecorder, stop_signal: StopSignal) -> int:
    """Carry out the started run `run_id` and record its outcome on its row."""
    try:
        metrics = retrain(options, run_id, recorder, stop_signal)
    except RunStopped as stopped:
        logger.warning("training run %s stopped: %s", run_id, stopped.reason)
        recorder.finish(run_id, stopped.status, error=stopped.reason)
        return EXIT_INTERRUPTED if stopped.status is RunStatus.INTERRUPTED else EXIT_FAILED
    except (CheckpointError, DatasetError, TrainingError) as error:
        logger.error("training run %s failed: %s", run_id, error)
        recorder.finish(run_id, RunStatus.FAILED, error=str(error))
        return EXIT_FAILED
    except Exception as error:
        logger.exception("training run %s failed unexpectedly", run_id)
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        recorder.finish(run_id, RunStatus.FAILED, error=f"unexpected error: {detail}")
        return EXIT_FAILED

    logger.info("training run %s done: %s", run_id, "promoted" if metrics["promoted"] else "rejected")
    return EXIT_DONE


def retrain(options: JobOptions, run_id: int, recorder: RunRecorder, stop_signal: StopSignal) -> dict[str, Any]:
    """Build the training set, fine-tune, compare and promote or reject; return the run's metrics."""
    started = time.monotonic()
    deadline = started + options.timeout_minutes * 60
    run_dir = options.runs_dir / str(run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    guard = StopGuard(recorder, run_id, stop_signal, deadline, options.timeout_minutes)

    # the current model and the songs it is judged on
    recorder.progress(run_id, {"phase": "loading"}, force=True)
    current = load_checkpoint(options.checkpoint)
    corpus = load_songs(options.lyrics)
    validation = validation_songs(current, corpus, options.lyrics)
    corpus_changed = current.corpus_fingerprint != corpus_fingerprint(options.lyrics)
    if corpus_changed:
        logger.warning("%s is not the corpus checkpoint %s was trained on; its validation songs are taken by index",
                       options.lyrics, current.version)
    guard.check()

    # the training set: the corpus, then the rated lines
    recorder.progress(run_id, {"phase": "data"}, force=True)
    lines = recorder.rated_lines(options.good_score, options.bad_score, options.max_feedback_lines)
    training_set = write_training_set(corpus, lines, run_dir / TRAINING_SET_NAME)
    logger.info("training set %s: %d corpus songs, %d rated lines written %d times, %d skipped",
                training_set.path, training_set.corpus_songs, training_set.feedback_lines,
                training_set.feedback_copies, training_set.skipped_lines)
    guard.check()

    # the figure to beat
    recorder.progress(run_id, {"phase": "evaluating", "feedback_lines": training_set.feedback_lines}, force=True)
    before = evaluate(current, validation)
    logger.info("current model %s: validation loss %.4f", current.version, before["loss"])
    guard.check()

    # fine-tuning
    config = fine_tune_config(current, options)
    reporter = ProgressReporter(recorder, run_id, guard, config, before["loss"], training_set.feedback_lines)
    best = train(config, data=training_set.path, out_dir=run_dir, init_checkpoint=current,
                 on_progress=reporter.on_progress, should_stop=reporter.should_stop, progress_bar=False)
    guard.check()

    # comparison on the same songs, scored the same way
    recorder.progress(run_id, {**reporter.snapshot(), "phase": "comparing"}, force=True)
    candidate = candidate_checkpoint(best, current, config, run_id=run_id, feedback_lines=training_set.feedback_lines)
    after = evaluate(candidate, validation)
    candidate.metrics = checkpoint_metrics(after)
    save_checkpoint(candidate, run_dir / CANDIDATE_NAME)
    guard.check()

    promoted = after["loss"] <= before["loss"] + options.tolerance
    metrics = {
        "val_loss_before": before["loss"],
        "val_loss_after": after["loss"],
        "val_bpc_before": before["bpc"],
        "val_bpc_after": after["bpc"],
        "val_accuracy_before": before["accuracy"],
        "val_accuracy_after": after["accuracy"],
        "tolerance": options.tolerance,
        "base_version": current.version,
        "candidate_version": candidate.version,
        "promoted": promoted,
        "corpus_songs": training_set.corpus_songs,
        "feedback_lines": training_set.feedback_lines,
        "feedback_copies": training_set.feedback_copies,
        "steps": reporter.step,
        "duration_s": round(time.monotonic() - started, 3),
        "run_dir": str(run_dir),
        "metrics_file": str(run_dir / METRICS_NAME),
        "corpus_changed": corpus_changed,
    }

    if promoted:
        shutil.copy2(options.checkpoint, run_dir / PREVIOUS_NAME)
        recorder.progress(run_id, {**reporter.snapshot(), "phase": "promoting"}, force=True)
        recorder.promote(run_id, candidate, options.checkpoint, run_dir / CANDIDATE_NAME, metrics)
    else:
        reason = (
            f"rejected: validation loss {after['loss']:.4f} is worse than the current model's "
            f"{before['loss']:.4f} by more than the tolerance {options.tolerance:g}"
        )
        recorder.finish(run_id, RunStatus.REJECTED, metrics=metrics, checkpoint_path=str(run_dir / CANDIDATE_NAME),
                        error=reason)
    return metrics


def validation_songs(current: Checkpoint, corpus: list[str], lyrics: Path) -> list[str]:
    """Return the current checkpoint's validation songs from the corpus; raise TrainingError when they do not fit."""
    indices = current.validation_songs
    if not indices:
        raise TrainingError(f"checkpoint {current.version} stores no validation songs, so it cannot be compared")
    if max(indices) >= len(corpus):
        raise TrainingError(
            f"checkpoint {current.version} validates on song {max(indices)}, but {lyrics} has only {len(corpus)} "
            "songs; retrain on the corpus the checkpoint was trained on"
        )
    return [corpus[i] for i in sorted(set(indices))]


def fine_tune_config(current: Checkpoint, options: JobOptions) -> TrainConfig:
    """Return the current model's training config with the retraining budget and a fine-tuning rate."""
    base = TrainConfig.from_dict(current.train_config)
    return replace(
        base,
        epochs=options.epochs,
        max_steps=options.max_steps,
        time_budget_s=options.minutes * 60 if options.minutes is not None else None,
        learning_rate=options.learning_rate or base.learning_rate * FINE_TUNE_LR_SCALE,
        warmup_steps=min(base.warmup_steps, FINE_TUNE_WARMUP_STEPS),
        eval_every_steps=options.eval_every_steps or base.eval_every_steps,
        sample_every_steps=0,
        threads=options.threads or base.threads,
        # the bot's machine decides, whatever the checkpoint was trained on
        device="auto",
    )


def candidate_checkpoint(
    best: Checkpoint, current: Checkpoint, config: TrainConfig, *, run_id: int, feedback_lines: int
) -> Checkpoint:
    """Return the trained weights as a checkpoint that keeps the current model's recipe, corpus and validation split.

    The training config stays the current model's, with this run's settings
    under "retrain", so the next run scales the original learning rate again
    instead of an already scaled one.
    """
    retrain_record = {
        "run_id": run_id,
        "base_version": current.version,
        "feedback_lines": feedback_lines,
        "learning_rate": config.learning_rate,
        "epochs": config.epochs,
        "max_steps": config.max_steps,
        "time_budget_s": config.time_budget_s,
    }
    return Checkpoint(
        model_state=best.model_state,
        model_config=best.model_config,
        vocab=best.vocab,
        train_config={**current.train_config, "retrain": retrain_record},
        metrics=dict(best.metrics),
        # the validation indices refer to the base corpus, not to the run's train.txt
        corpus_fingerprint=current.corpus_fingerprint,
        validation_songs=list(current.validation_songs),
    )


class StopSignal:
    """Turns SIGTERM and SIGINT into a flag that the training loop polls between steps."""

    def __init__(self) -> None:
        self.received: int | None = None

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, number: int, frame: Any) -> None:
        self.received = number


class StopGuard:
    """Decides whether the run must stop: a cancel request on its row, a signal, or the timeout."""

    def __init__(self, recorder: RunRecorder, run_id: int, stop_signal: StopSignal, deadline: float,
                 timeout_minutes: float) -> None:
        self.recorder = recorder
        self.run_id = run_id
        self.stop_signal = stop_signal
        self.deadline = deadline
        self.timeout_minutes = timeout_minutes
        self.cancel_requested = False

    def reason(self) -> RunStopped | None:
        """Return why the run must stop now, or None."""
        if self.cancel_requested:
            return RunStopped(RunStatus.INTERRUPTED, "cancelled by an admin")
        if self.stop_signal.received is not None:
            name = signal.Signals(self.stop_signal.received).name
            return RunStopped(RunStatus.INTERRUPTED, f"stopped by {name} (the bot or an operator shut the job down)")
        if time.monotonic() >= self.deadline:
            return RunStopped(RunStatus.FAILED, f"timed out after {self.timeout_minutes:g} minutes")
        return None

    def check(self) -> None:
        """Raise RunStopped when the run must stop."""
        self.cancel_requested = self.cancel_requested or self.recorder.cancel_requested(self.run_id)
        stopped = self.reason()
        if stopped is not None:
            raise stopped


class ProgressReporter:
    """Turns the training loop's callbacks into throttled progress writes with an ETA."""

    def __init__(self, recorder: RunRecorder, run_id: int, guard: StopGuard, config: TrainConfig,
                 val_loss_before: float, feedback_lines: int) -> None:
        self.recorder = recorder
        self.run_id = run_id
        self.guard = guard
        self.config = config
        self.started = time.monotonic()
        self.step = 0
        self.steps_polled = 0
        self.epoch = 0
        self.fraction = 0.0
        self.train_loss: float | None = None
        self.val_loss: float | None = None
        self.val_loss_before = val_loss_before
        self.feedback_lines = feedback_lines

    def on_progress(self, progress: TrainProgress) -> None:
        """Take the loop's snapshot (every 50 steps and after each evaluation) and write it."""
        self.step = progress.step
        self.epoch = progress.epoch
        self.fraction = max(self.fraction, progress.fraction)
        self.train_loss = progress.train_loss if progress.train_loss is not None else self.train_loss
        self.val_loss = progress.val_loss if progress.val_loss is not None else self.val_loss
        self._write(force=True)

    def should_stop(self) -> bool:
        """Count the step that just ended, write progress when due, and return whether to stop."""
        # should_stop runs once after every step, right after any on_progress for that
        # same step, so its own count is the loop's step; adding to `step` ran one ahead
        self.steps_polled += 1
        self.step = self.steps_polled
        self._write(force=False)
        return self.guard.reason() is not None

    def snapshot(self) -> dict[str, Any]:
        """Return the progress fields of the row."""
        elapsed = time.monotonic() - self.started
        fraction = self._fraction(elapsed)
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        return {
            "phase": "training",
            "epoch": self.epoch,
            "epochs": self.config.epochs,
            "step": self.step,
            "max_steps": self.config.max_steps,
            "fraction": round(fraction, 4),
            "loss": _finite(self.train_loss),
            "val_loss": _finite(self.val_loss),
            "val_loss_before": _finite(self.val_loss_before),
            "elapsed_seconds": round(elapsed, 1),
            "eta_seconds": round(eta, 1) if eta is not None else None,
            "feedback_lines": self.feedback_lines,
        }

    def _fraction(self, elapsed: float) -> float:
        shares = [self.fraction]
        if self.config.max_steps:
            shares.append(self.step / self.config.max_steps)
        if self.config.time_budget_s:
            shares.append(elapsed / self.config.time_budget_s)
        return min(1.0, max(shares))

    def _write(self, *, force: bool) -> None:
        if self.recorder.progress(self.run_id, self.snapshot(), force=force):
            self.guard.cancel_requested = True


class RunRecorder:
    """The job's writes to its training-run row, each in its own short transaction."""

    def __init__(self, sessions, progress_seconds: float, *, read_sessions=None) -> None:
        self.sessions = sessions
        # the feedback read can take a while; on SQLite a read-only session does not hold the write lock
        self.read_sessions = read_sessions or sessions
        self.progress_seconds = progress_seconds
        self.last_write = 0.0

    def begin(self, run_id: int | None, requested_by: int | None) -> int:
        """Start the queued run `run_id`, or queue and start a new one; return its id."""
        with self.sessions.begin() as session:
            if run_id is None:
                trigger = RunTrigger.ADMIN if requested_by is not None else RunTrigger.SCHEDULE
                run_id = queries.queue_run(session=session, trigger=trigger, requested_by=requested_by).id
            queries.start_run(session=session, run_id=run_id)
        logger.info("training run %s started in pid %d", run_id, os.getpid())
        return run_id

    def rated_lines(self, good_score: float, bad_score: float, limit: int):
        """Return the rated lines the selection rule keeps."""
        with self.read_sessions() as session:
            return select_rated_lines(session=session, good_score=good_score, bad_score=bad_score, limit=limit)

    def progress(self, run_id: int, progress: dict[str, Any], *, force: bool) -> bool:
        """Write progress when forced or due; return True when an admin asked the run to stop."""
        now = time.monotonic()
        if not force and now - self.last_write < self.progress_seconds:
            return False
        self.last_write = now
        try:
            with self.sessions.begin() as session:
                run = queries.update_run_progress(session=session, run_id=run_id, progress=progress)
                return run.cancel_requested_at is not None
        except DatabaseError as error:
            # the bot may have closed the row (timeout, cancel); the guard stops the run
            logger.warning("training run %s: progress not written: %s", run_id, error)
            return True

    def cancel_requested(self, run_id: int) -> bool:
        """Return True when the row has a cancel request or is no longer running."""
        with self.sessions() as session:
            run = queries.get_run(session=session, run_id=run_id)
            return run.cancel_requested_at is not None or run.status is not RunStatus.RUNNING

    def finish(self, run_id: int, status: RunStatus, **values: Any) -> None:
        """Close the row; log instead of raising when the bot closed it first."""
        try:
            with self.sessions.begin() as session:
                queries.finish_run(session=session, run_id=run_id, status=status, **values)
        except DatabaseError as error:
            logger.error("training run %s: outcome %s not recorded: %s", run_id, status.value, error)

    def promote(self, run_id: int, candidate: Checkpoint, served: Path, candidate_path: Path,
                metrics: dict[str, Any]) -> None:
        """Record the model version and the run's success, replace the served checkpoint, then commit."""
        # NOTE: a kill between the file replacement and the commit leaves the new
        # file served after the next restart while the row records a failed run.
        with self.sessions.begin() as session:
            # the row is locked and checked first: a run the bot already closed must not promote
            queries.finish_run(session=session, run_id=run_id, status=RunStatus.SUCCEEDED, metrics=metrics,
                               checkpoint_path=str(candidate_path))
            queries.record_model_version(session=session, version=candidate.version, path=str(served),
                                         metrics=candidate.metrics, training_run_id=run_id)
            save_checkpoint(candidate, served)
        logger.info("training run %s promoted model %s to %s", run_id, candidate.version, served)


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 5)
