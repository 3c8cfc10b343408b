"""Encoding detection and line ends of data.decode, on made-up text."""

import codecs

import pytest

from data.decode import DecodeError, decode_bytes

TEXT = "春风吹过小河边\n月光照亮回家路\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
        (TEXT.encode("gb18030"), "gb18030"),
        (TEXT.encode("gbk"), "gb18030"),
    ],
)
def test_encodings_are_detected(data: bytes, encoding: str) -> None:
    assert decode_bytes(data) == (TEXT, encoding)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_ends_split_the_same(newline: str) -> None:
    text, _ = decode_bytes(TEXT.replace("\n", newline).encode("utf-8"))
    assert text.splitlines() == ["春风吹过小河边", "月光照亮回家路"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80\x80\x80\xff", "unknown encoding"),
        (b"krc1\x12\x9a\xf0\x01\x77", "encrypted Kugou KRC"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        ("[00:01.00]春风吹过\n[00:02.00]月光\n".encode("utf-16-le"), "UTF-16 without a byte order mark"),
    ],
)
def test_undecodable_bytes_raise(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_bytes(data)
