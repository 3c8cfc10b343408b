"""Method parameters from a query string, a form, a multipart body or a JSON body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import ApiError, bad_request


@dataclass
class FilePart:
    """A file sent in a multipart body."""

    filename: str | None
    content_type: str
    data: bytes


class Params:
    """Typed access to one call's parameters.

    Clients send values as form strings (python-telegram-bot JSON-encodes
    objects such as `reply_markup` into a string) or as a JSON body, so each
    getter accepts both forms.
    """

    def __init__(self, values: dict[str, Any], files: dict[str, FilePart] | None = None):
        self.values = values
        self.files = files or {}

    @classmethod
    async def from_request(cls, request: web.Request) -> "Params":
        """Read the parameters of an HTTP request in any encoding the Bot API accepts."""
        values: dict[str, Any] = dict(request.query)
        files: dict[str, FilePart] = {}

        if request.method != "POST" or not request.can_read_body:
            return cls(values, files)

        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = await request.json()
            except json.JSONDecodeError as exc:
                raise bad_request(f"can't parse JSON body: {exc}") from exc
            if not isinstance(body, dict):
                raise bad_request("JSON body must be an object")
            values.update(body)
        elif content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.filename is not None:
                    data = await part.read(decode=False)
                    part_type = part.headers.get("Content-Type", "application/octet-stream")
                    files[part.name] = FilePart(part.filename, part_type, bytes(data))
                else:
                    values[part.name] = await part.text()
        else:
            form = await request.post()
            values.update({key: value for key, value in form.items() if isinstance(value, str)})

        return cls(values, files)

    def __contains__(self, name: str) -> bool:
        return name in self.values or name in self.files

    def as_dict(self) -> dict[str, Any]:
        """Return the parameters as recorded in the call log, with files by name and size."""
        recorded = dict(self.values)
        for name, part in self.files.items():
            recorded[name] = f"<file {part.filename!r}, {len(part.data)} bytes>"
        return recorded

    def get_str(self, name: str, default: str | None = None) -> str | None:
        """Return a string parameter, or `default` when it is absent."""
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, name: str, default: int | None = None) -> int | None:
        """Return an integer parameter, or `default` when it is absent."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise bad_request(f"parameter {name!r} must be an integer, not a boolean")
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise bad_request(f"parameter {name!r} must be an integer, got {value!r}") from exc

    def get_float(self, name: str, default: float | None = None) -> float | None:
        """Return a number parameter, or `default` when it is absent."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise bad_request(f"parameter {name!r} must be a number, got {value!r}") from exc

    def get_bool(self, name: str, default: bool = False) -> bool:
        """Return a boolean parameter, accepting JSON `true`/`false` and form strings."""
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0", ""):
            return False
        raise bad_request(f"parameter {name!r} must be a boolean, got {value!r}")

    def get_json(self, name: str, default: Any = None) -> Any:
        """Return an object parameter, decoding it when it arrived as a JSON string."""
        value = self.values.get(name)
        if value is None:
            return default
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise bad_request(f"can't parse {name} JSON object") from exc

    def require_chat_id(self) -> int:
        """Return `chat_id` as an integer. Telegram's `@channel` usernames are not supported here."""
        value = self.values.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise bad_request("chat not found") from exc


def require(condition: bool, error: ApiError) -> None:
    """Raise `error` unless `condition` holds."""
    if not condition:
        raise error
