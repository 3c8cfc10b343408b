"""Command line: `python -m model write 春` prints a line from a trained checkpoint."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from model.checkpoint import CheckpointError
from model.generate import (
    MAX_LINE_LENGTH,
    MAX_PROMPT_LENGTH,
    GenerationRequest,
    LineWriter,
)

# exit statuses besides 0: a checkpoint that cannot be used, and a prompt that cannot be served
EXIT_CHECKPOINT = 1
EXIT_PROMPT = 2


def default_checkpoint() -> Path:
    """Return the checkpoint the bot serves: LYRICBOT_CHECKPOINT, else under LYRICBOT_DATA_DIR (default var/)."""
    explicit = os.environ.get("LYRICBOT_CHECKPOINT")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("LYRICBOT_DATA_DIR", "var")) / "checkpoints" / "current.pt"


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of `python -m model`."""
    parser = argparse.ArgumentParser(prog="python -m model", description="Write lyric lines with a trained checkpoint.")
    commands = parser.add_subparsers(dest="command", required=True)

    write = commands.add_parser(
        "write",
        help="write one line per prompt character",
        description=(
            "Write a line that starts with PROMPT and ends with '/'. Several characters "
            f"(at most {MAX_PROMPT_LENGTH}) make an acrostic, one line per character."
        ),
    )
    write.add_argument("prompt", help="the first character of the line, or several for an acrostic")
    write.add_argument("--temperature", type=float, default=0.8, help="sampling temperature, above 0 (default 0.8)")
    write.add_argument("--top-k", type=int, default=None, help="sample only from the K most likely characters (default: off)")
    write.add_argument(
        "--top-p", type=float, default=0.9, help="sample from the smallest set of characters whose probability reaches P (default 0.9)"
    )
    write.add_argument("--seed", type=int, default=None, help="random seed; the same seed writes the same lines")
    write.add_argument("--count", type=int, default=1, help="number of results to write, with seeds SEED, SEED+1, ... (default 1)")
    write.add_argument(
        "--max-line-length",
        type=int,
        default=MAX_LINE_LENGTH,
        help=f"characters per line before '/' at which a line is cut (default {MAX_LINE_LENGTH})",
    )
    write.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="checkpoint file (default: $LYRICBOT_CHECKPOINT, else $LYRICBOT_DATA_DIR/checkpoints/current.pt)",
    )
    return parser


def run_write(args: argparse.Namespace) -> int:
    """Write the requested lines to stdout and return the exit status."""
    if args.count < 1:
        print(f"error: --count must be at least 1, got {args.count}", file=sys.stderr)
        return EXIT_PROMPT
    try:
        requests = [
            GenerationRequest(
                prompt=args.prompt,
                temperature=args.temperature,
                top_k=args.top_k,
                top_p=args.top_p,
                seed=None if args.seed is None else args.seed + i,
            )
            for i in range(args.count)
        ]
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_PROMPT

    checkpoint = args.checkpoint or default_checkpoint()
    try:
        writer = LineWriter.from_path(checkpoint, max_line_length=args.max_line_length)
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CHECKPOINT
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_PROMPT

    results = writer.write(requests)
    first = results[0]
    # every request carries the same prompt, so the first one's error stands for all
    if first.error is not None:
        print(f"error: {first.error}", file=sys.stderr)
        return EXIT_PROMPT

    for original, simplified in first.converted.items():
        print(f"note: using the simplified {simplified} for {original}", file=sys.stderr)
    for number, result in enumerate(results):
        if number:
            print()
        for line in result.lines:
            print(line)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the command."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    if args.command == "write":
        return run_write(args)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
