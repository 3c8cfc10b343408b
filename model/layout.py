"""The checkpoint folders under the data directory.

The command lines of `model` and `training` and the bot all follow this one
layout: `<data dir>/checkpoints/current.pt` is the model the bot serves, and
`<data dir>/checkpoints/runs/` contains one folder per training run. The data
directory is $LYRICBOT_DATA_DIR, `var` by default.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_VARIABLE = "LYRICBOT_DATA_DIR"
DEFAULT_DATA_DIR = "var"
CHECKPOINT_VARIABLE = "LYRICBOT_CHECKPOINT"


def data_dir_from_environment() -> Path:
    """Return $LYRICBOT_DATA_DIR, or `var` when it is unset."""
    return Path(os.environ.get(DATA_DIR_VARIABLE, DEFAULT_DATA_DIR))


def current_checkpoint(data_dir: str | os.PathLike[str]) -> Path:
    """Return the path of the served checkpoint under `data_dir`."""
    return Path(data_dir) / "checkpoints" / "current.pt"


def runs_dir(data_dir: str | os.PathLike[str]) -> Path:
    """Return the folder under `data_dir` that contains one sub-folder per training run."""
    return Path(data_dir) / "checkpoints" / "runs"
