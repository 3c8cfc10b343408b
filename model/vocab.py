"""The character vocabulary: a fixed mapping between characters and indices.

The vocabulary is built once from the corpus and then stored inside every
checkpoint, so a model always decodes with the mapping it was trained on.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

# Special tokens are multi-character strings, so they cannot collide with a
# corpus character: build() counts single code points and from_list() accepts
# only single characters after the special tokens.
UNK = "<unk>"
EOS = "<eos>"
SPECIAL_TOKENS: tuple[str, ...] = (UNK, EOS)

# A character seen fewer times than this in the corpus maps to UNK. Rare
# characters get too few training examples to learn, and dropping them keeps the
# output layer small. Counted over the Han characters of the Song ci JSON, 2
# drops 14% of the distinct characters but only 0.06% of the running text.
DEFAULT_MIN_FREQ = 2

# Line breaks separate songs in lyrics.txt. Inside the model EOS plays that
# role, so line breaks are never vocabulary entries.
_SONG_SEPARATORS = frozenset("\r\n")

# Unicode Script=Han as lyrics use it: 〇, CJK Extension A, the URO, compatibility
# ideographs and Extensions B to H. data.charset.HAN_RANGES, which decides what
# reaches lyrics.txt, lists the same ranges; the packages stay independent.
_HAN_CHAR = re.compile("[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def is_han(character: str) -> bool:
    """Return whether `character` is one Han ideograph, the only kind of character a prompt may hold."""
    return _HAN_CHAR.fullmatch(character) is not None


class Vocabulary:
    """A bijection between characters (plus the special tokens) and indices 0..n-1."""

    def __init__(self, items: Sequence[str]) -> None:
        self._items: list[str] = list(items)
        self._index: dict[str, int] = {item: i for i, item in enumerate(self._items)}

    # construction

    @classmethod
    def build(cls, songs: Iterable[str], min_freq: int = DEFAULT_MIN_FREQ) -> Vocabulary:
        """Build a vocabulary from songs, keeping characters seen at least `min_freq` times.

        Characters are ordered by code point, so the same corpus and
        `min_freq` always give the same indices. "/" is an ordinary character.
        """
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"min_freq must be an integer of at least 1, got {min_freq!r}")

        counts: Counter[str] = Counter()
        for song in songs:
            counts.update(song)
        for separator in _SONG_SEPARATORS:
            counts.pop(separator, None)

        kept = sorted(char for char, count in counts.items() if count >= min_freq)
        if not kept:
            raise ValueError(
                f"no character occurs at least {min_freq} times; "
                "check that the corpus is not empty or lower min_freq"
            )
        return cls([*SPECIAL_TOKENS, *kept])

    @classmethod
    def from_list(cls, items: Sequence[str]) -> Vocabulary:
        """Rebuild a vocabulary from `to_list()` output, checking that it is well formed.

        Raises ValueError when the special tokens are not first, an entry is not
        a single character, or an entry repeats.
        """
        items = list(items)
        if tuple(items[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ValueError(
                f"vocabulary must start with the special tokens {list(SPECIAL_TOKENS)}, "
                f"got {items[: len(SPECIAL_TOKENS)]!r}"
            )

        seen: set[str] = set()
        for position, item in enumerate(items[len(SPECIAL_TOKENS) :], start=len(SPECIAL_TOKENS)):
            if not isinstance(item, str) or len(item) != 1:
                raise ValueError(f"vocabulary entry {position} must be one character, got {item!r}")
            if item in _SONG_SEPARATORS:
                raise ValueError(f"vocabulary entry {position} is a line break, which separates songs")
            if item in seen:
                raise ValueError(f"vocabulary entry {position} repeats the character {item!r}")
            seen.add(item)
        return cls(items)

    def to_list(self) -> list[str]:
        """Return the entries in index order, special tokens first."""
        return list(self._items)

    # lookups

    @property
    def unk_id(self) -> int:
        return self._index[UNK]

    @property
    def eos_id(self) -> int:
        return self._index[EOS]

    @property
    def special_ids(self) -> list[int]:
        """Indices of the special tokens, which generation must never emit."""
        return [self._index[token] for token in SPECIAL_TOKENS]

    def index(self, char: str) -> int:
        """Return the index of `char`, or of UNK when the vocabulary lacks it."""
        return self._index.get(char, self.unk_id)

    def characters(self) -> list[str]:
        """Return the ordinary characters, without the special tokens."""
        return self._items[len(SPECIAL_TOKENS) :]

    def encode(self, text: str) -> list[int]:
        """Map each character of `text` to its index, using UNK for unknown characters."""
        unk = self.unk_id
        return [self._index.get(char, unk) for char in text]

    def decode(self, ids: Iterable[int], *, skip_special: bool = False) -> str:
        """Map indices back to text, writing special tokens by name unless `skip_special` is set."""
        parts = []
        for i in ids:
            item = self._items[int(i)]
            if skip_special and item in SPECIAL_TOKENS:
                continue
            parts.append(item)
        return "".join(parts)

    # container protocol

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item: object) -> bool:
        return item in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self._items == other._items

    def __hash__(self) -> int:
        return hash(tuple(self._items))

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} entries)"
