"""Texts built from training-run rows: progress lines, outcomes and the /status summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from db.models import RunStatus, TrainingRun
from bot.retraining.texts import RetrainTexts

# Maximum length of a failure reason quoted to an admin; the full text stays on the row.
MAX_REASON_CHARS = 300


def format_time(moment: datetime | None, zone: ZoneInfo, texts: RetrainTexts) -> str:
    """Return `moment` as "YYYY-MM-DD HH:MM:SS TZ" in the schedule's time zone."""
    if moment is None:
        return texts.unknown
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def format_duration(seconds: float | None, texts: RetrainTexts) -> str:
    """Return a duration as "1 h 02 min", "3 min 05 s" or "12 s"."""
    if seconds is None:
        return texts.unknown
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def format_loss(value: Any) -> str:
    """Return a loss with four decimals, or "-" when there is none yet."""
    return f"{value:.4f}" if isinstance(value, int | float) else "-"


def progress_text(run: TrainingRun, texts: RetrainTexts) -> str:
    """Return the progress message of an active run."""
    progress = run.progress or {}
    phase_key = progress.get("phase", run.status.value)
    phase = texts.phases.get(phase_key, phase_key)
    return texts.progress.format(run_id=run.id, phase=phase, details=progress_details(progress, texts))


def progress_details(progress: dict[str, Any], texts: RetrainTexts) -> str:
    """Return the epoch, step, loss and ETA part of a progress message, or "" before training starts."""
    if "step" not in progress:
        return ""
    fraction = progress.get("fraction") or 0.0
    return texts.progress_details.format(
        epoch=min(progress.get("epoch", 0) + 1, progress.get("epochs") or 1),
        epochs=progress.get("epochs") or 1,
        step=progress["step"],
        loss=format_loss(progress.get("loss")),
        val_loss=format_loss(progress.get("val_loss")),
        percent=round(100 * fraction),
        eta=format_duration(progress.get("eta_seconds"), texts),
    )


def outcome_text(run: TrainingRun, texts: RetrainTexts) -> str:
    """Return the final report of a finished run: promoted, rejected, failed or interrupted."""
    metrics = run.metrics or {}
    before = format_loss(metrics.get("val_loss_before"))
    after = format_loss(metrics.get("val_loss_after"))
    if run.status is RunStatus.SUCCEEDED:
        return texts.promoted.format(
            run_id=run.id, before=before, after=after, version=metrics.get("candidate_version", texts.unknown),
            duration=format_duration(metrics.get("duration_s"), texts),
        )
    if run.status is RunStatus.REJECTED:
        return texts.rejected.format(run_id=run.id, before=before, after=after,
                                     tolerance=f"{metrics.get('tolerance', 0):g}")
    reason = (run.error or texts.unknown)[:MAX_REASON_CHARS]
    return texts.failed.format(run_id=run.id, status=texts.statuses[run.status.value], reason=reason)


def recent_row(run: TrainingRun, texts: RetrainTexts, zone: ZoneInfo) -> str:
    """Return one line of /status's run list."""
    metrics = run.metrics or {}
    if "val_loss_before" in metrics:
        outcome = f"{format_loss(metrics.get('val_loss_before'))} → {format_loss(metrics.get('val_loss_after'))}"
    elif run.error:
        outcome = run.error[:80]
    else:
        outcome = ""
    return texts.status_recent_row.format(
        run_id=run.id, trigger=texts.triggers[run.trigger.value], status=texts.statuses[run.status.value],
        when=format_time(run.finished_at or run.started_at or run.created_at, zone, texts), outcome=outcome,
    ).rstrip()
