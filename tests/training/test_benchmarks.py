"""The training benchmark scripts run end to end with tiny budgets."""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmarks import gpu_benchmark


def test_gpu_benchmark_smoke_runs_on_cpu(tiny_lyrics: Path, tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    gpu_benchmark.main(["--data", str(tiny_lyrics), "--smoke", "--device", "cpu", "--seconds", "1",
                        "--out", str(out)])
    result = json.loads(out.read_text(encoding="utf-8"))

    assert result["device"] == "cpu"
    assert result["smoke"] is True
    for side in ("recipe", "product"):
        assert result[side]["chars_per_s"] > 0
        assert math.isfinite(result[side]["val_loss"])
    assert result["speedup"] > 0
