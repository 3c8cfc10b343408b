"""Model versions: recording a promotion and finding the version being served."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import ModelVersion, utcnow
from db.queries._checks import check_model_version, check_strict_json


def record_model_version(
    *,
    session: Session,
    version: str,
    path: str,
    metrics: dict[str, Any] | None = None,
    training_run_id: int | None = None,
    promoted_at: datetime | None = None,
) -> ModelVersion:
    """Record that `version` now serves users and return its row.

    Recording the version that is already current again (a bot restart, say)
    keeps its promotion time; promoting an older version back makes it current.
    """
    check_model_version(version)
    if metrics is not None:
        check_strict_json("metrics", metrics)

    current = current_model_version(session=session)
    existing = session.scalar(select(ModelVersion).where(ModelVersion.version == version))
    if existing is None:
        existing = ModelVersion(version=version, path=path, metrics=metrics, training_run_id=training_run_id,
                                promoted_at=promoted_at or utcnow())
        session.add(existing)
    else:
        existing.path = path
        if metrics is not None:
            existing.metrics = metrics
        if training_run_id is not None:
            existing.training_run_id = training_run_id
        if current is None or current.id != existing.id:
            existing.promoted_at = promoted_at or utcnow()
    session.flush()
    return existing


def current_model_version(*, session: Session) -> ModelVersion | None:
    """Return the most recently promoted model version, or None before the first."""
    return session.scalar(
        select(ModelVersion)
        .order_by(ModelVersion.promoted_at.desc(), ModelVersion.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
