"""Read raw lyric sources, clean every song and write lyrics.txt atomically."""

import logging
import os
import sys
import tempfile
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path

from tqdm import tqdm

from data.clean import MIN_SONG_CHARS, DropReason, clean_song
from data.convert import prepare_text
from data.decode import DecodeError, decode_bytes
from data.parse import UnknownShapeError, parse_file
from data.report import PrepareReport
from data.sources import ArchiveLimits, SourceFile, list_sources

logger = logging.getLogger(__name__)

# Inputs at least this large get a progress bar when stderr is a terminal.
PROGRESS_MIN_BYTES = 4 * 1024**2

# A song with more lyric lines than this is most likely several songs in a
# file without boundary marks. It is kept, and a warning explains how to mark them.
LONG_SONG_LINES = 400

TOP_CHARACTERS = 20

# Exceptions that reading one archive member or file can raise besides OSError.
_READ_ERRORS = (OSError, zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError)


def prepare_corpus(
    sources: Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    min_chars: int = MIN_SONG_CHARS,
    limits: ArchiveLimits | None = None,
    progress: bool | None = None,
) -> PrepareReport:
    """Turn raw sources into lyrics.txt at out and return the report.

    A bad source is logged and listed in the report's problems, and the other
    sources are still read. When no song is kept, out is not touched and the
    report's `written` is False. `progress` None shows a bar for large inputs
    on a terminal. Raises OSError only when writing out fails; an existing
    file stays as it was.
    """
    started = time.perf_counter()
    report = PrepareReport(out=Path(out))
    songs: list[str] = []
    seen: set[str] = set()

    with ExitStack() as stack:
        listing = list_sources(list(sources), stack, limits or ArchiveLimits())
        report.files_skipped = listing.skipped
        for source, reason in listing.problems:
            _problem(report, source, reason)

        total = sum(file.size for file in listing.files)
        show = progress if progress is not None else (total >= PROGRESS_MIN_BYTES and sys.stderr.isatty())
        with tqdm(total=total, unit="B", unit_scale=True, desc="preparing", disable=not show, file=sys.stderr) as bar:
            for file in listing.files:
                _read_file(file, report, songs, seen, min_chars)
                bar.update(file.size)

    if songs:
        write_lines_atomically(Path(out), songs)
        report.written = True
    _add_statistics(report, songs)
    report.seconds = time.perf_counter() - started
    return report


def _problem(report: PrepareReport, source: str, reason: str) -> None:
    """Log a problem with one source and add it to the report."""
    logger.warning("%s: %s", source, reason)
    report.problems.append((source, reason))


def _read_file(file: SourceFile, report: PrepareReport, songs: list[str], seen: set[str], min_chars: int) -> None:
    """Read, decode, parse and clean one file, appending its new songs to songs."""
    try:
        data = file.read()
        text, _ = decode_bytes(data)
        raw_songs, problems = parse_file(file.kind, text, prepare_text)
    except _READ_ERRORS as error:
        report.files_failed += 1
        _problem(report, file.name, f"cannot read: {error}")
        return
    except (DecodeError, UnknownShapeError) as error:
        report.files_failed += 1
        _problem(report, file.name, f"{error}; file skipped")
        return

    report.files_read += 1
    for reason in problems:
        _problem(report, file.name, reason)

    for raw_lines in raw_songs:
        report.songs_read += 1
        song = clean_song(raw_lines, min_chars=min_chars)
        if song.dropped is not None:
            report.dropped[song.dropped.value] += 1
            continue
        text = song.text
        if text in seen:
            report.dropped[DropReason.DUPLICATE.value] += 1
            continue
        if len(song.lines) > LONG_SONG_LINES:
            _problem(
                report,
                file.name,
                f"one song of {len(song.lines):,} lyric lines was kept whole; if the file contains several "
                'songs, put a line of "===" between them',
            )
        seen.add(text)
        songs.append(text)
        report.songs_kept += 1


def _add_statistics(report: PrepareReport, songs: list[str]) -> None:
    """Fill in line, character and vocabulary counts of the kept songs."""
    counts = Counter("".join(songs))
    report.lyric_lines = counts.pop("/", 0)
    report.characters = sum(counts.values())
    report.vocabulary_size = len(counts)
    # Ties are broken by the character so the report is deterministic too.
    report.top_characters = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_CHARACTERS]


def write_lines_atomically(path: Path, lines: list[str]) -> None:
    """Write lines, each ended by "\\n", to path through a temporary file and a rename.

    A crash or error before the rename leaves an existing file as it was, and
    the temporary file is removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write("".join(line + "\n" for line in lines))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

    # Sync the folder so the rename itself survives a power loss.
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
