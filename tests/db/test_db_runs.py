"""Training runs: lifecycle, one active run at a time, cancelling and orphan recovery."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db_testing import TestDatabase
from db.errors import InvalidRunTransition, InvalidValue, RunAlreadyActive, RunNotFound
from db.models import RunStatus, RunTrigger, TrainingRun, utcnow
from db.queries import (
    active_run,
    cancel_run,
    current_model_version,
    finish_run,
    get_run,
    queue_run,
    recent_runs,
    record_model_version,
    recover_orphan_runs,
    request_cancel,
    start_run,
    update_run_progress,
)
from db_testing import start_together, worker_command


def _started(session: Session) -> TrainingRun:
    run = queue_run(session=session, trigger=RunTrigger.ADMIN, requested_by=42)
    start_run(session=session, run_id=run.id, worker_pid=4321, worker_host="trainer")
    session.commit()
    return run


def test_run_lifecycle_to_success(session: Session) -> None:
    run = queue_run(session=session, trigger="admin", requested_by=42)
    session.commit()
    assert run.status is RunStatus.QUEUED
    assert run.trigger is RunTrigger.ADMIN

    start_run(session=session, run_id=run.id)
    progress = {"phase": "train", "epoch": 1, "step": 120, "loss": 2.31, "eta_seconds": 95}
    update_run_progress(session=session, run_id=run.id, progress=progress)
    finish_run(session=session, run_id=run.id, status="succeeded", metrics={"val_loss": 2.1, "val_bpc": 3.0},
               checkpoint_path="var/checkpoints/runs/1/best.pt")
    session.commit()

    stored = get_run(session=session, run_id=run.id)
    assert stored.status is RunStatus.SUCCEEDED
    assert stored.progress == progress
    assert stored.metrics == {"val_loss": 2.1, "val_bpc": 3.0}
    assert stored.checkpoint_path == "var/checkpoints/runs/1/best.pt"
    assert stored.created_at <= stored.started_at <= stored.finished_at
    assert stored.worker_pid is not None
    assert active_run(session=session) is None


def test_second_run_rejected_with_active_run(session: Session) -> None:
    first = queue_run(session=session, trigger="schedule")
    session.commit()

    with pytest.raises(RunAlreadyActive) as caught:
        queue_run(session=session, trigger="admin", requested_by=42)
    assert caught.value.run.id == first.id
    assert f"training run {first.id} is already queued" in str(caught.value)

    start_run(session=session, run_id=first.id)
    session.commit()
    with pytest.raises(RunAlreadyActive, match="already running"):
        queue_run(session=session, trigger="schedule")


def test_new_run_allowed_after_finish(session: Session) -> None:
    first = _started(session)
    finish_run(session=session, run_id=first.id, status=RunStatus.REJECTED, metrics={"val_loss": 3.0})
    session.commit()
    second = queue_run(session=session, trigger="schedule")
    session.commit()
    assert second.id != first.id
    assert [run.id for run in recent_runs(session=session)] == [second.id, first.id]


def test_database_index_blocks_second_active_run(session: Session) -> None:
    # The rule holds for writes that skip queue_run's own check.
    session.add(TrainingRun(trigger=RunTrigger.SCHEDULE, status=RunStatus.QUEUED))
    session.commit()
    session.add(TrainingRun(trigger=RunTrigger.SCHEDULE, status=RunStatus.RUNNING))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    session.add(TrainingRun(trigger=RunTrigger.SCHEDULE, status=RunStatus.FAILED))
    session.commit()
    assert session.scalar(select(func.count()).select_from(TrainingRun)) == 2


def test_processes_race_for_one_run(database: TestDatabase) -> None:
    command = worker_command("queue", database.url, database.schema or "-")
    lines = start_together(*[command] * 4)

    queued = [line for line in lines if line.startswith("queued")]
    assert len(queued) == 1, lines
    winner = queued[0].split()[1]
    assert sorted(lines) == sorted([f"queued {winner}"] + [f"active {winner}"] * 3)


@pytest.mark.parametrize("status", ["queued", "running", "nonsense"])
def test_finish_run_requires_terminal_status(session: Session, status: str) -> None:
    run = _started(session)
    with pytest.raises(InvalidValue, match="invalid"):
        finish_run(session=session, run_id=run.id, status=status)


def test_finished_run_cannot_change(session: Session) -> None:
    run = _started(session)
    finish_run(session=session, run_id=run.id, status="failed", error="CUDA out of memory")
    session.commit()

    with pytest.raises(InvalidRunTransition, match="is failed and cannot become succeeded"):
        finish_run(session=session, run_id=run.id, status="succeeded")
    with pytest.raises(InvalidRunTransition):
        update_run_progress(session=session, run_id=run.id, progress={"step": 1})
    with pytest.raises(InvalidRunTransition):
        start_run(session=session, run_id=run.id)
    assert get_run(session=session, run_id=run.id).error == "CUDA out of memory"


def test_progress_needs_running_run(session: Session) -> None:
    run = queue_run(session=session, trigger="schedule")
    with pytest.raises(InvalidRunTransition):
        update_run_progress(session=session, run_id=run.id, progress={"step": 1})


@pytest.mark.parametrize("progress", [{"loss": float("nan")}, {"when": object()}, ["not", "a", "dict"]])
def test_progress_must_be_json(session: Session, progress: object) -> None:
    run = _started(session)
    with pytest.raises(InvalidValue, match="invalid progress"):
        update_run_progress(session=session, run_id=run.id, progress=progress)


def test_unknown_run(session: Session) -> None:
    with pytest.raises(RunNotFound, match="training run 999 not found"):
        get_run(session=session, run_id=999)
    with pytest.raises(RunNotFound):
        start_run(session=session, run_id=999)


def test_admin_run_needs_admin_id(session: Session) -> None:
    with pytest.raises(InvalidValue, match="requested_by"):
        queue_run(session=session, trigger="admin")
    with pytest.raises(InvalidValue, match="invalid run trigger"):
        queue_run(session=session, trigger="cron")


def test_cancel_request_seen_by_worker(session_factory) -> None:
    with session_factory.begin() as session:
        run = _started(session)
    with session_factory.begin() as bot_session:
        request_cancel(session=bot_session, run_id=run.id)

    with session_factory.begin() as worker_session:
        seen = update_run_progress(session=worker_session, run_id=run.id, progress={"step": 5})
        assert seen.cancel_requested_at is not None
        finish_run(session=worker_session, run_id=run.id, status="interrupted", error="cancelled by admin 42")

    with session_factory() as session:
        assert get_run(session=session, run_id=run.id).status is RunStatus.INTERRUPTED


def test_cancel_run_marks_interrupted(session: Session) -> None:
    run = queue_run(session=session, trigger="schedule")
    cancelled = cancel_run(session=session, run_id=run.id)
    session.commit()
    assert cancelled.status is RunStatus.INTERRUPTED
    assert cancelled.error == "cancelled by an admin"
    assert cancelled.cancel_requested_at is not None
    assert active_run(session=session) is None
    with pytest.raises(InvalidRunTransition):
        cancel_run(session=session, run_id=run.id)


def test_orphan_with_dead_pid_marked_failed(session: Session) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    run = queue_run(session=session, trigger="schedule")
    start_run(session=session, run_id=run.id, worker_pid=dead.pid)
    session.commit()

    orphans = recover_orphan_runs(session=session)
    session.commit()

    assert [orphan.id for orphan in orphans] == [run.id]
    stored = get_run(session=session, run_id=run.id)
    assert stored.status is RunStatus.FAILED
    assert f"worker process {dead.pid}" in stored.error
    assert stored.finished_at is not None


def test_live_worker_not_orphaned(session: Session) -> None:
    run = queue_run(session=session, trigger="schedule")
    start_run(session=session, run_id=run.id)  # this test process is the worker
    session.commit()
    assert recover_orphan_runs(session=session, stale_after=timedelta(minutes=5)) == []
    assert get_run(session=session, run_id=run.id).status is RunStatus.RUNNING


def test_other_host_orphaned_only_when_stale(session: Session) -> None:
    run = _started(session)  # worker 4321 on host "trainer"
    assert recover_orphan_runs(session=session, is_alive=lambda pid: False) == []
    assert recover_orphan_runs(session=session, stale_after=timedelta(minutes=5)) == []

    later = utcnow() + timedelta(minutes=10)
    orphans = recover_orphan_runs(session=session, stale_after=timedelta(minutes=5), now=later)
    session.commit()
    assert [orphan.id for orphan in orphans] == [run.id]
    assert "no heartbeat since" in get_run(session=session, run_id=run.id).error


def test_model_versions(session: Session) -> None:
    assert current_model_version(session=session) is None
    run = _started(session)
    record_model_version(session=session, version="aaa111", path="var/checkpoints/current.pt",
                         metrics={"val_bpc": 3.2})
    session.commit()
    first = current_model_version(session=session)
    promoted = first.promoted_at

    record_model_version(session=session, version="bbb222", path="var/checkpoints/current.pt",
                         metrics={"val_bpc": 3.1}, training_run_id=run.id)
    session.commit()
    current = current_model_version(session=session)
    assert (current.version, current.training_run_id, current.metrics) == ("bbb222", run.id, {"val_bpc": 3.1})

    # Recording the current version again, as a restarting bot does, keeps it current.
    record_model_version(session=session, version="bbb222", path="var/checkpoints/current.pt")
    session.commit()
    assert current_model_version(session=session).version == "bbb222"

    # Promoting the old version back makes it current again.
    record_model_version(session=session, version="aaa111", path="var/checkpoints/current.pt")
    session.commit()
    restored = current_model_version(session=session)
    assert restored.version == "aaa111"
    assert restored.promoted_at > promoted


def test_active_run_error_readable_after_rollback(session_factory) -> None:
    with session_factory.begin() as session:
        first = queue_run(session=session, trigger="schedule")
    with pytest.raises(RunAlreadyActive) as caught:
        with session_factory.begin() as session:
            queue_run(session=session, trigger="admin", requested_by=42)
    # The bot reads the error after its transaction rolled back.
    assert caught.value.run.id == first.id
    assert caught.value.run.status is RunStatus.QUEUED
    assert caught.value.run.created_at.tzinfo is not None
