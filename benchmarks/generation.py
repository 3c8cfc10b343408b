"""Generation speed and line quality of a checkpoint.

Speed: batch-1 milliseconds per character, against the floor of reading the
weights once per step at the measured memory bandwidth. Also the raw batch-1
step time of each LSTM path, and lines per second at 64 prompts. Quality: for sampled lines at default settings, the mean line length
against the corpus, the share of distinct lines, the share found verbatim in
the corpus, and how often an acrostic repeats a line with and without resampling.

    python benchmarks/generation.py --checkpoint var/checkpoints/current.pt --data var/lyrics.txt

Without a checkpoint, the speed part runs on random weights of the `cpu`
preset's size and the quality part is skipped. Figures print and are saved to
benchmarks/results/generation.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import torch

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from benchmarks.results_io import write_json  # noqa: E402
from model.checkpoint import Checkpoint, load_checkpoint  # noqa: E402
from model.generate import MAX_LINE_RETRIES, GenerationRequest, LineWriter  # noqa: E402
from model.inference import FusedStepper  # noqa: E402
from model.network import CharLSTM, LSTMConfig  # noqa: E402
from model.vocab import Vocabulary  # noqa: E402

# Bytes summed to measure memory bandwidth: far larger than any CPU cache, so
# the figure is main-memory bandwidth, not cache bandwidth.
BANDWIDTH_MIB = 512

# Targets: batch 1 within 1.5x of the floor, and mean line length within 20% of the corpus mean.
FLOOR_TARGET_RATIO = 1.5
LINE_LENGTH_TOLERANCE = 0.2


def measure_read_bandwidth(size_mib: int = BANDWIDTH_MIB, repeats: int = 5) -> float:
    """Return the best memory read bandwidth in bytes per second, from summing a tensor of `size_mib` MiB."""
    size = size_mib * 2**20
    data = torch.ones(size // 4, dtype=torch.float32)
    data.sum()  # first touch maps the pages
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        data.sum()
        best = min(best, time.perf_counter() - start)
    return size / best


def bytes_read_per_step(model: CharLSTM) -> int:
    """Return the bytes of weights one generation step reads: all but the unused embedding rows."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    embedding = model.embedding.weight
    return total - embedding.numel() * embedding.element_size() + embedding.shape[1] * embedding.element_size()


def time_per_call(function: Callable[[], object], *, repeats: int, warmup: int = 20) -> float:
    """Return the median seconds per call over `repeats` calls after `warmup` calls."""
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def time_lstm_paths(model: CharLSTM, *, repeats: int) -> dict[str, float]:
    """Return milliseconds per batch-1 step of each path: fused copy, model.step, nn.LSTM with and without oneDNN."""
    ids = torch.tensor([model.config.vocab_size - 1])
    state = model.initial_state(1)
    stepper = FusedStepper(model)
    timings = {}
    with torch.no_grad():
        timings["fused_step_ms"] = 1e3 * time_per_call(lambda: stepper.step(ids, state), repeats=repeats)
        timings["step_matmul_ms"] = 1e3 * time_per_call(lambda: model.step(ids, state), repeats=repeats)
        timings["forward_default_ms"] = 1e3 * time_per_call(lambda: model(ids[:, None], state), repeats=repeats)
        # the flag is process-wide, which is why the product steps with its own matrix products instead
        with warnings.catch_warnings():
            # torch 2.13 warns on this switch about TF32 on Intel GPUs, which a CPU run does not use
            warnings.simplefilter("ignore", UserWarning)
            with torch.backends.mkldnn.flags(enabled=False):
                timings["forward_onednn_off_ms"] = 1e3 * time_per_call(
                    lambda: model(ids[:, None], state), repeats=repeats
                )
    return timings


def time_batch_one(writer: LineWriter, prompts: Sequence[str]) -> dict[str, float]:
    """Write one line per prompt at batch 1 and return milliseconds per output character."""
    for prompt in prompts[:5]:  # warm-up
        writer.write([GenerationRequest(prompt, seed=0)])
    characters = 0
    start = time.perf_counter()
    for seed, prompt in enumerate(prompts):
        # every output character, "/" included, costs exactly one model step
        characters += len(writer.write([GenerationRequest(prompt, seed=seed)])[0].text)
    elapsed = time.perf_counter() - start
    return {"ms_per_char": 1e3 * elapsed / characters, "characters": characters, "lines": len(prompts)}


def time_batched(writer: LineWriter, prompts: Sequence[str], *, batch_size: int, rounds: int) -> dict[str, float]:
    """Write `batch_size` lines per call and return the median lines per second over `rounds` calls."""
    rates = []
    for round_number in range(rounds + 1):
        batch = [GenerationRequest(prompts[(round_number * batch_size + i) % len(prompts)], seed=i) for i in range(batch_size)]
        start = time.perf_counter()
        results = writer.write(batch)
        elapsed = time.perf_counter() - start
        if round_number:  # the first round warms up
            rates.append(sum(len(r.lines) for r in results) / elapsed)
    return {"lines_per_s": statistics.median(rates), "batch_size": batch_size, "rounds": rounds}


def load_corpus_lines(path: Path) -> list[list[str]]:
    """Return the lyric lines of each song in a lyrics.txt file, without their "/"."""
    songs = []
    for song in path.read_text(encoding="utf-8-sig").splitlines():
        lines = [line for line in song.strip().split("/") if line]
        if lines:
            songs.append(lines)
    return songs


def measure_quality(writer: LineWriter, corpus: list[list[str]], *, count: int, seed: int) -> dict[str, float]:
    """Sample `count` lines at default settings and compare them with the corpus."""
    checkpoint = writer.checkpoint
    held_out = [corpus[i] for i in checkpoint.validation_songs if i < len(corpus)] or corpus
    corpus_lines = [line for song in corpus for line in song]
    known_lines = set(corpus_lines)

    # prompts follow the first characters of held-out lines, so common starts come up as often as in lyrics
    rng = random.Random(seed)
    starts = [line[0] for song in held_out for line in song if line[0] in checkpoint.vocab]
    prompts = [rng.choice(starts) for _ in range(count)]
    lines: list[str] = []
    for offset in range(0, count, 64):
        batch = [GenerationRequest(p, seed=seed + offset + i) for i, p in enumerate(prompts[offset : offset + 64])]
        lines += [r.lines[0][:-1] for r in writer.write(batch)]

    corpus_mean = statistics.mean(len(line) for line in corpus_lines)
    mean_length = statistics.mean(len(line) for line in lines)
    return {
        "lines": len(lines),
        "mean_line_length": mean_length,
        "corpus_mean_line_length": corpus_mean,
        "length_ratio": mean_length / corpus_mean,
        "distinct_share": len(set(lines)) / len(lines),
        "verbatim_in_corpus_share": sum(line in known_lines for line in lines) / len(lines),
        "cut_at_max_length_share": sum(len(line) >= writer.max_line_length for line in lines) / len(lines),
        "examples": lines[:10],
    }


def measure_repetition(checkpoint: Checkpoint, corpus: list[list[str]], *, answers: int, seed: int) -> dict[str, float]:
    """Write 4-line acrostics and return the share of lines that repeat an earlier line of the same result.

    Two prompt sets: four different common line starts, and one start written
    four times at temperature 0.5, the case most likely to repeat a line.
    """
    rng = random.Random(seed)
    starts = [line[0] for song in corpus for line in song if line[0] in checkpoint.vocab]
    mixed = [GenerationRequest("".join(rng.choice(starts) for _ in range(4))) for _ in range(answers)]
    same = [GenerationRequest(rng.choice(starts) * 4, temperature=0.5) for _ in range(answers)]

    shares: dict[str, float] = {"acrostics": answers}
    for name, retries in (("with_resampling", MAX_LINE_RETRIES), ("without_resampling", 0)):
        writer = LineWriter(checkpoint, max_line_retries=retries)
        for prompt_set, requests in (("mixed", mixed), ("same_start_t0.5", same)):
            repeated = total = 0
            for offset in range(0, answers, 64):
                batch = [replace(r, seed=seed + offset + i) for i, r in enumerate(requests[offset : offset + 64])]
                for result in writer.write(batch):
                    repeated += len(result.lines) - len(set(result.lines))
                    total += len(result.lines)
            shares[f"repeated_line_share_{prompt_set}_{name}"] = repeated / total
    return shares


def random_writer(data: Path | None) -> LineWriter:
    """Build a writer on random weights of the cpu preset's size, for speed figures without a trained model."""
    from training.config import CPU_PRESET

    if data is not None:
        vocab = Vocabulary.build(data.read_text(encoding="utf-8-sig").splitlines(), min_freq=CPU_PRESET.min_freq)
    else:
        # about the vocabulary size of the Song ci at the preset's minimum frequency
        vocab = Vocabulary.build(["".join(chr(0x4E00 + i) for i in range(4800)) + "/"], min_freq=1)
    config: LSTMConfig = CPU_PRESET.model_config(len(vocab))
    model = CharLSTM(config).eval()
    checkpoint = Checkpoint(model.state_dict(), config, vocab, CPU_PRESET.to_dict(), {}, "random", [])
    return LineWriter(checkpoint)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measurements, print them and save them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, help="trained checkpoint; without it, random cpu-preset weights")
    parser.add_argument("--data", type=Path, help="lyrics.txt the checkpoint was trained on, for the quality figures")
    parser.add_argument("--lines", type=int, default=1000, help="sampled lines for the quality figures (default 1000)")
    parser.add_argument("--batch-one-lines", type=int, default=100, help="lines written at batch 1 (default 100)")
    parser.add_argument("--rounds", type=int, default=5, help="timed batches of 64 (default 5)")
    parser.add_argument("--step-repeats", type=int, default=200, help="timed batch-1 steps per LSTM path (default 200)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--bandwidth-mib", type=int, default=BANDWIDTH_MIB, help=f"MiB summed to measure bandwidth (default {BANDWIDTH_MIB})"
    )
    parser.add_argument("--acrostics", type=int, default=200, help="four-line acrostics for the repetition figures (default 200)")
    parser.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads (default: torch's choice, one per core); on a busy machine 1 is far steadier",
    )
    parser.add_argument("--out", type=Path, default=REPOSITORY / "benchmarks" / "results" / "generation.json")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    writer = LineWriter(load_checkpoint(args.checkpoint)) if args.checkpoint else random_writer(args.data)
    model = writer.model
    results: dict[str, object] = {
        "script": "benchmarks/generation.py",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            # other work on the machine skews every figure, so the load is recorded with them
            "load_average_1_5_15_min": list(os.getloadavg()),
        },
        "checkpoint": str(args.checkpoint) if args.checkpoint else "random weights, cpu preset size",
        "model": {**model.config.to_dict(), "parameters": model.num_parameters()},
    }

    # prompts: the commonest line starts of the corpus when there is one, else any known characters
    corpus = load_corpus_lines(args.data) if args.data else None
    if corpus:
        counts = Counter(line[0] for song in corpus for line in song if line[0] in writer.vocab)
        prompts = [char for char, _ in counts.most_common(200)]
    else:
        prompts = [char for char in writer.vocab.characters() if char != "/"][:200]

    # speed: the floor is one read of the weights per step at main-memory bandwidth. The bandwidth
    # is measured last because its large tensor evicts the weights from the CPU caches.
    batch_one = time_batch_one(writer, [prompts[i % len(prompts)] for i in range(args.batch_one_lines)])
    lstm_paths = time_lstm_paths(model, repeats=args.step_repeats)
    batched = time_batched(writer, prompts, batch_size=64, rounds=args.rounds)
    bandwidth = measure_read_bandwidth(args.bandwidth_mib)
    weight_bytes = bytes_read_per_step(model)
    floor_ms = 1e3 * weight_bytes / bandwidth
    results["speed"] = {
        "read_bandwidth_gb_per_s": bandwidth / 1e9,
        "weight_bytes_per_step": weight_bytes,
        "floor_ms_per_char": floor_ms,
        "batch_one": batch_one,
        "batch_one_over_floor": batch_one["ms_per_char"] / floor_ms,
        "floor_target_ratio": FLOOR_TARGET_RATIO,
        "lstm_paths_batch_one": lstm_paths,
        "batched_64": batched,
    }

    # quality needs trained weights and the corpus they came from
    if args.checkpoint and corpus:
        quality = measure_quality(writer, corpus, count=args.lines, seed=args.seed)
        quality["length_target"] = f"within {LINE_LENGTH_TOLERANCE:.0%} of the corpus mean"
        quality |= measure_repetition(writer.checkpoint, corpus, answers=args.acrostics, seed=args.seed)
        results["quality"] = quality
    else:
        results["quality"] = "skipped: pass --checkpoint and --data"

    print(json.dumps(results, ensure_ascii=False, indent=2))
    write_json(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
