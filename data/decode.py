"""Detect the encoding of a raw lyric file and decode it."""

import codecs
import re

# A BOM decides the encoding. UTF-32 comes first because its little-endian
# BOM begins with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Control characters other than tab, line feed, vertical tab, form feed and
# carriage return, which text files never hold but binary files do.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]")


class DecodeError(ValueError):
    """The bytes are not text in one of the supported encodings."""


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a file's bytes and return (text, encoding name).

    Tries, in order: a BOM (UTF-8, UTF-16, UTF-32), strict UTF-8, and strict
    GB18030, which also decodes GBK and GB2312. Raises DecodeError when none
    fits or the result looks like binary data.
    """
    # Kugou ships .krc files encrypted behind this magic; only decrypted text is read.
    if data.startswith(b"krc1"):
        raise DecodeError("encrypted Kugou KRC file; convert it to text (LRC or decrypted KRC) first")

    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data.decode(encoding), encoding), encoding
            except UnicodeDecodeError as error:
                raise DecodeError(f"invalid {encoding} after its byte order mark: {error.reason}") from error

    # UTF-16 without a BOM shows as a NUL byte beside nearly every ASCII one.
    # NOTE: UTF-16 without a BOM and without ASCII (Han only) is not detected;
    # it may decode as GB18030 into wrong characters.
    if data.count(0) * 3 > len(data):
        raise DecodeError("looks like UTF-16 without a byte order mark; re-save it with a BOM or as UTF-8")

    try:
        return _checked(data.decode("utf-8"), "utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass

    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise DecodeError(
            "unknown encoding: not UTF-8, UTF-16 with a byte order mark, GB18030 or GBK "
            f"(byte 0x{data[error.start]:02x} at offset {error.start}); re-save the file as UTF-8"
        ) from error

    # Bytes of another encoding (Big5, Shift JIS) often decode as GB18030 into
    # its private use area, which real GB text never needs.
    if len(_PRIVATE_USE.findall(text)) > max(2, len(text) // 200):
        raise DecodeError("unknown encoding: decodes as GB18030 only into unassigned characters; re-save the file as UTF-8")
    return _checked(text, "gb18030"), "gb18030"


def _checked(text: str, encoding: str) -> str:
    """Return text unless it contains control characters that only binary data has."""
    match = _CONTROL.search(text)
    if match:
        raise DecodeError(
            f"binary data, not text: control character U+{ord(match.group()):04X} "
            f"at character {match.start()} when read as {encoding}"
        )
    return text
