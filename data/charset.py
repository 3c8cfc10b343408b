"""Character classes the cleaning rules test for: Han, kana, hangul and Latin letters."""

import re

# Unicode Script=Han as far as lyrics use it: 〇, CJK Extension A, the URO,
# compatibility ideographs and Extensions B to H. The iteration mark 々 is left
# out because it is Japanese usage.
HAN_RANGES = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"

# Hiragana and katakana, except U+30FB to U+30FE (・ ー ヽ ヾ): Chinese texts
# use them as a name separator, a dash and in emoticons, so they alone do not
# make a song Japanese.
KANA_RANGES = "\u3041-\u309f\u30a0-\u30fa\u30ff\u31f0-\u31ff"

# Hangul jamo, compatibility jamo, extended jamo and syllables.
HANGUL_RANGES = "\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff"

# ASCII letters plus the Latin-1 and Latin Extended-A/B letters.
LATIN_RANGES = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"

HAN_RUN = re.compile(f"[{HAN_RANGES}]+")
HAN_CHAR = re.compile(f"[{HAN_RANGES}]")
KANA_OR_HANGUL = re.compile(f"[{KANA_RANGES}{HANGUL_RANGES}]")
LATIN_LETTER = re.compile(f"[{LATIN_RANGES}]")


def han_runs(text: str) -> list[str]:
    """Return the maximal runs of Han characters in text, in order."""
    return HAN_RUN.findall(text)


def count_latin(text: str) -> int:
    """Return how many Latin letters text contains."""
    return len(LATIN_LETTER.findall(text))


def has_kana_or_hangul(text: str) -> bool:
    """Tell whether text contains any Japanese kana or Korean hangul."""
    return KANA_OR_HANGUL.search(text) is not None
