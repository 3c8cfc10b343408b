"""Command line: `python -m model write 春` prints a line from a trained checkpoint."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from model.checkpoint import CheckpointError
from model.layout import CHECKPOINT_VARIABLE, current_checkpoint, data_dir_from_environment
from model.vocab import is_han
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
    explicit = os.environ.get(CHECKPOINT_VARIABLE)
    if explicit:
        return Path(explicit)
    return current_checkpoint(data_dir_from_environment())


def program_name(argv0: str) -> str:
    """Return the command the user ran: `python -m model` for the module form, else the script name."""
    name = Path(argv0).name
    # under `python -m model`, sys.argv[0] is the path of this __main__.py
    if name in ("", "__main__.py"):
        return "python -m model"
    return name


def build_parser(prog: str = "python -m model") -> argparse.ArgumentParser:
    """Build the argument parser; `prog` names the program in usage and errors."""
    parser = argparse.ArgumentParser(prog=prog, description="Write lyric lines with a trained checkpoint.")
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


def check_options(args: argparse.Namespace) -> str | None:
    """Return an error that names the invalid option of `write`, or None when all are valid."""
    if args.count < 1:
        return f"--count must be at least 1, got {args.count}"
    # the ranges are those GenerationRequest enforces, checked here to name the option
    if not 0.0 < args.temperature <= 10.0:
        return f"--temperature must be in (0, 10], got {args.temperature}"
    if args.top_k is not None and args.top_k < 1:
        return f"--top-k must be at least 1, got {args.top_k}"
    if not 0.0 < args.top_p <= 1.0:
        return f"--top-p must be in (0, 1], got {args.top_p}; 1 turns top-p sampling off"

    # lyrics.txt from `python -m data prepare` contains only Han characters and "/",
    # so no other character can start a line; checked before the slow checkpoint load
    for char in args.prompt:
        if not char.isspace() and not is_han(char):
            return f"the prompt must be Han characters, such as 春 or 春风花, but {char!r} is not one"
    return None


def run_write(args: argparse.Namespace) -> int:
    """Write the requested lines to stdout and return the exit status."""
    problem = check_options(args)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
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
    args = build_parser(program_name(sys.argv[0] if sys.argv else "")).parse_args(argv)
    if args.command == "write":
        return run_write(args)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
