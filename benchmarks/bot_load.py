"""Bot throughput and latency under load, with batching on and off.

Starts the local Bot API server of the tests in this process and `python -m bot` as a
subprocess polling it. 100 simulated users (by default) each send 10 one-character
prompts, waiting for each reply before the next. Reports, per mode:

- replies per second, from the first prompt to the last reply;
- p50 and p99 latency from the update being queued at the server to the bot's
  sendMessage arriving there (so it includes long-polling delay);
- the bot process's peak resident memory (VmHWM);
- the generation worker's mean batch size, read from its log;
- the bot process's CPU time per reply.

    python benchmarks/bot_load.py --checkpoint var/checkpoints/current.pt

Without --checkpoint, the model is a `cpu`-preset-sized network with random weights and
a 6,000-character vocabulary. Untrained weights rarely close a line early, so its lines
run to the maximum length: slower than a trained model's, a pessimistic stand-in.
The bot runs with the client-side API rate limit off (LYRICBOT_API_MAX_RATE=0), because
the default 30 requests per second is Telegram's limit, not this machine's.
Figures print and are saved to benchmarks/results/bot_load.json (or --out).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from benchmarks.results_io import save  # noqa: E402
from tests.botapi import BotApiServer  # noqa: E402

TOKEN = "123456:benchmark-TOKEN"

# Common characters that start lines; prompts are drawn from those in the model's vocabulary.
PROMPT_POOL = "春夏秋冬风花雪月山水云天日夜星河江湖心梦人家东西南北长远高来去回望听看"


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile of `values` (share in 0..1)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def random_cpu_checkpoint(path: Path) -> Path:
    """Save a `cpu`-preset-sized model with random weights and a 6,000-character vocabulary."""
    import torch

    from model.checkpoint import Checkpoint, save_checkpoint
    from model.network import CharLSTM
    from model.vocab import Vocabulary
    from training.config import CPU_PRESET

    characters = [chr(code) for code in range(0x4E00, 0x4E00 + 6000)] + ["/"]
    vocab = Vocabulary.build(["".join(characters)], min_freq=1)
    torch.manual_seed(0)
    config = CPU_PRESET.model_config(len(vocab))
    model = CharLSTM(config)
    checkpoint = Checkpoint(
        model_state=model.state_dict(), model_config=config, vocab=vocab,
        train_config={"preset": "cpu", "weights": "random"},
        metrics={"val_loss": float("nan"), "val_bpc": float("nan"), "val_accuracy": float("nan")},
        corpus_fingerprint="random", validation_songs=[],
    )
    save_checkpoint(checkpoint, path)
    return path


def known_prompts(checkpoint_path: Path) -> list[str]:
    from model.checkpoint import CheckpointError, load_checkpoint

    try:
        vocab = load_checkpoint(checkpoint_path).vocab
    except CheckpointError as error:
        raise SystemExit(f"cannot use --checkpoint: {error}") from None
    prompts = [character for character in PROMPT_POOL if character in vocab]
    if not prompts:
        raise SystemExit(f"the model at {checkpoint_path} knows none of the prompt characters {PROMPT_POOL}")
    return prompts


def cpu_seconds(pid: int) -> float | None:
    """Return the user plus system CPU time a process has used so far, from /proc (Linux only)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # fields 14 and 15 of /proc/PID/stat (utime, stime), counted after the ")" of the name
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_memory_mib(pid: int) -> float | None:
    """Return the process's peak resident set size in MiB, from /proc (Linux only)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match[1]) / 1024 if match else None


async def run_mode(checkpoint: Path, *, batch_size: int, users: int, prompts_per_user: int,
                   prompt_pool: list[str], work_dir: Path) -> dict:
    """Start a bot with `batch_size`, drive it with the simulated users, and return the figures."""
    async with BotApiServer(token=TOKEN) as server:
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("LYRICBOT_", "TELEGRAM_"))}
        environment.update(
            PYTHONPATH=str(REPOSITORY),
            TELEGRAM_BOT_TOKEN=TOKEN,
            LYRICBOT_BOT_API_URL=server.url,
            LYRICBOT_DATA_DIR=str(work_dir / f"batch-{batch_size}"),
            LYRICBOT_CHECKPOINT=str(checkpoint),
            LYRICBOT_BATCH_SIZE=str(batch_size),
            LYRICBOT_RATE_LIMIT="0",
            LYRICBOT_API_MAX_RATE="0",
            LYRICBOT_LOG_LEVEL="INFO",
        )
        log_path = work_dir / f"bot-batch-{batch_size}.log"
        with log_path.open("w") as log_file:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=work_dir, env=environment, stdout=log_file, stderr=log_file,
            )
            try:
                # one warm-up prompt waits out the start-up and the first model call,
                # unless the bot exits first (a bad setting or checkpoint)
                warm_up = asyncio.ensure_future(server.user(1).ask(prompt_pool[0], timeout=300))
                exited = asyncio.ensure_future(process.wait())
                await asyncio.wait({warm_up, exited}, return_when=asyncio.FIRST_COMPLETED)
                if not warm_up.done():
                    warm_up.cancel()
                    log_file.flush()
                    tail = "\n".join(log_path.read_text().splitlines()[-5:])
                    raise SystemExit(f"the bot exited with status {process.returncode} before answering; its log ends:\n{tail}")
                exited.cancel()
                warm_up.result()

                latencies: list[float] = []
                missing = 0
                generator = random.Random(0)

                async def simulate(user) -> None:
                    nonlocal missing
                    for _ in range(prompts_per_user):
                        update = user.send_text(generator.choice(prompt_pool))
                        try:
                            reply = await user.next_message(timeout=60)
                        except TimeoutError:
                            missing += 1
                            continue
                        latencies.append(reply.sent_at - update.injected_at)

                simulated = [server.user(1000 + number) for number in range(users)]
                cpu_before = cpu_seconds(process.pid)
                started = time.monotonic()
                await asyncio.gather(*(simulate(user) for user in simulated))
                elapsed = time.monotonic() - started
                cpu_after = cpu_seconds(process.pid)
                peak = peak_memory_mib(process.pid)
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        await asyncio.wait_for(process.wait(), 60)
                    except TimeoutError:
                        process.kill()
                        await process.wait()

    log = log_path.read_text()
    batches = re.search(r"generation worker stopped after (\d+) batches, (\d+) requests", log)
    mean_batch = int(batches[2]) / int(batches[1]) if batches and int(batches[1]) else None
    return {
        "batch_size_limit": batch_size,
        "prompts": users * prompts_per_user,
        "replies": len(latencies),
        "missing_replies": missing,
        "seconds": round(elapsed, 2),
        "replies_per_second": round(len(latencies) / elapsed, 1),
        "latency_p50_s": round(percentile(latencies, 0.50), 3) if latencies else None,
        "latency_p99_s": round(percentile(latencies, 0.99), 3) if latencies else None,
        "latency_mean_s": round(statistics.fmean(latencies), 3) if latencies else None,
        "peak_memory_mib": round(peak, 1) if peak else None,
        # CPU time of the bot process per reply: a figure that other load on the machine
        # changes far less than the wall-clock ones
        "bot_cpu_ms_per_reply": (
            round((cpu_after - cpu_before) * 1000 / len(latencies), 2)
            if latencies and cpu_before is not None and cpu_after is not None else None
        ),
        "mean_batch": round(mean_batch, 2) if mean_batch else None,
        "exit_code": process.returncode,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, help="checkpoint to serve; default: random cpu-size weights")
    parser.add_argument("--users", type=int, default=100, help="simulated users, all active at once")
    parser.add_argument("--prompts", type=int, default=10, help="prompts each user sends, one after another")
    parser.add_argument("--batch-size", type=int, default=64, help="batch limit of the batched run")
    parser.add_argument("--out", type=Path, default=REPOSITORY / "benchmarks" / "results" / "bot_load.json")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bot-load-") as folder:
        work_dir = Path(folder)
        # the bot runs in the work folder, so a relative path would point into it
        checkpoint = arguments.checkpoint.resolve() if arguments.checkpoint else random_cpu_checkpoint(work_dir / "random-cpu.pt")
        prompt_pool = known_prompts(checkpoint)

        results = {}
        for label, batch_size in (("batched", arguments.batch_size), ("unbatched", 1)):
            figures = asyncio.run(run_mode(
                checkpoint, batch_size=batch_size, users=arguments.users,
                prompts_per_user=arguments.prompts, prompt_pool=prompt_pool, work_dir=work_dir,
            ))
            results[label] = figures
            print(f"{label:>9}: {figures['replies']}/{figures['prompts']} replies in {figures['seconds']} s, "
                  f"{figures['replies_per_second']} replies/s, p50 {figures['latency_p50_s']} s, "
                  f"p99 {figures['latency_p99_s']} s, peak memory {figures['peak_memory_mib']} MiB, "
                  f"mean batch {figures['mean_batch']}, bot CPU {figures['bot_cpu_ms_per_reply']} ms/reply",
                  flush=True)

    record = {
        "benchmark": "bot_load",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "checkpoint": str(arguments.checkpoint) if arguments.checkpoint else "random weights, cpu preset size",
        "users": arguments.users,
        "prompts_per_user": arguments.prompts,
        "results": results,
    }
    save(record, arguments.out)


if __name__ == "__main__":
    main()
