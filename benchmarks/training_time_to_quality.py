"""Time to quality: the `cpu` preset against the tutorial recipe at hidden 256, on the same held-out songs.

The recipe trains for a fixed time (10 minutes by default) and its final
validation loss becomes the target. The `cpu` preset then trains with its time
budget set to a third of that, and the benchmark reports the training time at
which its validation loss first reaches the target. Both are scored with
training.evaluate.score_songs on the validation songs of the preset's seeded
split; evaluation time is not counted as training time.

    python -m benchmarks.training_time_to_quality --data var/lyrics.txt
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.recipe_baseline import RecipeRun, train_recipe
from benchmarks.training_common import RESULTS, machine, save
from training.config import CPU_PRESET
from training.dataset import load_songs, split_songs
from training.loop import train
from training.metrics import read_metrics


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("var/lyrics.txt"), help="the prepared Song ci lyrics.txt")
    parser.add_argument("--recipe-minutes", type=float, default=10.0, help="training time of the recipe")
    parser.add_argument("--recipe-hidden", type=int, default=256, help="LSTM width of the recipe")
    parser.add_argument("--eval-every", type=float, default=60.0,
                        help="seconds of recipe training between evaluations; the preset evaluates 3 times as often")
    parser.add_argument("--recipe-result", type=Path,
                        help="reuse the recipe side of an earlier result JSON instead of training it again")
    parser.add_argument("--preset-overrides", type=json.loads, default={},
                        help='JSON object of TrainConfig fields to change in the cpu preset, e.g. {"hidden_size": 384}')
    parser.add_argument("--threads", type=int, help="torch CPU threads for both; default: one per core")
    parser.add_argument("--out", type=Path, default=RESULTS / "training_time_to_quality.json", help="JSON result")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Run both trainings and return (and save) the result."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.threads:
        torch.set_num_threads(args.threads)
    songs = load_songs(args.data)
    train_ids, val_ids = split_songs(len(songs), seed=CPU_PRESET.seed, val_fraction=CPU_PRESET.val_fraction)
    recipe_seconds = args.recipe_minutes * 60

    # the recipe sets the target
    if args.recipe_result is not None:
        recipe = RecipeRun.from_dict(json.loads(args.recipe_result.read_text(encoding="utf-8"))["recipe"])
        recipe_seconds = recipe.train_time_s
        print(f"recipe result from {args.recipe_result}: {recipe.final_val_loss:.4f} after {recipe_seconds:.0f} s")
    else:
        print(f"recipe, hidden {args.recipe_hidden}, for {recipe_seconds:.0f} s of training")
        recipe = train_recipe(
            songs, train_ids, val_ids,
            hidden_size=args.recipe_hidden,
            seconds=recipe_seconds,
            eval_every_s=args.eval_every,
            on_eval=lambda seconds, loss: print(f"  recipe {seconds:7.1f} s  validation loss {loss:.4f}", flush=True),
        )
    target = recipe.final_val_loss

    # the product, with a third of the time; its budget counts evaluations too, so it trains a little less
    product_budget = recipe_seconds / 3
    config = CPU_PRESET.with_overrides(time_budget_s=product_budget, eval_every_s=args.eval_every / 3,
                                       threads=args.threads, **args.preset_overrides)
    print(f"cpu preset with a {product_budget:.0f} s budget")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        train(config, data=args.data, out_dir=folder, progress_bar=False)
        records = read_metrics(Path(folder) / "metrics.jsonl")
    product_wall = time.perf_counter() - started
    evals = [r for r in records if r["event"] == "eval"]
    for record in evals:
        print(f"  product {record['train_time_s']:7.1f} s  validation loss {record['val_loss']:.4f}", flush=True)
    end = next(r for r in records if r["event"] == "end")
    reached = next((r for r in evals if r["val_loss"] <= target), None)

    result = {
        "benchmark": "training_time_to_quality",
        "machine": machine(),
        "data": str(args.data),
        "songs": len(songs),
        "validation_songs": len(val_ids),
        "recipe": {
            "hidden_size": recipe.hidden_size,
            "steps": recipe.steps,
            "train_chars": recipe.train_chars,
            "vocab_size": recipe.vocab_size,
            "train_time_s": round(recipe.train_time_s, 1),
            "chars_per_s": round(recipe.chars_per_s),
            "curve": recipe.curve,
            "final_val_loss": target,
        },
        "product": {
            "config": config.to_dict(),
            "budget_s": product_budget,
            "wall_time_s": round(product_wall, 1),
            "train_time_s": end["train_time_s"],
            "chars_per_s": round(evals[-1]["train_chars"] / max(end["train_time_s"], 1e-9)),
            "curve": [(r["train_time_s"], r["train_chars"], r["val_loss"]) for r in evals],
            "final_val_loss": evals[-1]["val_loss"],
            "best_val_loss": end["best_val_loss"],
            "time_to_target_s": reached["train_time_s"] if reached else None,
            "elapsed_to_target_s": reached["elapsed_s"] if reached else None,
        },
    }
    ratio = reached["train_time_s"] / recipe_seconds if reached else None
    result["time_ratio"] = ratio
    result["target_met"] = bool(ratio is not None and ratio <= 1 / 3)

    print(f"recipe: {target:.4f} after {recipe.train_time_s:.0f} s ({recipe.chars_per_s:.0f} characters/s)")
    if reached:
        print(f"cpu preset: reached it after {reached['train_time_s']:.0f} s of training "
              f"({reached['elapsed_s']:.0f} s with evaluations), {ratio:.2f} of the recipe's time")
    else:
        print(f"cpu preset: did not reach it; best {end['best_val_loss']:.4f} in {product_budget:.0f} s")
    save(result, args.out)
    return result


if __name__ == "__main__":
    main()
