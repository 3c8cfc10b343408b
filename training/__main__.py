"""Command line: `python -m training` trains, `evaluate` scores a checkpoint, `retrain` runs the retraining job."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import torch

from model.checkpoint import CheckpointError, load_checkpoint
from model.layout import data_dir_from_environment, runs_dir
from training.config import PRESETS, TrainConfig, get_preset
from training.dataset import DatasetError, load_songs
from training.loop import BEST_NAME, LAST_NAME, METRICS_NAME, TrainingError, train

logger = logging.getLogger(__name__)

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def default_run_dir() -> Path:
    """Return `<data dir>/checkpoints/runs/<UTC time>`, the data dir being $LYRICBOT_DATA_DIR or var/."""
    return runs_dir(data_dir_from_environment()) / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def build_train_parser() -> argparse.ArgumentParser:
    """Return the parser of the training command."""
    parser = argparse.ArgumentParser(
        prog="python -m training",
        description="Train the character LSTM on a lyrics.txt file. Other commands: "
        "`python -m training evaluate --help`, `python -m training retrain --help`.",
    )
    parser.add_argument("--data", required=True, type=Path, help="the lyrics.txt to train on (one song per line)")

    # model and schedule
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="model size and schedule; default: gpu when CUDA is available, else cpu",
    )
    parser.add_argument("--epochs", type=int, help="maximum number of passes over the training songs")
    parser.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    parser.add_argument("--time-budget", type=float, metavar="MINUTES", help="stop after this many minutes")
    parser.add_argument("--lr", type=float, help="peak learning rate")
    parser.add_argument("--patience", type=int, help="evaluations without improvement before early stopping")
    parser.add_argument("--seed", type=int, help="seed of the split, the initial weights and the batch order")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where to train; default: the preset's")
    parser.add_argument("--threads", type=int, help="CPU threads for torch; default: one per core")

    # run control
    parser.add_argument("--resume", type=Path, metavar="CKPT", help="continue the run that wrote this last.pt")
    parser.add_argument(
        "--overfit-batch",
        action="store_true",
        help="sanity check: memorise two samples of one batch and fail if the loss will not fall",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="folder for last.pt, best.pt and metrics.jsonl; default: the resumed run's folder, "
        "else $LYRICBOT_DATA_DIR/checkpoints/runs/<UTC time> (LYRICBOT_DATA_DIR defaults to var)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def build_evaluate_parser() -> argparse.ArgumentParser:
    """Return the parser of the `evaluate` command."""
    parser = argparse.ArgumentParser(
        prog="python -m training evaluate",
        description="Print cross-entropy, bits per character and accuracy of a checkpoint on a lyrics.txt file.",
    )
    parser.add_argument("--checkpoint", required=True, type=Path, help="the checkpoint file to score")
    parser.add_argument("--data", required=True, type=Path, help="a lyrics.txt-format file to score it on")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where to run the model")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    return parser


def configure_logging() -> None:
    """Send INFO and above to stderr with time, level and module."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to a command and return its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    configure_logging()

    if argv[:1] == ["evaluate"]:
        return run_evaluate(build_evaluate_parser().parse_args(argv[1:]))
    if argv[:1] == ["retrain"]:
        return run_retrain(argv[1:])
    return run_train(build_train_parser().parse_args(argv))


def run_train(args: argparse.Namespace) -> int:
    """Run training or the overfit check from parsed arguments."""
    try:
        config = _config_from_args(args)
        if args.overfit_batch:
            from training.sanity import overfit_batch

            report = overfit_batch(config, args.data)
            print(f"overfit check passed: loss {report.first_loss:.4f} -> {report.final_loss:.4f} in {report.steps} steps")
            return 0

        out_dir = args.out or (args.resume.parent if args.resume else default_run_dir())
        best = train(config, data=args.data, out_dir=out_dir, resume=args.resume, progress_bar=not args.no_progress)
    except KeyboardInterrupt:
        print("interrupted; the run was saved to last.pt and can continue with --resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (TrainingError, DatasetError, CheckpointError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED

    print(f"best model: {out_dir / BEST_NAME} (version {best.version})")
    print(f"last state: {out_dir / LAST_NAME}; metrics: {out_dir / METRICS_NAME}")
    print(
        f"validation: {best.metrics['val_loss']:.4f} nats per character, "
        f"{best.metrics['val_bpc']:.4f} bits per character, accuracy {best.metrics['val_accuracy']:.4f}"
    )
    return 0


def _config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Return the run's config: the resumed run's or the preset's, with the options given on top."""
    if args.resume is not None:
        if args.preset is not None:
            raise ValueError("--preset cannot change a resumed run; drop it, or start a new run without --resume")
        config = TrainConfig.from_dict(load_checkpoint(args.resume).train_config)
    else:
        name = args.preset or ("gpu" if torch.cuda.is_available() else "cpu")
        config = get_preset(name)

    return config.with_overrides(
        epochs=args.epochs,
        max_steps=args.max_steps,
        time_budget_s=args.time_budget * 60 if args.time_budget is not None else None,
        learning_rate=args.lr,
        patience=args.patience,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
    )


def run_evaluate(args: argparse.Namespace) -> int:
    """Score a checkpoint on a lyrics file and print the figures."""
    from training.evaluate import evaluate

    try:
        checkpoint = load_checkpoint(args.checkpoint)
        songs = load_songs(args.data)
        scores = evaluate(checkpoint, songs, device=args.device)
    except (CheckpointError, DatasetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED

    if args.json:
        print(json.dumps({"checkpoint": str(args.checkpoint), "version": checkpoint.version, **scores},
                         ensure_ascii=False))
        return 0

    total = scores["characters"]
    unknown = scores["unknown_characters"]
    print(f"checkpoint {args.checkpoint} (version {checkpoint.version}) on {args.data}")
    print(f"songs: {scores['songs']}, predictions scored: {total} (each character and each song end)")
    print(f"cross-entropy: {scores['loss']:.4f} nats per character")
    print(f"bits per character: {scores['bpc']:.4f}")
    print(f"accuracy: {scores['accuracy']:.4f}")
    if unknown:
        examples = ", ".join(f"{char} x{count}" for char, count in scores["unknown_examples"].items())
        print(
            f"characters outside the vocabulary: {unknown} ({unknown / total:.2%}), scored as the unknown token; "
            f"most common: {examples}"
        )
    else:
        print("characters outside the vocabulary: 0")
    return 0


def run_retrain(argv: list[str]) -> int:
    """Hand over to the retraining job's own command line."""
    # imported here so that training and evaluation do not load the database packages
    from training.retrain import main as retrain_main

    return retrain_main(argv)


if __name__ == "__main__":
    sys.exit(main())
