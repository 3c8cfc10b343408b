"""The load benchmark runs end to end with a tiny model and a handful of users."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bot_load_benchmark_small_run(bot_checkpoint, tmp_path):
    out = tmp_path / "bot_load.json"
    finished = subprocess.run(
        [sys.executable, str(REPOSITORY / "benchmarks" / "bot_load.py"),
         "--checkpoint", str(bot_checkpoint), "--users", "3", "--prompts", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=240,
    )
    assert finished.returncode == 0, finished.stderr

    record = json.loads(out.read_text())
    for mode in ("batched", "unbatched"):
        figures = record["results"][mode]
        assert figures["replies"] == 6, mode
        assert figures["missing_replies"] == 0, mode
        assert figures["latency_p99_s"] > 0, mode
        assert figures["peak_memory_mib"] > 0, mode
        assert figures["exit_code"] == 0, mode
    assert record["results"]["unbatched"]["mean_batch"] == 1.0
