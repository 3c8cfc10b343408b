"""The loss plot sent after a run: training and validation loss per step, from the run's metrics.jsonl."""

from __future__ import annotations

import io
import json
import logging
import math
from pathlib import Path

logger = logging.getLogger(__name__)


def read_loss_curves(metrics_file: Path) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """Return (training, validation) loss points as (step, loss) from a metrics.jsonl file.

    Unreadable lines are skipped with a log line, because a run killed
    mid-write can leave a partial last line.
    """
    training: list[tuple[int, float]] = []
    validation: list[tuple[int, float]] = []
    for number, line in enumerate(metrics_file.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            logger.warning("%s line %d is not JSON; skipped", metrics_file, number)
            continue
        event, step = record.get("event"), record.get("step")
        if not isinstance(step, int):
            continue
        if event == "train" and _is_loss(record.get("loss")):
            training.append((step, record["loss"]))
        if event == "eval":
            if _is_loss(record.get("train_loss")):
                training.append((step, record["train_loss"]))
            if _is_loss(record.get("val_loss")):
                validation.append((step, record["val_loss"]))
    return sorted(set(training)), sorted(set(validation))


def render_loss_plot(metrics_file: Path, *, run_id: int, val_loss_before: float | None) -> bytes:
    """Draw the run's loss curves, with the current model's validation loss as a dashed line, as PNG bytes."""
    # Agg draws without a display; importing pyplot after selecting it keeps the bot headless.
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    training, validation = read_loss_curves(metrics_file)
    figure, axes = pyplot.subplots(figsize=(6, 4), dpi=100)
    try:
        if training:
            axes.plot(*zip(*training), marker=".", label="training loss")
        if validation:
            axes.plot(*zip(*validation), marker="o", label="validation loss")
        if val_loss_before is not None:
            axes.axhline(val_loss_before, linestyle="--", color="grey", label="validation loss before the run")
        axes.set_xlabel("step")
        axes.set_ylabel("cross-entropy (nats per character)")
        axes.set_title(f"Retraining run #{run_id}")
        axes.grid(alpha=0.3)
        axes.legend()
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        pyplot.close(figure)


def _is_loss(value: object) -> bool:
    return isinstance(value, float) and math.isfinite(value)
