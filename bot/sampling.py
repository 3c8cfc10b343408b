"""The three sampling levels a user can choose with /settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SamplingLevel:
    key: str
    temperature: float
    top_p: float


# A lower temperature and a tighter nucleus (top-p) give safer, more common lines.
# Higher values bring rarer characters and more surprising lines, but also more odd ones.
LEVELS: dict[str, SamplingLevel] = {
    "calm": SamplingLevel("calm", temperature=0.6, top_p=0.8),
    "balanced": SamplingLevel("balanced", temperature=0.8, top_p=0.9),
    "bold": SamplingLevel("bold", temperature=1.0, top_p=0.97),
}

DEFAULT_LEVEL = "balanced"


def level_for(key: str | None) -> SamplingLevel:
    """Return the level stored as `key`, or the default for an unknown or missing key."""
    return LEVELS.get(key or DEFAULT_LEVEL, LEVELS[DEFAULT_LEVEL])
