"""Retraining cost: a run's duration and validation loss, and the bot's reply latency while it trains.

Prepares the Song ci from ../shared/corpus/songci and trains the starting
model, or takes --checkpoint. Stores 200 generated lines rated 4 or 5 by
distinct users. Then starts the bot with retraining as a subprocess polling the
local Bot API server of the tests. Simulated users send one-character prompts,
each waiting for the reply and a short pause before the next, first for
--baseline-seconds without a run, then while an admin's /retrain runs. Reports
the run's duration, validation loss before and after, and p50 / p99 reply
latency in both windows. The target is a p99 during the run of at most 2x the
baseline.

    python benchmarks/retrain_latency.py                        # the cpu preset: about 25 minutes
    python benchmarks/retrain_latency.py --preset tiny --train-steps 200 --retrain-steps 50   # a smoke run

Figures print and are saved to benchmarks/results/retrain_latency.json (or --out).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from benchmarks.bot_load import PROMPT_POOL, percentile  # noqa: E402
from benchmarks.training_common import machine, save  # noqa: E402

TOKEN = "123456:retrain-benchmark-TOKEN"
ADMIN_ID = 777
SONG_CI = REPOSITORY / ".." / "shared" / "corpus" / "songci"


def run_command(arguments: list[str], log: Path) -> None:
    """Run a module of this project as a subprocess, its output in `log`; exit naming the log on failure."""
    with log.open("w") as stream:
        result = subprocess.run([sys.executable, *arguments], cwd=REPOSITORY, stdout=stream, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(REPOSITORY)})
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(arguments[:3])} failed with status {result.returncode}; see {log}")


def prepare(work: Path, args: argparse.Namespace) -> tuple[Path, Path]:
    """Return the corpus and the served checkpoint in `work`, preparing and training them when missing."""
    lyrics = work / "lyrics.txt"
    if not lyrics.is_file():
        if not SONG_CI.is_dir():
            raise SystemExit(f"the Song ci is not at {SONG_CI.resolve()}; this benchmark needs ../shared/corpus")
        print(f"preparing {lyrics} from {SONG_CI.resolve()}")
        run_command(["-m", "data", "prepare", str(SONG_CI), "--out", str(lyrics)], work / "prepare.log")

    served = work / "checkpoints" / "current.pt"
    served.parent.mkdir(parents=True, exist_ok=True)
    if args.checkpoint is not None:
        shutil.copy(args.checkpoint, served)
    elif not served.is_file():
        budget = ["--max-steps", str(args.train_steps)] if args.train_steps else ["--time-budget", str(args.train_minutes)]
        print(f"training the starting model ({args.preset} preset, {' '.join(budget)})")
        run_command(["-m", "training", "--data", str(lyrics), "--preset", args.preset, *budget,
                     "--out", str(work / "initial"), "--no-progress"], work / "initial-training.log")
        shutil.copy(work / "initial" / "best.pt", served)
    return lyrics, served


def store_rated_lines(url: str, checkpoint: Path, count: int) -> None:
    """Generate `count` lines with the served model and store each rated 4 or 5 by its own user."""
    from sqlalchemy.orm import Session

    from db import queries
    from db.engine import make_sync_engine, upgrade
    from model.generate import GenerationRequest, LineWriter

    upgrade(url)
    writer = LineWriter.from_path(checkpoint)
    prompts = [character for character in PROMPT_POOL if character in writer.checkpoint.vocab]
    requests = [GenerationRequest(prompts[i % len(prompts)], seed=i) for i in range(count)]
    results = writer.write(requests)
    engine = make_sync_engine(url)
    with Session(engine) as session, session.begin():
        for number, (request, result) in enumerate(zip(requests, results, strict=True)):
            user_id = 100_000 + number
            queries.upsert_user(session=session, user_id=user_id)
            generation = queries.record_generation(session=session, user_id=user_id, chat_id=user_id,
                                                   prompt=request.prompt, text=result.text,
                                                   model_version=writer.version)
            queries.rate(session=session, generation_id=generation.id, user_id=user_id, chat_id=user_id,
                         score=5 if number % 2 else 4)
    engine.dispose()


async def serve(data_dir: Path) -> None:
    """Run the bot with retraining until SIGTERM; the settings come from the environment."""
    from bot.app import build_application, start_polling, stop_polling
    from bot.logs import configure_logging
    from bot.retraining import register_retraining, start_retraining, stop_retraining
    from bot.settings import Settings

    settings = Settings.from_env(env_file=None)
    configure_logging(settings.log_level)
    application = build_application(settings)
    register_retraining(application, settings)
    await start_polling(application)
    await start_retraining(application)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await stop_retraining(application)
    await stop_polling(application)


async def measure(work: Path, lyrics: Path, served: Path, args: argparse.Namespace) -> dict:
    """Start the bot, drive it without and during a run, and return the figures."""
    from sqlalchemy.orm import Session

    from db.engine import make_sync_engine
    from db.models import TrainingRun
    from tests.botapi import BotApiServer

    url = f"sqlite:///{work / 'lyricbot.sqlite3'}"
    store_rated_lines(url, served, args.rated_lines)

    async with BotApiServer(token=TOKEN) as server:
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("LYRICBOT_", "TELEGRAM_"))}
        environment.update(
            PYTHONPATH=str(REPOSITORY), TELEGRAM_BOT_TOKEN=TOKEN, LYRICBOT_BOT_API_URL=server.url,
            LYRICBOT_DATA_DIR=str(work), LYRICBOT_LYRICS=str(lyrics), LYRICBOT_CHECKPOINT=str(served),
            LYRICBOT_DATABASE_URL=url, LYRICBOT_ADMIN_IDS=str(ADMIN_ID), LYRICBOT_RATE_LIMIT="0",
            LYRICBOT_API_MAX_RATE="0", LYRICBOT_RETRAIN_SCHEDULE="off",
            LYRICBOT_RETRAIN_MINUTES=str(args.retrain_minutes), LYRICBOT_RETRAIN_TIMEOUT_MINUTES="60",
        )
        if args.retrain_steps:
            environment["LYRICBOT_RETRAIN_MAX_STEPS"] = str(args.retrain_steps)
        with (work / "bot.log").open("w") as log:
            bot = await asyncio.create_subprocess_exec(sys.executable, __file__, "serve", str(work), cwd=REPOSITORY,
                                                       env=environment, stdout=log, stderr=log)
        try:
            prompts = [character for character in PROMPT_POOL]
            users = [server.user(1000 + number) for number in range(args.users)]
            await users[0].ask("/start", timeout=300)  # waits out the start-up
            admin = server.user(ADMIN_ID, language_code="en")
            await admin.ask("/status", timeout=60)  # retraining is open once /status replies

            baseline = await load(users, prompts, until=sleep_for(args.baseline_seconds))
            started = time.monotonic()
            admin.send_text("/retrain")
            await admin.next_message(timeout=60)
            outcome_arrived = asyncio.ensure_future(admin.next_message(timeout=args.retrain_minutes * 60 + 1800))
            during = await load(users, prompts, until=outcome_arrived)
            outcome = outcome_arrived.result()
            wall = time.monotonic() - started
        finally:
            bot.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(bot.wait(), 60)
            except TimeoutError:
                bot.kill()

    engine = make_sync_engine(url)
    with Session(engine) as session:
        run = session.query(TrainingRun).order_by(TrainingRun.id.desc()).first()
        metrics, status, error = run.metrics or {}, run.status.value, run.error
    engine.dispose()
    return {
        "outcome_message": outcome.text,
        "run_status": status,
        "run_error": error,
        "run_wall_s": round(wall, 1),
        "job_duration_s": metrics.get("duration_s"),
        "val_loss_before": metrics.get("val_loss_before"),
        "val_loss_after": metrics.get("val_loss_after"),
        "feedback_lines": metrics.get("feedback_lines"),
        "steps": metrics.get("steps"),
        "baseline": summarize(baseline),
        "during_run": summarize(during),
        "p99_ratio": round(percentile(during, 0.99) / percentile(baseline, 0.99), 2) if baseline and during else None,
    }


async def sleep_for(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def load(users, prompts: list[str], *, until) -> list[float]:
    """Have every user send prompts, each after the previous reply and a pause, until `until` is done."""
    stop = asyncio.ensure_future(until)
    latencies: list[float] = []
    generator = random.Random(len(users))

    async def simulate(user) -> None:
        while not stop.done():
            update = user.send_text(generator.choice(prompts))
            reply = await user.next_message(timeout=120)
            latencies.append(reply.sent_at - update.injected_at)
            await asyncio.sleep(generator.uniform(0.2, 0.6))

    await asyncio.gather(*(simulate(user) for user in users))
    await stop
    return latencies


def summarize(latencies: list[float]) -> dict:
    return {
        "replies": len(latencies),
        "p50_s": round(percentile(latencies, 0.5), 3) if latencies else None,
        "p99_s": round(percentile(latencies, 0.99), 3) if latencies else None,
    }


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        asyncio.run(serve(Path(sys.argv[2])))
        return

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="cpu", help="preset of the starting model when it is trained here")
    parser.add_argument("--checkpoint", type=Path, help="a starting model trained on the prepared Song ci")
    parser.add_argument("--train-minutes", type=float, default=13.0, help="training budget of the starting model")
    parser.add_argument("--train-steps", type=int, help="train the starting model for this many steps instead")
    parser.add_argument("--retrain-minutes", type=float, default=10.0, help="the run's training budget")
    parser.add_argument("--retrain-steps", type=int, help="cap on the run's optimizer steps")
    parser.add_argument("--rated-lines", type=int, default=200, help="rated lines stored before the run")
    parser.add_argument("--users", type=int, default=10, help="simulated users sending prompts")
    parser.add_argument("--baseline-seconds", type=float, default=60.0, help="length of the window without a run")
    parser.add_argument("--work-dir", type=Path, help="keep the corpus, models and logs here for a rerun")
    parser.add_argument("--out", type=Path, default=REPOSITORY / "benchmarks" / "results" / "retrain_latency.json")
    args = parser.parse_args()

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="retrain-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    for stale in (work / "lyricbot.sqlite3", work / "checkpoints" / "runs"):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    lyrics, served = prepare(work, args)
    figures = asyncio.run(measure(work, lyrics, served, args))
    result = {
        "benchmark": "retrain_latency",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "cpu_count": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "settings": {key: str(value) for key, value in vars(args).items()},
        "work_dir": str(work),
        **figures,
    }
    for key in ("run_status", "job_duration_s", "val_loss_before", "val_loss_after", "baseline", "during_run",
                "p99_ratio"):
        print(f"{key}: {result[key]}")
    save(result, args.out)


if __name__ == "__main__":
    main()
