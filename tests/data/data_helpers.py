"""Helpers that write small lyric sources for the data tests; every lyric here is made up."""

import io
import zipfile
from pathlib import Path

# Invented lines, long enough together to pass the minimum song length.
VERSE = ["春风吹过小河边", "月光照亮回家路", "我在窗前等你来", "一壶清茶慢慢凉"]
VERSE_TEXT = "".join(line + "/" for line in VERSE)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write text to path with the given encoding, creating folders, and return path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def make_zip(path: Path, members: dict[str, bytes | str]) -> Path:
    """Write a .zip whose entries are members (name to content) and return its path."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    path.write_bytes(buffer.getvalue())
    return path


def read_songs(path: Path) -> list[str]:
    """Return the songs of a lyrics.txt, one string per line, without newlines."""
    return path.read_text(encoding="utf-8").splitlines()
