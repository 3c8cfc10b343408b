"""The retraining job on its own: promotion, rejection and every failure it records on its row."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from db import queries
from db.engine import make_sync_engine, sync_session_factory
from db.models import ModelVersion, RunStatus, RunTrigger
from model.checkpoint import load_checkpoint
from tests.retrain.conftest import lengthen_corpus, prepare_data_dir, read_runs
from training import retrain as job
from training.config import TINY_PRESET
from training.loop import TrainProgress

BUDGET = ["--max-steps", "12", "--epochs", "5", "--threads", "1"]


@pytest.fixture(autouse=True)
def restore_signal_handlers():
    """The job installs SIGTERM and SIGINT handlers; put pytest's back after each test."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.fixture
def job_files(tmp_path: Path, tiny_checkpoint: Path) -> tuple[Path, Path]:
    """A corpus and a served checkpoint in a fresh folder."""
    return prepare_data_dir(tmp_path / "data", tiny_checkpoint.parent / "lyrics.txt", tiny_checkpoint)


def run_job(database: str, lyrics: Path, checkpoint: Path, *options: str) -> int:
    # a niceness of 0 keeps the test process's own priority unchanged
    return job.main(["--database-url", database, "--lyrics", str(lyrics), "--checkpoint", str(checkpoint),
                     "--niceness", "0", "--requested-by", "7", *options])


def versions(url: str) -> list[ModelVersion]:
    engine = make_sync_engine(url)
    try:
        with Session(engine) as session:
            found = list(session.query(ModelVersion).order_by(ModelVersion.id))
            session.expunge_all()
            return found
    finally:
        engine.dispose()


def test_job_promotes_better_candidate(database, job_files):
    lyrics, served = job_files
    before = load_checkpoint(served)

    assert run_job(database, lyrics, served, *BUDGET, "--learning-rate", "0.03") == job.EXIT_DONE

    [run] = read_runs(database)
    assert run.status is RunStatus.SUCCEEDED
    assert run.trigger is RunTrigger.ADMIN
    assert run.requested_by == 7
    assert run.metrics["val_loss_after"] <= run.metrics["val_loss_before"]
    assert run.metrics["steps"] == 12
    assert run.progress["phase"] == "promoting"
    assert run.started_at is not None and run.finished_at is not None

    after = load_checkpoint(served)
    assert after.version == run.metrics["candidate_version"] != before.version
    assert after.vocab == before.vocab
    assert after.validation_songs == before.validation_songs
    assert after.metrics["val_loss"] == pytest.approx(run.metrics["val_loss_after"])
    # the recipe stays the original one, so a second run scales the original learning rate again
    assert after.train_config["learning_rate"] == before.train_config["learning_rate"]
    assert after.train_config["retrain"]["learning_rate"] == 0.03
    assert after.train_config["retrain"]["base_version"] == before.version
    [version] = versions(database)
    assert version.version == after.version
    assert version.training_run_id == run.id

    run_dir = Path(run.metrics["run_dir"])
    assert load_checkpoint(run_dir / job.PREVIOUS_NAME).version == before.version
    assert (run_dir / job.CANDIDATE_NAME).is_file()
    events = [json.loads(line)["event"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert "eval" in events


def test_job_rejects_worse_candidate(database, job_files):
    lyrics, served = job_files
    before = load_checkpoint(served)
    # every training song becomes one repeated character, so the model unlearns the validation songs
    songs = lyrics.read_text(encoding="utf-8").splitlines()
    validation = set(before.validation_songs)
    lyrics.write_text("".join((song if i in validation else "春" * 30 + "/") + "\n" for i, song in enumerate(songs)),
                      encoding="utf-8")

    assert run_job(database, lyrics, served, *BUDGET, "--learning-rate", "0.05") == job.EXIT_DONE

    [run] = read_runs(database)
    assert run.status is RunStatus.REJECTED
    assert run.metrics["val_loss_after"] > run.metrics["val_loss_before"]
    assert "worse than the current model's" in run.error
    assert load_checkpoint(served).version == before.version
    assert versions(database) == []
    assert Path(run.checkpoint_path).is_file()


def test_job_records_corrupt_checkpoint(database, job_files):
    lyrics, served = job_files
    data = served.read_bytes()
    served.write_bytes(data[: len(data) // 2])

    assert run_job(database, lyrics, served, *BUDGET) == job.EXIT_FAILED

    [run] = read_runs(database)
    assert run.status is RunStatus.FAILED
    assert str(served) in run.error
    assert "truncated" in run.error
    assert served.read_bytes() == data[: len(data) // 2]


def test_job_records_bad_corpus(database, job_files):
    lyrics, served = job_files
    lyrics.write_text("春风吹过\n", encoding="utf-8")

    assert run_job(database, lyrics, served, *BUDGET) == job.EXIT_FAILED

    [run] = read_runs(database)
    assert run.status is RunStatus.FAILED
    assert "does not end with '/'" in run.error


def test_job_records_timeout(database, job_files):
    lyrics, served = job_files
    before = load_checkpoint(served).version
    # On the tiny corpus alone, a warm process with one torch thread ran every phase of
    # the job in under 30 ms, so the timeout below did not always expire. One epoch over
    # the lengthened corpus is about 5,000 optimizer steps, far more than a device runs in 30 ms.
    lengthen_corpus(lyrics)

    assert run_job(database, lyrics, served, "--minutes", "1", "--timeout-minutes", "0.0005") == job.EXIT_FAILED

    [run] = read_runs(database)
    assert run.status is RunStatus.FAILED
    assert run.error == "timed out after 0.0005 minutes"
    assert load_checkpoint(served).version == before
    assert not (served.parent / "runs" / str(run.id) / job.CANDIDATE_NAME).exists()


def test_job_stops_on_cancel_request(database, job_files):
    lyrics, served = job_files
    engine = make_sync_engine(database)
    with Session(engine) as session, session.begin():
        run_id = queries.queue_run(session=session, trigger=RunTrigger.SCHEDULE).id
        queries.request_cancel(session=session, run_id=run_id)
    engine.dispose()

    assert job.main(["--database-url", database, "--lyrics", str(lyrics), "--checkpoint", str(served),
                     "--run-id", str(run_id), "--niceness", "0", *BUDGET]) == job.EXIT_INTERRUPTED

    [run] = read_runs(database)
    assert run.status is RunStatus.INTERRUPTED
    assert run.error == "cancelled by an admin"


def test_job_refuses_run_that_is_not_queued(database, job_files, capsys):
    lyrics, served = job_files
    engine = make_sync_engine(database)
    with Session(engine) as session, session.begin():
        run_id = queries.queue_run(session=session, trigger=RunTrigger.SCHEDULE).id
        queries.cancel_run(session=session, run_id=run_id)
    engine.dispose()
    [run] = read_runs(database)

    code = job.main(["--database-url", database, "--lyrics", str(lyrics), "--checkpoint", str(served),
                     "--run-id", str(run.id), "--niceness", "0"])

    assert code == job.EXIT_FAILED
    assert f"training run {run.id} is {run.status.value} and cannot become running" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--good-score", "3", "--bad-score", "3"], "--bad-score 3.0 must be lower than --good-score 3.0"),
        (["--max-steps", "0"], "--max-steps must be at least 1, got 0"),
        (["--minutes", "-1"], "--minutes must be a positive number, got -1.0"),
        (["--tolerance", "-0.1"], "--tolerance must not be negative, got -0.1"),
        (["--niceness", "20"], "--niceness must be from 0 to 19, got 20"),
    ],
)
def test_job_rejects_invalid_options(database, job_files, capsys, options, message):
    lyrics, served = job_files
    with pytest.raises(SystemExit) as exited:
        run_job(database, lyrics, served, *options)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
    assert read_runs(database) == []


def test_progress_step_matches_loop(database):
    # the loop reports every 50 steps and polls should_stop after each step, the report first
    engine = make_sync_engine(database)
    try:
        recorder = job.RunRecorder(sync_session_factory(engine), progress_seconds=0.0)
        run_id = recorder.begin(None, 7)
        guard = job.StopGuard(recorder, run_id, job.StopSignal(), time.monotonic() + 60, timeout_minutes=1.0)
        config = TINY_PRESET.with_overrides(max_steps=100)
        reporter = job.ProgressReporter(recorder, run_id, guard, config, val_loss_before=6.0, feedback_lines=0)

        for step in range(1, 61):
            if step % 50 == 0:
                reporter.on_progress(TrainProgress(step=step, epoch=0, fraction=step / 100, elapsed_s=1.0,
                                                   train_loss=5.0, val_loss=None, best_val_loss=None))
            assert reporter.should_stop() is False
            [run] = read_runs(database)
            assert run.progress["step"] == step
    finally:
        engine.dispose()
