"""Write benchmark results as JSON. The module imports no torch, so every benchmark script can use it."""

from __future__ import annotations

import json
from pathlib import Path


def write_json(result: dict, path: Path) -> None:
    """Write the result as indented UTF-8 JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def save(result: dict, path: Path) -> None:
    """Write the result as indented JSON, creating the folder, and print its path."""
    write_json(result, path)
    print(f"saved {path}")
