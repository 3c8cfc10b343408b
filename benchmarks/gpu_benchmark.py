"""GPU: the `gpu` preset against the tutorial recipe (hidden 1024) on the same device and held-out songs.

Each side trains for the same number of seconds and reports training
characters per second and its validation loss at the end. The default of
200 s per side keeps one call, with start-up and evaluations, under 8 minutes.
To give each side 5 minutes, use two calls: `--only recipe --seconds 300`,
then `--only product --seconds 300`.

    python -m benchmarks.gpu_benchmark --data var/lyrics.txt

`--smoke` shrinks both models and the budget, so the script runs on a CPU in
seconds. The test suite uses it to check the script end to end.
"""

from __future__ import annotations

import argparse
import logging
import math
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.recipe_baseline import train_recipe
from benchmarks.training_common import RESULTS, machine, save
from training.config import GPU_PRESET
from training.dataset import load_songs, split_songs
from training.loop import pick_device, train
from training.metrics import read_metrics

RECIPE_HIDDEN = 1024
SMOKE_HIDDEN = 32


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("var/lyrics.txt"), help="the prepared Song ci lyrics.txt")
    parser.add_argument("--seconds", type=float, default=200.0, help="training time of each side")
    parser.add_argument("--only", choices=["recipe", "product"], help="run one side only")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda[:N]")
    parser.add_argument("--smoke", action="store_true", help="tiny models, for a check on a CPU")
    parser.add_argument("--out", type=Path, default=RESULTS / "gpu_benchmark.json", help="JSON result")
    return parser.parse_args(argv)


def run_recipe(songs, train_ids, val_ids, *, seconds: float, device: torch.device, hidden: int) -> dict:
    """Train the recipe for `seconds` on `device` and return its throughput and final validation loss."""
    run = train_recipe(songs, train_ids, val_ids, hidden_size=hidden, seconds=seconds, warmup_steps=3,
                       device=str(device))
    return {"hidden_size": hidden, "vocab_size": run.vocab_size, "steps": run.steps,
            "train_time_s": round(run.train_time_s, 2), "chars_per_s": run.chars_per_s,
            "val_loss": run.final_val_loss}


def run_product(data: Path, *, seconds: float, device: torch.device, smoke: bool) -> dict:
    """Train the `gpu` preset for `seconds` (evaluations included) and return its throughput and validation loss."""
    config = GPU_PRESET.with_overrides(time_budget_s=seconds, device=str(device), epochs=1000, patience=1000)
    if smoke:
        config = config.with_overrides(embedding_size=16, hidden_size=SMOKE_HIDDEN, projection_size=SMOKE_HIDDEN,
                                       batch_size=8, seq_len=16, warmup_steps=5, eval_every_steps=50)
    with tempfile.TemporaryDirectory() as folder:
        best = train(config, data=data, out_dir=folder, progress_bar=False)
        records = read_metrics(Path(folder) / "metrics.jsonl")
    evals = [r for r in records if r["event"] == "eval"]
    end = next(r for r in records if r["event"] == "end")
    return {"config": config.to_dict(), "steps": end["step"], "train_time_s": end["train_time_s"],
            "chars_per_s": evals[-1]["train_chars"] / max(end["train_time_s"], 1e-9),
            "val_loss": evals[-1]["val_loss"], "best_val_loss": best.metrics["val_loss"],
            "curve": [(r["train_time_s"], r["val_loss"]) for r in evals]}


def main(argv: list[str] | None = None) -> dict:
    """Run the chosen sides and return (and save) the result."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    device = pick_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    songs = load_songs(args.data)
    train_ids, val_ids = split_songs(len(songs), seed=GPU_PRESET.seed, val_fraction=GPU_PRESET.val_fraction)
    seconds = min(args.seconds, 2.0) if args.smoke else args.seconds
    started = time.perf_counter()
    result = {"benchmark": "gpu_benchmark", "machine": machine(), "device": str(device), "data": str(args.data),
              "seconds_per_side": seconds, "smoke": args.smoke}

    if args.only in (None, "recipe"):
        hidden = SMOKE_HIDDEN if args.smoke else RECIPE_HIDDEN
        print(f"recipe, hidden {hidden}, on {device} for {seconds:.0f} s", flush=True)
        result["recipe"] = run_recipe(songs, train_ids, val_ids, seconds=seconds, device=device, hidden=hidden)
        print(f"  {result['recipe']['chars_per_s']:.0f} characters/s, validation loss {result['recipe']['val_loss']:.4f}")
    if args.only in (None, "product"):
        print(f"gpu preset on {device} for {seconds:.0f} s", flush=True)
        result["product"] = run_product(args.data, seconds=seconds, device=device, smoke=args.smoke)
        print(f"  {result['product']['chars_per_s']:.0f} characters/s, "
              f"validation loss {result['product']['val_loss']:.4f}")
    if "recipe" in result and "product" in result:
        result["speedup"] = result["product"]["chars_per_s"] / result["recipe"]["chars_per_s"]
        result["product_lower_loss"] = bool(result["product"]["val_loss"] < result["recipe"]["val_loss"])
        print(f"speedup {result['speedup']:.2f}x; validation loss {result['recipe']['val_loss']:.4f} (recipe) "
              f"against {result['product']['val_loss']:.4f} (gpu preset)")

    result["wall_time_s"] = round(time.perf_counter() - started, 1)
    if not all(math.isfinite(result[side]["val_loss"]) for side in ("recipe", "product") if side in result):
        print("warning: a validation loss is not finite")
    save(result, args.out)
    return result


if __name__ == "__main__":
    main()
