"""Split decoded files into songs: plain text, LRC and KRC files, JSON and JSON Lines.

Several songs in one text file are marked in one of two ways. One is a
separator line that starts with three or more "=" or "-" (`=====`,
`--- 晴天 ---`). The other, in LRC, is a new `[ti:...]` tag after lyric lines
of the previous song. A text file without such marks is one song. In JSON every song is its own value (see
`songs_from_json`), and in JSON Lines every line is one song.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from data.clean import strip_tags

SONG_SEPARATOR = re.compile(r"^\s*(?:={3,}|-{3,})")
_TITLE_TAG = re.compile(r"^\s*\[ti:", re.IGNORECASE)
_STAMP = re.compile(r"\[(\d{1,3}):(\d{1,2})(?:[.:,](\d{1,3}))?\]")
_LEADING_STAMPS = re.compile(r"^(?:\s*\[\d{1,3}:\d{1,2}(?:[.:,]\d{1,3})?\])+")

# Fields that hold the lyric of a song object, in the order they are tried.
# chinese-poetry uses "paragraphs"; NetEase's API nests raw LRC as {"lrc": {"lyric": ...}}.
LYRIC_FIELDS = ("paragraphs", "lyric", "lyrics", "lrc", "content", "text", "lines")


class UnknownShapeError(ValueError):
    """JSON that contains no songs in any of the supported shapes."""


@dataclass
class ParsedSongs:
    """The songs of one file as raw text, plus the problems met inside it."""

    texts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --- text, LRC, KRC --------------------------------------------------------


def split_text_songs(text: str) -> list[list[str]]:
    """Split the text of one file into songs, each a list of raw lines (at least one song)."""
    songs: list[list[str]] = []
    current: list[str] = []
    has_lyric = False
    for line in text.splitlines():
        if SONG_SEPARATOR.match(line) or (_TITLE_TAG.match(line) and has_lyric):
            songs.append(current)
            current, has_lyric = [], False
            if SONG_SEPARATOR.match(line):
                continue
        current.append(line)
        has_lyric = has_lyric or bool(strip_tags(line).strip())
    songs.append(current)

    # A blank file or JSON string is still one song read, which is then dropped
    # as empty; the report must not lose it.
    kept = [order_by_time(song) for song in songs if any(line.strip() for line in song)]
    return kept or [[]]


def _seconds(stamp: re.Match[str]) -> float:
    """Return the time of an LRC stamp in seconds."""
    minutes, seconds, fraction = stamp.groups()
    return int(minutes) * 60 + int(seconds) + (float(f"0.{fraction}") if fraction else 0.0)


def order_by_time(lines: list[str]) -> list[str]:
    """Expand LRC lines that carry several time stamps and put all lines in time order.

    Compressed LRC writes a chorus once with one stamp per repetition
    (`[00:12.00][01:40.00]...`). Files without such lines are returned as they
    are, so a file whose stamps are out of order by mistake keeps its order.
    """
    stamped = [(line, _LEADING_STAMPS.match(line)) for line in lines]
    if not any(match and len(_STAMP.findall(match.group())) > 1 for _, match in stamped):
        return lines

    entries: list[tuple[float, int, str]] = []
    last_time = -1.0
    for index, (line, match) in enumerate(stamped):
        if not match:
            # An untimed line stays behind the timed line it followed.
            entries.append((last_time, index, line))
            continue
        text = line[match.end():]
        times = [_seconds(stamp) for stamp in _STAMP.finditer(match.group())]
        entries.extend((time, index, text) for time in times)
        last_time = times[0]
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    return [text for _, _, text in entries]


# --- JSON and JSON Lines ----------------------------------------------------


def _song_text(item: object) -> str | None:
    """Return the raw text of one song value, or None when it is not song-shaped."""
    if isinstance(item, str):
        return item
    if isinstance(item, list):
        # Lines are strings or objects such as {"time": 12.5, "text": "..."}.
        lines = [line if isinstance(line, str) else _line_text(line) for line in item]
        if all(isinstance(line, str) for line in lines):
            return "\n".join(lines)
        return None
    if isinstance(item, dict):
        for name in LYRIC_FIELDS:
            if name in item:
                return _song_text(item[name])
    return None


def _line_text(item: object) -> str | None:
    """Return the text of one line object, or None when it has no string lyric field."""
    if isinstance(item, dict):
        for name in LYRIC_FIELDS:
            if isinstance(item.get(name), str):
                return item[name]
    return None


def _describe(value: object) -> str:
    """Describe a JSON value's shape in a few words for an error message."""
    if isinstance(value, dict):
        keys = ", ".join(list(map(str, value))[:6]) or "none"
        return f"an object with keys {keys}"
    if isinstance(value, list):
        return f"a list whose first element is {_describe(value[0])}" if value else "an empty list"
    return f"a {type(value).__name__}"


def songs_from_json(value: object) -> ParsedSongs:
    """Return the song texts in a parsed JSON document.

    Accepted shapes: a list of songs, an object with a list of songs in one of
    its fields ({"songs": [...]}), an object of song objects keyed by id, or
    one song. A song is a string of raw text or LRC, a list of lines (strings
    or objects with a text field), or an object whose field from
    `LYRIC_FIELDS` contains either. A top-level list of strings none of which
    has a line break is read as the lines of one song. Raises
    UnknownShapeError.
    """
    parsed = ParsedSongs()
    if isinstance(value, list) and value and all(isinstance(item, str) and "\n" not in item for item in value):
        parsed.texts.append("\n".join(value))
        return parsed

    if isinstance(value, list):
        skipped = 0
        for item in value:
            text = _song_text(item)
            if text is None:
                skipped += 1
            else:
                parsed.texts.append(text)
        if value and not parsed.texts:
            raise UnknownShapeError(f"unknown JSON shape: no element is a song; the first is {_describe(value[0])}")
        if skipped:
            parsed.problems.append(f"{skipped} of {len(value)} elements are not songs and were skipped")
        return parsed

    text = _song_text(value)
    if text is not None:
        parsed.texts.append(text)
        return parsed

    if isinstance(value, dict):
        for item in value.values():
            if isinstance(item, list) and any(_song_text(element) is not None for element in item):
                return songs_from_json(item)
        # An object keyed by song id: {"123": {"lyric": ...}, "124": {...}}.
        if value and all(isinstance(item, dict) and _song_text(item) is not None for item in value.values()):
            return songs_from_json(list(value.values()))

    raise UnknownShapeError(
        f"unknown JSON shape: found {_describe(value)}; expected a list of songs or an object "
        f"with one of the fields {', '.join(LYRIC_FIELDS)}"
    )


def songs_from_json_lines(text: str) -> ParsedSongs:
    """Return the song texts of JSON Lines text, one song per non-blank line."""
    parsed = ParsedSongs()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            parsed.problems.append(f"line {number}: invalid JSON ({error.msg}); line skipped")
            continue
        song = _song_text(value)
        if song is None:
            parsed.problems.append(f"line {number}: not a song ({_describe(value)}); line skipped")
        else:
            parsed.texts.append(song)
    if not parsed.texts and parsed.problems:
        raise UnknownShapeError(f"no line contains a song; {parsed.problems[0]}")
    return parsed


def parse_json_document(text: str) -> ParsedSongs:
    """Parse a .json file, falling back to JSON Lines when it contains one value per line."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1 and _all_parse(lines):
            return songs_from_json_lines(text)
        raise UnknownShapeError(f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno}") from error
    return songs_from_json(value)


def _all_parse(lines: list[str]) -> bool:
    """Tell whether every line is a JSON value of its own."""
    try:
        for line in lines:
            json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


# --- one file ---------------------------------------------------------------


def parse_file(kind: str, text: str, prepare: Callable[[str], str]) -> tuple[list[list[str]], list[str]]:
    """Turn the decoded text of one file into songs of raw lines, plus problems met.

    `kind` is "text", "json" or "jsonl". `prepare` normalises and converts a
    piece of text before it is split. JSON strings are converted after
    parsing, because NFKC would turn full-width quotes into JSON syntax.
    Raises UnknownShapeError for JSON that contains no songs.
    """
    if kind == "text":
        return split_text_songs(prepare(text)), []

    parsed = songs_from_json_lines(text) if kind == "jsonl" else parse_json_document(text)
    songs: list[list[str]] = []
    for song_text in parsed.texts:
        songs.extend(split_text_songs(prepare(song_text)))
    return songs, parsed.problems
