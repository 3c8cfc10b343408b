"""Command line of the data package: `prepare` sources into lyrics.txt, `fetch-default` corpus."""

import argparse
import json
import logging
import sys
from pathlib import Path

from data.clean import MIN_SONG_CHARS
from data.fetch import FetchError, fetch_default
from data.prepare import prepare_corpus

logger = logging.getLogger("data")


def program_name(argv0: str) -> str:
    """Return the command the user ran: `python -m data` for the module form, else the script name."""
    name = Path(argv0).name
    # under `python -m data`, sys.argv[0] is the path of this __main__.py
    if name in ("", "__main__.py"):
        return "python -m data"
    return name


def build_parser(prog: str = "python -m data") -> argparse.ArgumentParser:
    """Build the argument parser of both subcommands; `prog` names the program in usage and errors."""
    parser = argparse.ArgumentParser(prog=prog, description="Turn raw lyric collections into lyrics.txt.")
    parser.set_defaults(prog=prog)
    commands = parser.add_subparsers(dest="command", required=True)

    prepare = commands.add_parser(
        "prepare",
        help="clean raw sources into lyrics.txt",
        description="Read folders, .zip archives, .txt/.lrc/.krc and .json/.jsonl files and write "
        'one song per line, lyric lines ending with "/".',
    )
    prepare.add_argument("sources", nargs="+", metavar="SOURCE", help="a folder, .zip archive or lyric file")
    prepare.add_argument("--out", required=True, type=Path, metavar="PATH", help="the lyrics.txt to write")
    prepare.add_argument(
        "--min-chars",
        type=int,
        default=MIN_SONG_CHARS,
        metavar="N",
        help=f"drop songs with fewer Han characters than this (default {MIN_SONG_CHARS})",
    )
    prepare.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: for inputs of 4 MiB or more on a terminal)",
    )
    prepare.add_argument("--report-json", type=Path, metavar="PATH", help="also save the report as JSON here")

    fetch = commands.add_parser(
        "fetch-default",
        help="fetch the Song ci of the chinese-poetry npm package",
        description="Run `npm pack chinese-poetry` in DIR, unpack its Song ci and print the folder to pass to prepare.",
    )
    fetch.add_argument("--dest", required=True, type=Path, metavar="DIR", help="folder for the tarball and the ci")
    fetch.add_argument("--refresh", action="store_true", help="download again even when a tarball is in DIR")
    return parser


def run_prepare(args: argparse.Namespace) -> int:
    """Run `prepare` and print its report; return the exit status."""
    if args.min_chars < 1:
        print(f"{args.prog}: --min-chars must be at least 1, got {args.min_chars}", file=sys.stderr)
        return 2
    if args.out.is_dir():
        print(f"{args.prog}: --out {args.out} is a folder; pass a file path such as {args.out / 'lyrics.txt'}", file=sys.stderr)
        return 2
    try:
        report = prepare_corpus(args.sources, args.out, min_chars=args.min_chars, progress=args.progress)
    except OSError as error:
        print(f"{args.prog}: cannot write {args.out}: {error}; an existing file was left as it was", file=sys.stderr)
        return 1

    print(report.format())
    if args.report_json:
        args.report_json.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if not report.written:
        print(f"{args.prog}: no song was kept from the sources given; check the problems listed above", file=sys.stderr)
        return 1
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    """Run `fetch-default` and print the folder to pass to prepare; return the exit status."""
    try:
        folder = fetch_default(args.dest, refresh=args.refresh)
    except FetchError as error:
        print(f"{args.prog}: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"{args.prog}: cannot use {args.dest}: {error}", file=sys.stderr)
        return 1
    print(folder)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one subcommand."""
    prog = program_name(sys.argv[0] if sys.argv else "")
    args = build_parser(prog).parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=f"{prog}: %(levelname)s: %(message)s", stream=sys.stderr)
    if args.command == "prepare":
        return run_prepare(args)
    return run_fetch(args)


if __name__ == "__main__":
    sys.exit(main())
