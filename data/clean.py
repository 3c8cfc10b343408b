"""Cleaning rules that turn the raw lines of one song into one line of lyrics.txt.

The input is the text of one song, already decoded, NFKC-normalised and
converted to simplified characters (see `data.convert`). NFKC folds full-width
ASCII into half-width, so a rule that matches a half-width colon, star or hash
matches the full-width form too. The rules run in this order:

1. Tags: these are removed anywhere in a line. LRC time stamps: `[mm:ss]`,
   `[mm:ss.xx]`, `[mm:ss.xxx]`, `[mm:ss:xx]`. Enhanced-LRC word tags:
   `<mm:ss.xx>`. Kugou KRC line and word tags: `[start,duration]`,
   `<offset,duration,0>`. QQ QRC word tags: `(start,duration)`. ID tags with
   their value: `[ti:...]`, `[ar:...]`, `[offset:0]`. Labels in 【】 or 〖〗
   with their text. A line left empty is dropped.
2. URLs and notices: a line that contains a URL or a notice phrase
   ("纯音乐，请欣赏", "未经授权…", "歌词来自…", see `NOTICE_PHRASES`) is dropped,
   and so is an end mark alone on its line ("(完)", "·终·", "END").
3. Credits: a line that starts with a credit label and a colon is dropped. A
   label is 词, 曲 or another entry of `SHORT_CREDIT_LABELS`, any short label
   that contains a word of `CREDIT_WORDS` (作词, 编曲, 制作人, 混音助理,
   母带处理), or an English form (Lyrics by, Composer, Arranged by, Producer,
   OP, SP). Several labels may be joined by "/", "、", "&" or spaces.
   Without a colon, a line is a credit when a label with at most two
   characters around its credit word is followed by "/", "·" or a dash and a
   short name ("人声后期/某人"). It is one too when a word of
   `BARE_CREDIT_WORDS` is followed by a space and a short name ("编曲 某人"),
   by a Latin name ("作词Someone"), or stands alone. A short line that ends in
   出品 ("-某某制作组-出品") is a production credit. A credit glued to the end
   of a lyric line ("…乐康。作曲 : 某人") is cut off.
4. Header: before the first lyric line, a `Title - Artist` line (a dash with
   spaces around it) is dropped.
5. Markers: chorus marks and repeat instructions (`*`, `#`, `Repeat`, `重复`,
   `重复副歌`, `(重复两次)`, `x2`), section labels (`副歌:`, `[Chorus]`,
   `—— 间奏 ——`) and singer labels are removed, and lyric on the same line is
   kept. A singer label is `男:`, `(合)`, or a short label before a colon or
   in brackets that the song uses on two or more lines (`银临:`, `(塔)`).
   `重复` stays when Han characters touch it ("重复着昨天").
6. Lyric lines: every character that is not Han ends a lyric line. So
   punctuation, full- or half-width, splits a line, and so does a space: lyric
   sites use a space as a line break inside one text line. A "/" in the source
   is a separator like any other and never survives as text. Latin letters,
   digits and symbols vanish the same way.

Then the whole song is checked, and dropped for the first reason that applies:
kana or hangul anywhere in the cleaned text; mostly Latin (more Latin letters
than Han characters); empty (no Han character left); too short (fewer than
`MIN_SONG_CHARS` Han characters). Duplicates are found later, across songs.
"""

import enum
import re
from dataclasses import dataclass

from data.charset import HAN_RANGES, count_latin, han_runs, has_kana_or_hangul

# The shortest classical ci form, 十六字令, has 16 characters; a kept song is
# at least that long, which removes stray fragments and one-line leftovers.
MIN_SONG_CHARS = 16


class DropReason(enum.StrEnum):
    """The reason a song read from a source is left out of lyrics.txt."""

    KANA_OR_HANGUL = "kana or hangul"
    MOSTLY_LATIN = "mostly Latin"
    EMPTY = "empty"
    TOO_SHORT = "too short"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class CleanSong:
    """The outcome of cleaning one song: its lyric lines, or why it was dropped."""

    lines: tuple[str, ...]
    dropped: DropReason | None = None

    @property
    def text(self) -> str:
        """Return the song as one lyrics.txt line without the newline."""
        return "".join(line + "/" for line in self.lines)


# --- rule 1: tags ---------------------------------------------------------

_TIME_TAG = re.compile(
    r"\[\d{1,3}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?\]"  # [mm:ss], [mm:ss.xx], [mm:ss:xx]
    r"|\[\d{1,3}\.\d{1,2}\.\d{1,3}\]"  # [m.ss.xxx], a broken form some sites write
    r"|<\d{1,3}:\d{1,2}(?:[.:]\d{1,3})?>"  # enhanced LRC word tag <mm:ss.xx>
    r"|\[\d+,\d+\]"  # KRC line tag [start,duration]
    r"|<\d+,\d+(?:,\d+)?>"  # KRC word tag <offset,duration,0>
    r"|\(\d+,\d+\)"  # QRC word tag (start,duration)
)
_ID_TAG = re.compile(r"\[[A-Za-z][A-Za-z_\- ]{0,15}:[^\]\n]*\]")
# Lyric sites put singer names, parts and credits in 【】 or 〖〗, never lyrics.
_LABEL_TAG = re.compile(r"【[^】\n]{0,40}】|〖[^〗\n]{0,40}〗")


def strip_tags(line: str) -> str:
    """Remove time stamps, word tags, ID tags and 【】 labels (with their values) from a line."""
    return _LABEL_TAG.sub(" ", _ID_TAG.sub("", _TIME_TAG.sub("", line)))


# --- rule 2: URLs and notices ----------------------------------------------

_URL = re.compile(
    r"(?i)(?:https?://|www\.)\S+"
    r"|\b[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,4}\.(?:com|cn|net|org|cc|tv|me|io|fm)\b"
)

# Phrases of streaming-site and uploader notices. They are matched after the
# conversion to simplified characters, so only simplified forms are listed.
NOTICE_PHRASES = (
    "纯音乐",
    "请欣赏",
    "请您欣赏",
    "没有填词",
    "未经授权",
    "未经许可",
    "未经著作权人",
    "不得翻唱",
    "不得使用",
    "版权所有",
    "享有本翻译作品",
    "本歌曲来自",
    "歌词来自",
    "歌词由",
    "歌词贡献",
    "歌词提供",
    "歌词制作",
    "更多歌词",
    "歌词网",
    "QQ音乐",
    "网易云音乐",
    "酷狗音乐",
    "酷我音乐",
    "虾米音乐",
    "QQ群",
    "微信公众号",
)


# An end mark on a line of its own: "(完)", "·终·", "全剧终", "END".
_END_MARK = re.compile(r"(?i)^\W*(?:完|终|全文完|全剧终|the end|end)\W*$")


def is_notice(line: str) -> bool:
    """Tell whether a line is a site notice, an end mark or contains a URL."""
    if _URL.search(line) or _END_MARK.match(line):
        return True
    return any(phrase in line for phrase in NOTICE_PHRASES)


# --- rule 3: credits -------------------------------------------------------

# Credit words: a short label that contains one of them is a credit label.
CREDIT_WORDS = (
    "作词", "作曲", "填词", "词作", "曲作", "歌词", "旋律", "编曲", "编配", "编写", "编辑",
    "改编", "选曲", "制作", "制片", "监制", "策监", "混音", "混缩", "缩混", "修音", "录音",
    "母带", "演唱", "原唱", "翻唱", "歌手", "出品", "发行", "策划", "统筹", "企划", "宣传",
    "后期", "和声", "和音", "伴唱", "配唱", "伴奏", "演奏", "乐手", "吉他", "贝斯", "鼓手",
    "键盘", "钢琴", "弦乐", "提琴", "二胡", "笛子", "古筝", "琵琶", "唢呐", "打击乐",
    "乐队", "原曲", "原作", "原著", "文案", "海报", "美工", "美术", "画师", "曲绘", "题字",
    "封面", "设计", "视频", "字幕", "鸣谢", "专辑", "授权", "版权", "词曲", "调教", "人声",
    "音乐总监", "音频", "剪辑", "工作室", "歌名", "曲名", "题材", "贝司",
)
# Credit words that mark a credit even without a colon ("演唱/某人", "编曲 某人").
# Everyday words among CREDIT_WORDS (旋律, 歌手, 视频) are left out, because a
# lyric line may start with them.
BARE_CREDIT_WORDS = (
    "作词", "作曲", "填词", "词作", "词曲", "编曲", "编配", "制作人", "制作", "监制", "混音",
    "缩混", "混缩", "母带", "录音", "演唱", "和声", "原唱", "翻唱", "策划", "后期",
)
# Labels that count only on their own, because inside a longer label they are
# everyday words (曲 in 歌曲, 鼓 in 鼓励).
SHORT_CREDIT_LABELS = ("词", "曲", "注", "鼓", "箫", "笛", "笙", "琴", "编", "唱", "混", "和")
_ENGLISH_CREDIT_WORDS = (
    r"lyrics?|lyricist|words|written|writer|composer|composed|compose|composition|music|"
    r"arranger|arranged|arrangement|arrange|producers?|produced|production|executive|vocals?|"
    r"singers?|performed|mix|mixed|mixing|mixer|master|mastered|mastering|record|recorded|"
    r"recording|engineer|supervisors?|publishers?|published|presented|guitars?|bass|drums|"
    r"keyboards?|piano|strings|op|sp"
)
# One word per label: several words ("Recorded & Mixed By") are joined labels.
# A label that repeated words itself would make the regex backtrack
# exponentially on long English lines.
_ENGLISH_CREDIT = rf"(?:{_ENGLISH_CREDIT_WORDS})(?:\s+by)?"
_NOTE = r"(?:\s*[(（][^)）]{1,12}[)）])?"  # 鼓(打击乐): a part named in brackets
_CREDIT_WORD = "|".join(CREDIT_WORDS)
_BARE_WORD = "|".join(BARE_CREDIT_WORDS)
# Labels are atomic groups that must end at a word boundary: a label such as
# 作曲编曲 can be split around its credit word in several ways, and trying every
# split of every label in a long line would backtrack exponentially.
_CREDIT_LABEL = (
    rf"(?>(?:[\u4e00-\u9fff]{{0,5}}(?:{_CREDIT_WORD})[\u4e00-\u9fff]{{0,4}}"
    rf"|{'|'.join(SHORT_CREDIT_LABELS)}|{_ENGLISH_CREDIT})(?!\w){_NOTE})"
)
# A label with at most two characters around its credit word, for the
# separators that lyric lines also use.
_SHORT_LABEL = (
    rf"(?>(?:[\u4e00-\u9fff]{{0,2}}(?:{_CREDIT_WORD})[\u4e00-\u9fff]{{0,2}}"
    rf"|{'|'.join(SHORT_CREDIT_LABELS)})(?!\w){_NOTE})"
)
_JOINER = r"(?:\s*(?:[/\\、&,+?|·]|\band\b)\s*|\s+)"
_JOINED_LABELS = rf"{_CREDIT_LABEL}(?:{_JOINER}{_CREDIT_LABEL}){{0,8}}"
_CREDIT_LINE = re.compile(
    rf"(?i)^\s*[(（]?\s*(?:{_JOINED_LABELS}\s*[:：;]"
    # "编曲 某人", "作词Someone", or the word alone on its line.
    rf"|(?:(?:{_CREDIT_WORD}|[作词曲])\s*[/、])*(?:{_BARE_WORD})[人师方]?(?:\s+\S.{{0,29}}$|\s*$|(?=[a-z]))"
    # "人声后期/某人", "海报题字·某人": any credit label before "/", "·" or a dash
    rf"|(?:(?:{_CREDIT_WORD}|[作词曲])\s*[/、])*{_SHORT_LABEL}\s*[/·\-\u2014|]\s*\S.{{0,29}}$)"
)
# A credit glued to the end of a lyric line ("...乐康。作曲 : 某人"), cut off there.
_CREDIT_TAIL = re.compile(rf"(?:{_CREDIT_WORD})(?:{_JOINER}{_CREDIT_LABEL}){{0,8}}\s*[:：].*$")


# A production line: a short name followed by 出品 ("-某某制作组-出品").
_PRODUCED_BY = re.compile(r"^\W*\S.{0,24}?(?:出品|出品方|制作组)\W*$")


def is_credit(line: str) -> bool:
    """Tell whether a line is a credit or metadata line such as "作词 : 某人"."""
    return _CREDIT_LINE.match(line) is not None or _PRODUCED_BY.match(line) is not None


def strip_credit_tail(line: str) -> str:
    """Cut a credit such as "作曲 : 某人" off the end of a lyric line."""
    return _CREDIT_TAIL.sub("", line)


# --- rule 4: Title - Artist header ----------------------------------------

_TITLE_ARTIST = re.compile(r"^\s*\S.*?\s[-\u2013\u2014]\s+\S.*$")


def is_title_artist(line: str) -> bool:
    """Tell whether a line has the `Title - Artist` shape of an LRC header."""
    return _TITLE_ARTIST.match(line) is not None


# --- rule 5: markers -------------------------------------------------------

_HAN = HAN_RANGES
_OPEN = r"[\[【(（<《〔]"
_CLOSE = r"[\]】)）>》〕]"
_COLON = r"[:：]"
_CHORUS_MARK = r"[*#＊＃]"

# Singer and part labels that are removed even when a song uses them once.
ROLE_LABELS = (
    "男", "女", "合", "齐", "众", "和", "白", "男声", "女声", "男女", "男女合",
    "合唱", "齐唱", "独唱", "对唱", "领唱", "伴唱", "童声", "念白", "旁白", "独白",
    "对白", "说唱",
)
_HAN_SECTION_LABELS = "副歌|主歌|桥段|间奏|前奏|尾奏|过门|独白|念白"
_SECTION_LABELS = (
    r"副歌|主歌|桥段|间奏|前奏|尾奏|过门|rap|chorus|verse|bridge|intro|outro|hook|"
    r"pre-?chorus|refrain"
)
_ROLES = "|".join(sorted(ROLE_LABELS, key=len, reverse=True))
_REPEAT = (
    rf"(?:重复|反复|repeat)\s*(?:副歌|主歌|合唱|[一二两三四五六七八九十\d]+\s*[次遍]|"
    rf"[x×*]\s*\d+|\d+\s*[x×]|{_CHORUS_MARK}+)?"
)
_MARKER = re.compile(
    rf"(?i)"
    rf"^\s*{_OPEN}\s*(?:{_ROLES}|{_SECTION_LABELS})\s*\d*\s*{_CLOSE}"  # [合] [Chorus]
    rf"|(?:^|(?<=\s)){_OPEN}?\s*(?:{_ROLES})\s*{_CLOSE}?\s*{_COLON}"  # 男: 合唱:
    rf"|^\s*(?:{_SECTION_LABELS})(?:[\s-]*[a-z]?\d+)?\s*(?:{_COLON}|$)"  # 副歌: Verse 1: 副歌-C1
    # "—— 间奏 ——": a Chinese section name that no Han character touches
    rf"|(?<![{_HAN}])(?:{_HAN_SECTION_LABELS})(?:[\s-]*[a-z]?\d+)?(?![{_HAN}])"
    rf"|(?<![{_HAN}]){_OPEN}?\s*{_REPEAT}\s*{_CLOSE}?(?![{_HAN}])"  # 重复 x2, (重复副歌)
    rf"|{_CHORUS_MARK}+"
)
_LABEL_BEFORE_COLON = re.compile(
    rf"^\s*(?:{_OPEN}?\s*([^\s:：{_OPEN[1:-1]}{_CLOSE[1:-1]}]{{1,6}}"
    rf"(?:[(（][^)）:：]{{1,12}}[)）])?)\s*{_CLOSE}?\s*{_COLON}"
    # "(塔)将寸缕情丝": a singer named in brackets before the lyric
    rf"|[(（]([^\s:：()（）]{{1,6}})[)）])"
)


def strip_markers(line: str) -> str:
    """Remove chorus marks, repeat instructions, section and singer labels from a line."""
    return _MARKER.sub(" ", line)


def repeated_labels(lines: list[str]) -> frozenset[str]:
    """Return the labels (before a colon, or in brackets) that two or more lines of a song start with."""
    counts: dict[str, int] = {}
    for line in lines:
        match = _LABEL_BEFORE_COLON.match(line)
        if match:
            label = match.group(1) or match.group(2)
            counts[label] = counts.get(label, 0) + 1
    return frozenset(label for label, count in counts.items() if count >= 2)


def strip_label(line: str, labels: frozenset[str]) -> str:
    """Remove a leading "label:" when the label is one of labels."""
    match = _LABEL_BEFORE_COLON.match(line)
    if match and (match.group(1) or match.group(2)) in labels:
        return line[match.end():]
    return line


# --- the whole song --------------------------------------------------------

# Longer source lines are split at spaces and punctuation before the rules run.
# A lyric line is far shorter, and the regular expressions above take time
# that grows with the square of the line length.
MAX_LINE_CHARS = 500
_LINE_BREAKS = re.compile(r"(?<=[\s,.!?;，。！？；、])")


def split_long_line(line: str) -> list[str]:
    """Split a line longer than MAX_LINE_CHARS into pieces of at most that length."""
    if len(line) <= MAX_LINE_CHARS:
        return [line]
    pieces: list[str] = []
    current = ""
    for part in _LINE_BREAKS.split(line):
        if current and len(current) + len(part) > MAX_LINE_CHARS:
            pieces.append(current)
            current = ""
        current += part
        # A run without any break is cut hard; it is not a lyric line anyway.
        while len(current) > MAX_LINE_CHARS:
            pieces.append(current[:MAX_LINE_CHARS])
            current = current[MAX_LINE_CHARS:]
    if current:
        pieces.append(current)
    return pieces



def clean_lines(raw_lines: list[str]) -> list[str]:
    """Apply rules 1 to 5 to the raw lines of one song and return the lines kept."""
    kept: list[str] = []
    seen_lyric = False
    for raw in (piece for line in raw_lines for piece in split_long_line(line)):
        line = strip_tags(raw).strip()
        if is_notice(line) or is_credit(line):
            continue
        line = strip_credit_tail(line).strip()
        if not line:
            continue
        if not seen_lyric and is_title_artist(line):
            continue
        kept.append(line)
        seen_lyric = True

    # Singer names used as labels ("银临: ...") are only recognisable by repetition.
    labels = repeated_labels(kept)
    return [strip_markers(strip_label(line, labels)) for line in kept]


def clean_song(raw_lines: list[str], *, min_chars: int = MIN_SONG_CHARS) -> CleanSong:
    """Clean the raw lines of one song and check it against the song-level rules."""
    lines = clean_lines(raw_lines)
    text = "\n".join(lines)
    lyric_lines = tuple(run for line in lines for run in han_runs(line))

    if has_kana_or_hangul(text):
        return CleanSong(lyric_lines, DropReason.KANA_OR_HANGUL)
    han = sum(len(line) for line in lyric_lines)
    if count_latin(text) > han:
        return CleanSong(lyric_lines, DropReason.MOSTLY_LATIN)
    if han == 0:
        return CleanSong(lyric_lines, DropReason.EMPTY)
    if han < min_chars:
        return CleanSong(lyric_lines, DropReason.TOO_SHORT)
    return CleanSong(lyric_lines)

