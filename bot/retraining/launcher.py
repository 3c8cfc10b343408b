"""Starting the retraining job as a child process, and describing how a child ended."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from bot.retraining.settings import RetrainSettings
from bot.settings import Settings
from model import layout

logger = logging.getLogger(__name__)

LOG_NAME = "job.log"
# Characters of the job's log quoted in a failure reason.
LOG_TAIL_CHARS = 400

# The repository root, so the child finds the `training` package when the bot runs from a checkout.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def runs_dir(settings: Settings) -> Path:
    """Return the folder that contains one sub-folder per run: `<data dir>/checkpoints/runs`."""
    return layout.runs_dir(settings.data_dir)


def run_folder(settings: Settings, run_id: int) -> Path:
    """Return the folder of run `run_id`; the job writes its log, metrics and checkpoint there."""
    return runs_dir(settings) / str(run_id)


def job_command(run_id: int, settings: Settings, retrain: RetrainSettings) -> list[str]:
    """Return the command line of the job that carries out the queued run `run_id`."""
    command = [
        sys.executable, "-m", "training", "retrain",
        "--run-id", str(run_id),
        "--database-url", settings.database_url,
        "--lyrics", str(settings.lyrics_path),
        "--checkpoint", str(settings.checkpoint_path),
        "--runs-dir", str(runs_dir(settings)),
        "--good-score", str(retrain.good_score),
        "--bad-score", str(retrain.bad_score),
        "--tolerance", str(retrain.tolerance),
        "--epochs", str(retrain.epochs),
        "--minutes", str(retrain.minutes),
        "--timeout-minutes", str(retrain.timeout_minutes),
        "--threads", str(retrain.threads),
        "--progress-seconds", str(retrain.poll_seconds),
    ]
    if retrain.max_steps is not None:
        # a run counted in steps is short, so evaluate a few times along it for the loss plot
        command += ["--max-steps", str(retrain.max_steps), "--eval-every-steps", str(max(1, retrain.max_steps // 4))]
    if retrain.learning_rate is not None:
        command += ["--learning-rate", str(retrain.learning_rate)]
    return command


async def launch_job(run_id: int, settings: Settings, retrain: RetrainSettings) -> asyncio.subprocess.Process:
    """Start the job for `run_id` with its output in `<run folder>/job.log`.

    The child gets its own session, so Ctrl-C in the bot's terminal reaches the
    bot only, and the bot stops the child itself. Its output goes to a file, not
    a pipe, so the child keeps running (and logging) if the bot dies.
    """
    folder = run_folder(settings, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), environment.get("PYTHONPATH")]))

    with open(folder / LOG_NAME, "ab") as log_file:
        process = await asyncio.create_subprocess_exec(
            *job_command(run_id, settings, retrain),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
    logger.info("training run %s: job started as pid %d, log %s", run_id, process.pid, folder / LOG_NAME)
    return process


def exit_reason(return_code: int, log_path: Path) -> str:
    """Describe how a job ended without recording an outcome, quoting the end of its log."""
    if return_code < 0:
        reason = f"the training process was killed by {signal.Signals(-return_code).name}"
    else:
        reason = f"the training process exited with status {return_code} without recording an outcome"
    tail = log_tail(log_path)
    return f"{reason}; last log lines: {tail}" if tail else reason


def log_tail(log_path: Path) -> str:
    """Return the last lines of a job's log, shortened to LOG_TAIL_CHARS."""
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
    return text[-LOG_TAIL_CHARS:]
