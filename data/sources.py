"""List the lyric files that sources name: single files, folders and .zip archives.

Archives are read member by member from the zip file itself, never extracted
to disk. Files come out in a fixed order, so the same sources always give the
same lyrics.txt. Sources keep the order given. A folder lists its own files by
name, then its subfolders by name. An archive lists its entries by name.
"""

import functools
import os
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

# File kinds by suffix: "text" covers plain text, LRC and decrypted KRC.
KINDS = {".txt": "text", ".lrc": "text", ".krc": "text", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
ARCHIVE_SUFFIX = ".zip"
SUPPORTED = ", ".join([*KINDS, ARCHIVE_SUFFIX])

_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds past which an archive's uncompressed size counts as absurd (a zip bomb)."""

    max_total_bytes: int = 2 * 1024**3
    max_entry_bytes: int = 512 * 1024**2
    # Lyric text deflates about 3 to 10 times; a ratio above this on a large
    # entry means padding built to exhaust memory, not lyrics.
    max_ratio: float = 100.0
    ratio_min_bytes: int = 1024**2


@dataclass(frozen=True)
class SourceFile:
    """One lyric file to read: a display name, its kind, its size and how to read it."""

    name: str
    kind: str
    size: int
    read: Callable[[], bytes]


@dataclass
class SourceListing:
    """The files found in all sources, the problems met and the files skipped by type."""

    files: list[SourceFile] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def list_sources(sources: list[str | os.PathLike[str]], stack: ExitStack, limits: ArchiveLimits) -> SourceListing:
    """List the lyric files of every source; archives stay open on stack while it lasts."""
    listing = SourceListing()
    for source in sources:
        path = Path(source)
        if path.is_dir():
            _list_folder(path, listing, stack, limits)
        elif not path.exists():
            listing.problems.append((str(path), "not found; check the path"))
        elif path.suffix.lower() == ARCHIVE_SUFFIX:
            _list_archive(path, listing, stack, limits)
        elif path.suffix.lower() in KINDS:
            listing.files.append(_file_source(path))
        else:
            listing.problems.append((str(path), f"unsupported file type; expected a folder or one of {SUPPORTED}"))
    return listing


def _file_source(path: Path) -> SourceFile:
    """Describe one file on disk as a SourceFile."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # reading it reports the problem
    return SourceFile(str(path), KINDS[path.suffix.lower()], size, path.read_bytes)


def _list_folder(root: Path, listing: SourceListing, stack: ExitStack, limits: ArchiveLimits) -> None:
    """Add the lyric files under a folder, in sorted path order."""

    def report(error: OSError) -> None:
        listing.problems.append((str(error.filename or root), f"cannot read folder: {error.strerror}"))

    files_before = len(listing.files)
    problems_before = len(listing.problems)
    for folder, dirs, files in os.walk(root, onerror=report):
        # Hidden folders (.git, .cache) hold no lyrics.
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        for name in sorted(files):
            path = Path(folder, name)
            suffix = path.suffix.lower()
            if name.startswith("."):
                listing.skipped["hidden"] += 1
            elif suffix == ARCHIVE_SUFFIX:
                _list_archive(path, listing, stack, limits)
            elif suffix in KINDS:
                listing.files.append(_file_source(path))
            else:
                listing.skipped[suffix or "no suffix"] += 1

    # Without this problem an empty folder as the only source ends with "no song
    # was kept" and no reason, because nothing failed.
    if len(listing.files) == files_before and len(listing.problems) == problems_before:
        listing.problems.append((str(root), f"no lyric files found in this folder; prepare reads {SUPPORTED} files"))


def _member_name(info: zipfile.ZipInfo) -> str:
    """Return an entry's name, decoding GBK names that zip tools on Chinese Windows write."""
    if info.flag_bits & 0x800:
        return info.filename  # marked UTF-8
    raw = info.filename.encode("cp437")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def is_unsafe_member(name: str) -> bool:
    """Tell whether a zip entry name is absolute or climbs out with "..".

    Entries are never extracted, but such a name marks a hostile or broken
    archive, so the entry is skipped.
    """
    normal = name.replace("\\", "/")
    return normal.startswith("/") or bool(_DRIVE.match(normal)) or ".." in normal.split("/")


def _absurd_size(infos: list[zipfile.ZipInfo], limits: ArchiveLimits) -> str | None:
    """Return why an archive's declared sizes are absurd, or None when they are plausible."""
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_bytes:
        return f"uncompressed size {total:,} bytes exceeds the limit of {limits.max_total_bytes:,}"
    for info in infos:
        if info.file_size > limits.max_entry_bytes:
            return f"entry {info.filename!r} unpacks to {info.file_size:,} bytes, over the limit of {limits.max_entry_bytes:,}"
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= limits.ratio_min_bytes and ratio > limits.max_ratio:
            return f"entry {info.filename!r} unpacks {ratio:,.0f} times its packed size, which lyric text never does"
    return None


def _list_archive(path: Path, listing: SourceListing, stack: ExitStack, limits: ArchiveLimits) -> None:
    """Add the lyric entries of a .zip archive, checking its names and sizes first."""
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
    except (zipfile.BadZipFile, OSError) as error:
        listing.problems.append((str(path), f"not a readable zip archive: {error}"))
        return

    infos = [info for info in archive.infolist() if not info.is_dir()]
    if not infos:
        listing.problems.append((str(path), "archive is empty"))
        return
    reason = _absurd_size(infos, limits)
    if reason:
        listing.problems.append((str(path), f"archive rejected: {reason}; extract and check it first"))
        return

    found = 0
    problems_before = len(listing.problems)
    entries = sorted(((_member_name(info), info) for info in infos), key=lambda entry: entry[0])
    for name, info in entries:
        base = name.rsplit("/", 1)[-1]
        suffix = os.path.splitext(base)[1].lower()
        display = f"{path}::{name}"
        if is_unsafe_member(name):
            listing.problems.append((display, "entry has an absolute path or '..' in it; entry skipped"))
        elif base.startswith(".") or name.startswith("__MACOSX/"):
            listing.skipped["hidden"] += 1
        elif suffix == ARCHIVE_SUFFIX:
            listing.problems.append((display, "archive inside an archive is not read; extract the outer one first"))
        elif suffix in KINDS:
            listing.files.append(SourceFile(display, KINDS[suffix], info.file_size, functools.partial(archive.read, info)))
            found += 1
        else:
            listing.skipped[suffix or "no suffix"] += 1
    # An archive whose entries were all reported already needs no second line.
    if not found and len(listing.problems) == problems_before:
        listing.problems.append((str(path), f"archive contains no lyric files ({SUPPORTED})"))
