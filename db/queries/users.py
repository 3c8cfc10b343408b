"""Users and their per-user generation settings."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from db.errors import InvalidSetting, UserNotFound
from db.models import MAX_SAMPLING_LEVEL_LENGTH, User, utcnow
from db.queries._upsert import dialect_insert

# Sampling temperatures outside this range give either one fixed line or noise.
MIN_TEMPERATURE = 0.05
MAX_TEMPERATURE = 3.0

_UNSET = object()


@dataclass(frozen=True)
class UserSettings:
    """A user's generation settings; None means the bot's default."""

    sampling_level: str | None = None
    temperature: float | None = None


def upsert_user(
    *,
    session: Session,
    user_id: int,
    username: str | None = None,
    first_name: str | None = None,
    language_code: str | None = None,
    now: datetime | None = None,
) -> User:
    """Insert the user or refresh their names, language and last-seen time; settings are kept."""
    now = now or utcnow()
    values = {
        "id": user_id,
        "username": _clip(username, 64),
        "first_name": _clip(first_name, 256),
        "language_code": _clip(language_code, 16),
        "last_seen_at": now,
    }
    statement = dialect_insert(session, User).values(created_at=now, **values)
    statement = statement.on_conflict_do_update(
        index_elements=[User.id],
        set_={key: value for key, value in values.items() if key != "id"},
    ).returning(User)
    # populate_existing refreshes a User already in this session's identity map.
    return session.scalars(statement, execution_options={"populate_existing": True}).one()


def get_user(*, session: Session, user_id: int) -> User | None:
    """Return the user with this Telegram id, or None."""
    return session.get(User, user_id)


def get_user_settings(*, session: Session, user_id: int) -> UserSettings:
    """Return the user's generation settings; an unknown user has the defaults."""
    user = session.get(User, user_id)
    if user is None:
        return UserSettings()
    return UserSettings(sampling_level=user.sampling_level, temperature=user.temperature)


def set_user_settings(
    *,
    session: Session,
    user_id: int,
    sampling_level: str | None | object = _UNSET,
    temperature: float | None | object = _UNSET,
) -> UserSettings:
    """Change the settings given (None resets one to the default) and return them all.

    Raises UserNotFound for an unknown user and InvalidSetting for a value out of range.
    """
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound(user_id)

    if sampling_level is not _UNSET:
        user.sampling_level = _check_sampling_level(sampling_level)
    if temperature is not _UNSET:
        user.temperature = _check_temperature(temperature)
    session.flush()
    return UserSettings(sampling_level=user.sampling_level, temperature=user.temperature)


def _check_sampling_level(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_SAMPLING_LEVEL_LENGTH:
        raise InvalidSetting(
            f"invalid sampling level {value!r}: expected a name of 1 to "
            f"{MAX_SAMPLING_LEVEL_LENGTH} characters, or None for the default"
        )
    return value.strip()


def _check_temperature(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not MIN_TEMPERATURE <= value <= MAX_TEMPERATURE:
        raise InvalidSetting(
            f"invalid temperature {value!r}: expected a number from {MIN_TEMPERATURE} "
            f"to {MAX_TEMPERATURE}, or None for the default"
        )
    return float(value)


def _clip(value: str | None, length: int) -> str | None:
    # Telegram caps names well below these lengths; clipping keeps a longer
    # value from failing the whole update on PostgreSQL, which checks lengths.
    return None if value is None else value[:length]
