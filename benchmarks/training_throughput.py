"""Training throughput at the recipe's own size: hidden 1024, batch 32, windows of 48 characters.

Both sides train the same network shape: embedding 128, two LSTM layers of
1024 and an extra linear layer of 1024. Each trains on the training songs for
the same number of seconds after a few uncounted warm-up steps, and reports
training characters per second. The recipe runs as the tutorial does:
float32, a Dataset of Python samples and Adam. The product runs its own loop:
one index tensor, carried state, bf16 autocast, fused AdamW and its
vocabulary with min_freq.

    python -m benchmarks.training_throughput --data var/lyrics.txt
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from benchmarks.recipe_baseline import RECIPE_BATCH, RECIPE_EMBEDDING, RECIPE_WINDOW, train_recipe
from benchmarks.training_common import RESULTS, machine, save
from model.network import CharLSTM
from model.vocab import Vocabulary
from training.config import CPU_PRESET, TrainConfig
from training.dataset import StreamBatches, encode_with_vocab, load_songs, split_songs
from training.loop import make_optimizer, pick_device, training_step

TARGET_SPEEDUP = 1.5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("var/lyrics.txt"), help="the prepared Song ci lyrics.txt")
    parser.add_argument("--seconds", type=float, default=60.0, help="training time measured on each side")
    parser.add_argument("--warmup-steps", type=int, default=3, help="steps run before the clock starts")
    parser.add_argument("--hidden", type=int, default=1024, help="LSTM width (and extra layer width) of both")
    parser.add_argument("--threads", type=int, help="torch CPU threads; default: one per core")
    parser.add_argument("--out", type=Path, default=RESULTS / "training_throughput.json", help="JSON result")
    return parser.parse_args(argv)


def product_throughput(
    songs: list[str], train_ids: list[int], config: TrainConfig, *, seconds: float, warmup_steps: int
) -> dict:
    """Train the product's network with its own step for `seconds` and return characters per second."""
    torch.manual_seed(config.seed)
    device = pick_device(config.device)
    vocab = Vocabulary.build((songs[i] for i in train_ids), min_freq=config.min_freq)
    train_songs = encode_with_vocab([songs[i] for i in train_ids], vocab)
    batches = StreamBatches(train_songs, batch_size=config.batch_size, seq_len=config.seq_len, seed=config.seed)
    model = CharLSTM(config.model_config(len(vocab))).to(device).train()
    optimizer = make_optimizer(model, config, device)

    state = None
    chars = 0
    steps = 0
    elapsed = 0.0
    epoch = 0
    while elapsed < seconds:
        for inputs, targets in batches.epoch(epoch):
            started = time.perf_counter()
            _, state = training_step(model, optimizer, inputs, targets, state, device=device, bf16=config.bf16,
                                     grad_clip=config.grad_clip, state_reset_prob=config.state_reset_prob)
            if warmup_steps:
                warmup_steps -= 1
                continue
            elapsed += time.perf_counter() - started
            chars += inputs.numel()
            steps += 1
            if elapsed >= seconds:
                break
        epoch += 1
        state = None

    return {"vocab_size": len(vocab), "steps": steps, "train_time_s": round(elapsed, 2),
            "chars_per_s": chars / elapsed, "bf16": config.bf16}


def main(argv: list[str] | None = None) -> dict:
    """Measure both sides and return (and save) the result."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    songs = load_songs(args.data)
    train_ids, val_ids = split_songs(len(songs), seed=CPU_PRESET.seed, val_fraction=CPU_PRESET.val_fraction)

    print(f"recipe at hidden {args.hidden}, batch {RECIPE_BATCH}, windows of {RECIPE_WINDOW}: {args.seconds:.0f} s")
    recipe = train_recipe(songs, train_ids, val_ids, hidden_size=args.hidden, seconds=args.seconds,
                          warmup_steps=args.warmup_steps, final_eval=False)
    print(f"  {recipe.chars_per_s:.0f} characters/s over {recipe.steps} steps")

    config = CPU_PRESET.with_overrides(
        embedding_size=RECIPE_EMBEDDING,
        hidden_size=args.hidden,
        projection_size=args.hidden,
        batch_size=RECIPE_BATCH,
        seq_len=RECIPE_WINDOW,
        device="cpu",
    )
    print(f"product at the same size: {args.seconds:.0f} s")
    product = product_throughput(songs, train_ids, config, seconds=args.seconds, warmup_steps=args.warmup_steps)
    print(f"  {product['chars_per_s']:.0f} characters/s over {product['steps']} steps")

    speedup = product["chars_per_s"] / recipe.chars_per_s
    result = {
        "benchmark": "training_throughput",
        "machine": machine(),
        "data": str(args.data),
        "shape": {"embedding": RECIPE_EMBEDDING, "hidden": args.hidden, "extra_linear": args.hidden,
                  "batch": RECIPE_BATCH, "seq_len": RECIPE_WINDOW},
        "recipe": {"vocab_size": recipe.vocab_size, "steps": recipe.steps,
                   "train_time_s": round(recipe.train_time_s, 2), "chars_per_s": recipe.chars_per_s},
        "product": product,
        "speedup": speedup,
        "target_speedup": TARGET_SPEEDUP,
        "target_met": speedup >= TARGET_SPEEDUP,
    }
    print(f"speedup {speedup:.2f}x (target {TARGET_SPEEDUP}x)")
    save(result, args.out)
    return result


if __name__ == "__main__":
    main()
