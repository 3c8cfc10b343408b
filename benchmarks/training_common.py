"""Helpers shared by the training benchmarks: where a figure was measured, and saving results."""

from __future__ import annotations

import platform
from pathlib import Path

import torch

from benchmarks.results_io import save

__all__ = ["RESULTS", "machine", "save"]

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    """Describe where the figures were measured."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }

