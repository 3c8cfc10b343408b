"""The metrics log of a run: JSON Lines always, TensorBoard too when it is installed."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


class MetricsLog:
    """Appends one JSON object per event to `metrics.jsonl` and mirrors numbers to TensorBoard."""

    def __init__(self, path: str | os.PathLike[str], *, tensorboard_dir: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # line buffering: each record reaches the file when written, so a killed run keeps its log
        self._stream = open(self.path, "a", encoding="utf-8", buffering=1)
        self._writer = _open_tensorboard(tensorboard_dir) if tensorboard_dir is not None else None

    def write(self, event: str, *, step: int, **values: Any) -> None:
        """Record `event` ("eval", "train", "samples", ...) at `step` with its values."""
        record = {"event": event, "step": step, "time": round(time.time(), 3), **values}
        self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")

        if self._writer is not None:
            for name, value in values.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    self._writer.add_scalar(f"{event}/{name}", value, step)
                elif isinstance(value, list) and all(isinstance(item, str) for item in value):
                    self._writer.add_text(event, "\n\n".join(value), step)

    def close(self) -> None:
        """Flush and close the file and the TensorBoard writer."""
        self._stream.close()
        if self._writer is not None:
            self._writer.close()

    def __enter__(self) -> MetricsLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _open_tensorboard(folder: str | os.PathLike[str]):
    """Return a SummaryWriter for `folder`, or None when the tensorboard package is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        logger.info("tensorboard is not installed; metrics go to the JSON Lines log only")
        return None
    return SummaryWriter(log_dir=str(folder))


def read_metrics(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read every record of a metrics.jsonl file, in order."""
    with open(path, encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]
