"""Users: upsert and per-user generation settings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.errors import InvalidSetting, UserNotFound
from db.models import User
from db.queries import UserSettings, get_user, get_user_settings, set_user_settings, upsert_user


def test_upsert_user_inserts(session: Session) -> None:
    user = upsert_user(session=session, user_id=5_000_000_001, username="mei", first_name="梅", language_code="zh-hans")
    session.commit()

    stored = get_user(session=session, user_id=5_000_000_001)
    assert stored is not None
    assert (stored.username, stored.first_name, stored.language_code) == ("mei", "梅", "zh-hans")
    assert user.created_at.tzinfo is not None
    assert stored.created_at == stored.last_seen_at


def test_upsert_user_updates_names_keeps_creation(session: Session) -> None:
    first = datetime(2026, 1, 1, tzinfo=timezone.utc)
    later = first + timedelta(days=3)
    upsert_user(session=session, user_id=7, username="old", now=first)
    session.commit()

    upsert_user(session=session, user_id=7, username="new", language_code="en", now=later)
    session.commit()

    user = get_user(session=session, user_id=7)
    assert user.username == "new"
    assert user.language_code == "en"
    assert user.created_at == first
    assert user.last_seen_at == later
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_upsert_user_keeps_settings(session: Session) -> None:
    upsert_user(session=session, user_id=7)
    set_user_settings(session=session, user_id=7, sampling_level="bold", temperature=1.2)
    session.commit()

    upsert_user(session=session, user_id=7, username="again")
    session.commit()

    assert get_user_settings(session=session, user_id=7) == UserSettings("bold", 1.2)


def test_upsert_user_clips_long_names(session: Session) -> None:
    user = upsert_user(session=session, user_id=8, first_name="名" * 300)
    session.commit()
    assert len(user.first_name) == 256


def test_settings_default_for_unknown_user(session: Session) -> None:
    assert get_user_settings(session=session, user_id=404) == UserSettings(None, None)


def test_settings_partial_update_and_reset(session: Session) -> None:
    upsert_user(session=session, user_id=7)
    set_user_settings(session=session, user_id=7, sampling_level="calm")
    set_user_settings(session=session, user_id=7, temperature=0.6)
    session.commit()
    assert get_user_settings(session=session, user_id=7) == UserSettings("calm", 0.6)

    set_user_settings(session=session, user_id=7, sampling_level=None)
    session.commit()
    assert get_user_settings(session=session, user_id=7) == UserSettings(None, 0.6)


def test_settings_unknown_user_rejected(session: Session) -> None:
    with pytest.raises(UserNotFound, match="user 404 not found"):
        set_user_settings(session=session, user_id=404, temperature=1.0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", 0.0),
        ("temperature", -1.0),
        ("temperature", 99.0),
        ("temperature", float("nan")),
        ("temperature", "hot"),
        ("temperature", True),
        ("sampling_level", ""),
        ("sampling_level", "   "),
        ("sampling_level", "x" * 17),
        ("sampling_level", 3),
    ],
)
def test_settings_invalid_values(session: Session, field: str, value: object) -> None:
    upsert_user(session=session, user_id=7)
    with pytest.raises(InvalidSetting, match=f"invalid {field.replace('_', ' ')}"):
        set_user_settings(session=session, user_id=7, **{field: value})
