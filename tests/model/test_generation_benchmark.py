"""A tiny run of benchmarks/generation.py, so the script stays runnable."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from model.checkpoint import save_checkpoint

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "generation.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("generation_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_reports_speed_and_quality(tmp_path, trained_checkpoint, tiny_songs):
    checkpoint = tmp_path / "model.pt"
    save_checkpoint(trained_checkpoint, checkpoint)
    data = tmp_path / "lyrics.txt"
    data.write_text("\n".join(tiny_songs) + "\n", encoding="utf-8")
    out = tmp_path / "generation.json"
    arguments = ["--checkpoint", str(checkpoint), "--data", str(data), "--out", str(out), "--lines", "20"]
    arguments += ["--batch-one-lines", "3", "--rounds", "1", "--step-repeats", "3", "--bandwidth-mib", "8"]
    arguments += ["--acrostics", "6"]

    status = load_benchmark().main(arguments)

    results = json.loads(out.read_text(encoding="utf-8"))
    assert status == 0
    assert results["speed"]["floor_ms_per_char"] > 0
    assert results["speed"]["batch_one"]["ms_per_char"] > 0
    assert results["speed"]["batched_64"]["lines_per_s"] > 0
    assert set(results["speed"]["lstm_paths_batch_one"]) == {
        "fused_step_ms", "step_matmul_ms", "forward_default_ms", "forward_onednn_off_ms"
    }
    quality = results["quality"]
    assert quality["lines"] == 20
    assert quality["corpus_mean_line_length"] == 6
    assert 0 < quality["distinct_share"] <= 1
    assert 0 <= quality["verbatim_in_corpus_share"] <= 1
    for prompt_set in ("mixed", "same_start_t0.5"):
        with_resampling = quality[f"repeated_line_share_{prompt_set}_with_resampling"]
        without = quality[f"repeated_line_share_{prompt_set}_without_resampling"]
        assert 0 <= with_resampling <= without
