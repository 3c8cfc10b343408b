"""Normalise decoded text: NFKC, then traditional to simplified characters with OpenCC."""

import functools
import unicodedata

import opencc


@functools.cache
def _converter() -> opencc.OpenCC:
    # The t2s profile converts by phrase before character, so words whose
    # traditional form is also the simplified one (乾隆, 著名) stay as they are.
    return opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    """Fold compatibility forms (full-width ASCII, compatibility ideographs) with NFKC."""
    return unicodedata.normalize("NFKC", text)


def to_simplified(text: str) -> str:
    """Convert traditional characters in text to simplified ones with OpenCC's t2s profile."""
    return _converter().convert(text)


def prepare_text(text: str) -> str:
    """Normalise text and convert it to simplified characters, the input the cleaning rules expect."""
    return to_simplified(normalise(text))
