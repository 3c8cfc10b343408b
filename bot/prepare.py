"""`python -m bot --prepare`: build the corpus and train a model when they are missing.

Each step runs as a subprocess of this project's own commands (`python -m data`,
`python -m training`), with its progress streamed to this terminal, so the bot process
never imports the training code.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.settings import Settings
from model.layout import runs_dir

log = logging.getLogger(__name__)


class PrepareError(RuntimeError):
    """A preparation step failed; the message names the step and what to do."""


def prepare(settings: Settings) -> None:
    """Make sure the corpus and the checkpoint exist, building whichever is missing."""
    if settings.lyrics_path.is_file():
        log.info("corpus %s exists; skipping preparation", settings.lyrics_path)
    else:
        source = settings.corpus_path or fetch_default_corpus(settings.data_dir / "corpus")
        run_step(
            "prepare the corpus",
            ["-m", "data", "prepare", str(source), "--out", str(settings.lyrics_path)],
        )

    if settings.checkpoint_path.is_file():
        log.info("checkpoint %s exists; skipping training", settings.checkpoint_path)
        return

    preset = training_preset(settings.train_preset)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = runs_dir(settings.data_dir) / run_id
    run_step(
        f"train the {preset} preset",
        ["-m", "training", "--data", str(settings.lyrics_path), "--preset", preset, "--out", str(run_dir)],
    )
    install_checkpoint(run_dir / "best.pt", settings.checkpoint_path)


def training_preset(choice: str) -> str:
    """Resolve `auto` to `gpu` when CUDA is available, else `cpu`."""
    if choice != "auto":
        return choice
    import torch

    return "gpu" if torch.cuda.is_available() else "cpu"


def fetch_default_corpus(dest: Path) -> Path:
    """Download the default corpus with `python -m data fetch-default` and return the path it prints."""
    dest.mkdir(parents=True, exist_ok=True)
    printed = run_step("fetch the default corpus", ["-m", "data", "fetch-default", "--dest", str(dest)], capture=True)
    lines = [line.strip() for line in printed.splitlines() if line.strip()]
    if not lines:
        raise PrepareError(
            "fetch the default corpus: the command printed no corpus path; "
            "set LYRICBOT_CORPUS to a corpus folder or .zip of your own instead"
        )
    return Path(lines[-1])


def run_step(name: str, arguments: list[str], *, capture: bool = False) -> str:
    """Run `python ARGUMENTS`, streaming its output; return its stdout when `capture` is set."""
    command = [sys.executable, *arguments]
    log.info("%s: %s", name, " ".join(command))
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE if capture else None, text=True, encoding="utf-8"
    )
    printed: list[str] = []
    if capture:
        # Echo each line as it arrives, so progress stays visible while we keep a copy.
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            printed.append(line)
    code = process.wait()
    if code != 0:
        raise PrepareError(
            f"{name} failed with exit code {code}; the command was: {' '.join(command)}. "
            "Fix the problem reported above and run `make run` again."
        )
    return "".join(printed)


def install_checkpoint(source: Path, target: Path) -> None:
    """Check that `source` loads, then write it to `target` atomically."""
    from model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

    if not source.is_file():
        raise PrepareError(f"training finished without writing {source}; see its output above")
    try:
        checkpoint = load_checkpoint(source)
    except CheckpointError as error:
        raise PrepareError(f"the trained checkpoint cannot be used: {error}") from error

    # save_checkpoint writes a temporary file, syncs it and renames it, so the bot
    # never finds a half-written model at `target`, even after a power cut.
    save_checkpoint(checkpoint, target)
    log.info("installed checkpoint %s (version %s) at %s", source, checkpoint.version, target)
