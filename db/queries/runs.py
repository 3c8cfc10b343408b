"""The training-run lifecycle: queue, start, progress, finish, cancel and orphan recovery."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.errors import InvalidRunTransition, InvalidValue, RunAlreadyActive, RunNotFound
from db.models import ACTIVE_STATUSES, TERMINAL_STATUSES, RunStatus, RunTrigger, TrainingRun, utcnow
from db.queries._checks import check_strict_json

MemberT = TypeVar("MemberT", bound=Enum)

logger = logging.getLogger(__name__)


def queue_run(
    *,
    session: Session,
    trigger: RunTrigger | str,
    requested_by: int | None = None,
) -> TrainingRun:
    """Create a queued run, or raise RunAlreadyActive carrying the run that is queued or running.

    A unique index on active runs backs the check, so two processes racing
    here get one run and one RunAlreadyActive.
    """
    trigger = _parse_trigger(trigger)
    if trigger is RunTrigger.ADMIN and requested_by is None:
        raise InvalidValue("an admin run needs requested_by, the admin's Telegram id")

    active = active_run(session=session)
    if active is not None:
        raise RunAlreadyActive(active)

    run = TrainingRun(trigger=trigger, requested_by=requested_by, status=RunStatus.QUEUED)
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError as error:
        # Another process queued a run between our check and our insert.
        active = active_run(session=session)
        if active is None:
            raise
        raise RunAlreadyActive(active) from error
    logger.info("queued training run %s (trigger %s, requested by %s)", run.id, trigger.value, requested_by)
    return run


def start_run(
    *,
    session: Session,
    run_id: int,
    worker_pid: int | None = None,
    worker_host: str | None = None,
) -> TrainingRun:
    """Mark a queued run as running in this process (or the worker given) and return it."""
    run = _locked_run(session, run_id)
    if run.status is not RunStatus.QUEUED:
        raise InvalidRunTransition(run_id, run.status.value, RunStatus.RUNNING.value)

    now = utcnow()
    run.status = RunStatus.RUNNING
    run.started_at = now
    run.heartbeat_at = now
    run.worker_pid = os.getpid() if worker_pid is None else worker_pid
    run.worker_host = worker_host or socket.gethostname()
    session.flush()
    logger.info("training run %s started by pid %s on %s", run_id, run.worker_pid, run.worker_host)
    return run


def update_run_progress(*, session: Session, run_id: int, progress: dict[str, Any]) -> TrainingRun:
    """Replace a running run's progress (JSON: phase, epoch, step, loss, eta_seconds, ...).

    Also records a heartbeat. The returned run's `cancel_requested_at` is set
    once an admin requested cancellation, so the worker can stop.
    """
    _check_json("progress", progress)
    run = _locked_run(session, run_id)
    if run.status is not RunStatus.RUNNING:
        raise InvalidRunTransition(run_id, run.status.value, "updated with progress")

    run.progress = progress
    run.heartbeat_at = utcnow()
    session.flush()
    return run


def finish_run(
    *,
    session: Session,
    run_id: int,
    status: RunStatus | str,
    metrics: dict[str, Any] | None = None,
    checkpoint_path: str | None = None,
    error: str | None = None,
) -> TrainingRun:
    """Close an active run with a terminal status, its metrics, checkpoint and error."""
    status = _parse_status(status)
    if status not in TERMINAL_STATUSES:
        raise InvalidValue(
            f"invalid final status {status.value!r}: expected one of "
            + ", ".join(sorted(s.value for s in TERMINAL_STATUSES))
        )
    if metrics is not None:
        _check_json("metrics", metrics)

    run = _locked_run(session, run_id)
    return _finish(session, run, status, metrics=metrics, checkpoint_path=checkpoint_path, error=error)


def _finish(
    session: Session,
    run: TrainingRun,
    status: RunStatus,
    *,
    metrics: dict[str, Any] | None = None,
    checkpoint_path: str | None = None,
    error: str | None = None,
) -> TrainingRun:
    # The caller has already locked `run` and checked `status` and `metrics`.
    if run.status not in ACTIVE_STATUSES:
        raise InvalidRunTransition(run.id, run.status.value, status.value)

    run.status = status
    run.finished_at = utcnow()
    if metrics is not None:
        run.metrics = metrics
    if checkpoint_path is not None:
        run.checkpoint_path = checkpoint_path
    if error is not None:
        run.error = error
    session.flush()
    logger.info("training run %s finished: %s", run.id, status.value)
    return run


def request_cancel(*, session: Session, run_id: int) -> TrainingRun:
    """Request that an active run stop; its worker reads `cancel_requested_at` on its next progress update."""
    run = _locked_run(session, run_id)
    if run.status not in ACTIVE_STATUSES:
        raise InvalidRunTransition(run_id, run.status.value, "cancelled")
    if run.cancel_requested_at is None:
        run.cancel_requested_at = utcnow()
    session.flush()
    return run


def cancel_run(*, session: Session, run_id: int, reason: str = "cancelled by an admin") -> TrainingRun:
    """Record an active run as interrupted, for a worker that stopped or one that never started."""
    run = _locked_run(session, run_id)
    if run.cancel_requested_at is None and run.status in ACTIVE_STATUSES:
        run.cancel_requested_at = utcnow()
    return _finish(session, run, RunStatus.INTERRUPTED, error=reason)


def get_run(*, session: Session, run_id: int) -> TrainingRun:
    """Return the run with this id, read fresh from the database; raise RunNotFound otherwise."""
    run = session.get(TrainingRun, run_id, populate_existing=True)
    if run is None:
        raise RunNotFound(run_id)
    return run


def active_run(*, session: Session) -> TrainingRun | None:
    """Return the run that is queued or running, or None."""
    return session.scalar(
        select(TrainingRun)
        .where(TrainingRun.status.in_(ACTIVE_STATUSES))
        .execution_options(populate_existing=True)
    )


def recent_runs(*, session: Session, limit: int = 5) -> list[TrainingRun]:
    """Return the newest runs first."""
    return list(
        session.scalars(
            select(TrainingRun)
            .order_by(TrainingRun.created_at.desc(), TrainingRun.id.desc())
            .limit(limit)
            .execution_options(populate_existing=True)
        )
    )


def process_is_alive(pid: int) -> bool:
    """Return whether a process with this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # It exists but belongs to another user.
        return True
    return True


def recover_orphan_runs(
    *,
    session: Session,
    stale_after: timedelta | None = None,
    is_alive: Callable[[int], bool] = process_is_alive,
    host: str | None = None,
    now: datetime | None = None,
) -> list[TrainingRun]:
    """Mark active runs whose worker died as failed and return them.

    A run is an orphan when its worker ran on this host and that process is
    gone, or, with `stale_after`, when its last heartbeat (or its queueing,
    for a run that never started) is older than that.
    """
    host = host or socket.gethostname()
    now = now or utcnow()
    orphans = []
    for run in session.scalars(
        select(TrainingRun)
        .where(TrainingRun.status.in_(ACTIVE_STATUSES))
        .execution_options(populate_existing=True)
    ):
        reason = _orphan_reason(run, stale_after, is_alive, host, now)
        if reason is None:
            continue
        # Only a row still active is closed: the worker may have finished it
        # since the select above.
        closed = session.execute(
            update(TrainingRun)
            .where(TrainingRun.id == run.id, TrainingRun.status.in_(ACTIVE_STATUSES))
            .values(status=RunStatus.FAILED, finished_at=now, error=reason)
            .execution_options(synchronize_session=False)
        ).rowcount
        if closed:
            session.refresh(run)
            orphans.append(run)
            logger.warning("training run %s marked failed: %s", run.id, reason)
    return orphans


def _orphan_reason(
    run: TrainingRun,
    stale_after: timedelta | None,
    is_alive: Callable[[int], bool],
    host: str,
    now: datetime,
) -> str | None:
    # NOTE: a process id reused by an unrelated process since the worker died
    # makes the run look alive; stale_after still catches it.
    if run.worker_pid is not None and run.worker_host == host and not is_alive(run.worker_pid):
        return f"orphaned: worker process {run.worker_pid} on {host} is gone"
    last_sign_of_life = run.heartbeat_at or run.created_at
    if stale_after is not None and now - last_sign_of_life > stale_after:
        return f"orphaned: no heartbeat since {last_sign_of_life.isoformat()}"
    return None


def _locked_run(session: Session, run_id: int) -> TrainingRun:
    # FOR UPDATE keeps two processes from moving the same run at once on
    # PostgreSQL; SQLite ignores it and relies on BEGIN IMMEDIATE instead.
    run = session.scalar(
        select(TrainingRun)
        .where(TrainingRun.id == run_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if run is None:
        raise RunNotFound(run_id)
    return run


def _parse_status(status: RunStatus | str) -> RunStatus:
    return _parse_member(RunStatus, status, "run status")


def _parse_trigger(trigger: RunTrigger | str) -> RunTrigger:
    return _parse_member(RunTrigger, trigger, "run trigger")


def _parse_member(kind: type[MemberT], value: MemberT | str, label: str) -> MemberT:
    try:
        return kind(value)
    except ValueError:
        raise InvalidValue(
            f"invalid {label} {value!r}: expected one of " + ", ".join(member.value for member in kind)
        ) from None


def _check_json(name: str, value: dict[str, Any]) -> None:
    if not isinstance(value, dict):
        raise InvalidValue(f"invalid {name}: expected a dict, got {type(value).__name__}")
    check_strict_json(name, value)
