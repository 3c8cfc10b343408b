"""Value checks that more than one query module runs before it writes."""

from __future__ import annotations

import json
from typing import Any

from db.errors import InvalidValue
from db.models import MAX_VERSION_LENGTH


def check_model_version(version: str) -> None:
    """Raise InvalidValue unless `version` has 1 to MAX_VERSION_LENGTH characters."""
    if not version or len(version) > MAX_VERSION_LENGTH:
        raise InvalidValue(f"invalid model version {version!r}: expected 1 to {MAX_VERSION_LENGTH} characters")


def check_strict_json(name: str, value: Any) -> None:
    """Raise InvalidValue, naming the field `name`, unless `value` serialises to JSON with no NaN or infinity."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidValue(f"invalid {name}: expected JSON without NaN or infinity ({error})") from None
