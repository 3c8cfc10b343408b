"""One test per cleaning rule of data.clean, on made-up lines."""

import pytest

from data.clean import (
    MAX_LINE_CHARS,
    MIN_SONG_CHARS,
    DropReason,
    clean_lines,
    clean_song,
    is_credit,
    is_notice,
    split_long_line,
    strip_markers,
    strip_tags,
)
from data.charset import han_runs
from data.convert import prepare_text

from data_helpers import VERSE


def song_of(lines: list[str]) -> str:
    """Clean raw lines the way prepare does (normalise, convert, clean) and return the song text."""
    song = clean_song(prepare_text("\n".join(lines)).split("\n"))
    assert song.dropped is None, song.dropped
    return song.text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("[00:12]春风吹过", "春风吹过"),
        ("[00:12.34]春风吹过", "春风吹过"),
        ("[00:12.345]春风吹过", "春风吹过"),
        ("[00:12:34]春风吹过", "春风吹过"),
        ("[00:12.34][01:40.00]春风吹过", "春风吹过"),
        ("春风[00:12.34]吹过", "春风吹过"),
        ("[00:01.00]<00:01.00>春<00:01.50>风<00:02.00>吹过", "春风吹过"),
        ("[1200,3000]<0,300,0>春<300,300,0>风<600,400,0>吹过", "春风吹过"),
        ("春(1200,300)风(1500,300)吹过", "春风吹过"),
        ("[ti:一首歌]", ""),
        ("[ar:某歌手]", ""),
        ("[offset:-200]", ""),
        ("[by:]春风吹过", "春风吹过"),
    ],
)
def test_strip_tags_removes_stamps_and_id_tags(line: str, expected: str) -> None:
    assert strip_tags(line).strip() == expected


@pytest.mark.parametrize(
    "line",
    [
        "作词：某人",
        "作词: 某人",
        " 作词 : 某人",
        "作曲：某人",
        "词：某人",
        "曲 ： 某人",
        "词曲：某人",
        "编曲：某人",
        "制作人：某人",
        "演唱：某人",
        "监制：某人",
        "混音：某人",
        "出品：某公司",
        "OP：某公司",
        "SP : 某公司",
        "母带处理：某人",
        "混音助理：某人",
        "作词/作曲：某人",
        "作词 Lyricist：某人",
        "Lyrics by: Somebody",
        "Composer：Somebody",
        "Arranged by : Somebody",
        "Producer: Somebody",
        "Recorded & Mixed By: Somebody",
        "鼓（打击乐）：某人",
        "演唱/某人",
        "人声后期/Somebody",
        "原著、作词/某人",
        "编曲 某人",
        "制作人 某人",
        "作词Somebody、某人",
        "作词",
        "——某某音乐社出品——",
    ],
)
def test_credit_lines_are_recognised(line: str) -> None:
    assert is_credit(prepare_text(line))


@pytest.mark.parametrize(
    "line", ["他说：我爱你", "春风吹过小河边", "歌曲：春天", "我们一起演唱/你听", "旋律 在耳边回荡", "歌手"]
)
def test_lyric_lines_are_not_credits(line: str) -> None:
    assert not is_credit(prepare_text(line))


def test_credit_lines_are_dropped_from_song() -> None:
    lines = ["作词：某人", "作曲：某人", *VERSE, "编曲 : 某人"]
    assert song_of(lines) == "".join(line + "/" for line in VERSE)


def test_credit_glued_to_lyric_is_cut() -> None:
    lines = [*VERSE, "一壶清茶慢慢凉。作曲 : 某人"]
    assert song_of(lines).endswith("一壶清茶慢慢凉/")


def test_title_artist_header_is_dropped() -> None:
    lines = ["[00:00.50]小河边 - 某歌手", "[00:02.00]词：某人", *VERSE]
    assert song_of(lines) == "".join(line + "/" for line in VERSE)


@pytest.mark.parametrize(
    "line",
    [
        "纯音乐，请欣赏",
        "此歌曲为没有填词的纯音乐，请您欣赏",
        "未经授权不得翻唱或使用",
        "純音樂，請欣賞",
        "更多好歌请访问 http://example.com/song",
        "歌词网 www.example.com",
        "(完)",
        "·终·",
        "—— END ——",
    ],
)
def test_notices_and_urls_are_dropped(line: str) -> None:
    assert is_notice(prepare_text(line))
    assert clean_lines([prepare_text(line)]) == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("＊春风吹过", "春风吹过"),
        ("*春风吹过", "春风吹过"),
        ("#春风吹过", "春风吹过"),
        ("＃ 春风吹过", "春风吹过"),
        ("Repeat 春风吹过", "春风吹过"),
        ("重复＊", ""),
        ("(重复两次)", ""),
        ("重复副歌", ""),
        ("春风吹过 x2", "春风吹过"),
        ("【合】春风吹过", "春风吹过"),
        ("男：春风吹过", "春风吹过"),
        ("副歌：春风吹过", "春风吹过"),
        ("[Chorus]春风吹过", "春风吹过"),
        ("—— 间奏 ——", ""),
        ("副歌-C1", ""),
        ("前奏响起", "前奏响起"),
        ("我们重复着昨天", "我们重复着昨天"),
    ],
)
def test_markers_are_removed_and_lyric_kept(line: str, expected: str) -> None:
    lines = clean_lines([prepare_text(line)])
    assert "".join(han_runs(" ".join(lines))) == expected


def test_label_used_twice_is_a_singer_label() -> None:
    lines = ["甲乙：春风吹过小河边", "甲乙：月光照亮回家路", "丙：我在窗前等你来", "一壶清茶慢慢凉"]
    assert song_of(lines) == "春风吹过小河边/月光照亮回家路/丙/我在窗前等你来/一壶清茶慢慢凉/"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("春风吹过，小河边。", "春风吹过/小河边/"),
        ("春风吹过,小河边.", "春风吹过/小河边/"),
        ("春风吹过！小河边？月光！", "春风吹过/小河边/月光/"),
        ("春风吹过 小河边", "春风吹过/小河边/"),
        ("春风吹过/小河边", "春风吹过/小河边/"),
        ("春风吹过//小河边 / ", "春风吹过/小河边/"),
        ("春风吹过baby小河边", "春风吹过/小河边/"),
        ("「春风」《吹过》小河边…", "春风/吹过/小河边/"),
    ],
)
def test_punctuation_and_spaces_split_lines(line: str, expected: str) -> None:
    lines = [line, *VERSE]
    assert song_of(lines).startswith(expected)


def test_traditional_becomes_simplified_except_fixed_words() -> None:
    lines = ["後來我們在風裡說話", "乾隆年間的著名畫家", *VERSE]
    assert song_of(lines).startswith("后来我们在风里说话/乾隆年间的著名画家/")


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        ([*VERSE, "さくらの花が咲いた"], DropReason.KANA_OR_HANGUL),
        ([*VERSE, "사랑해요"], DropReason.KANA_OR_HANGUL),
        (["I walk along the river in the rain", "and the moon is shining on my way", "月光"], DropReason.MOSTLY_LATIN),
        (["作词：某人", "[00:01.00]"], DropReason.EMPTY),
        ([], DropReason.EMPTY),
        (["春风吹过小河边"], DropReason.TOO_SHORT),
    ],
)
def test_song_level_drops(lines: list[str], reason: DropReason) -> None:
    assert clean_song(prepare_text("\n".join(lines)).split("\n")).dropped == reason


def test_minimum_length_is_inclusive() -> None:
    exactly = ["一二三四五六七八", "九十百千万亿兆京"]
    assert sum(map(len, exactly)) == MIN_SONG_CHARS
    assert clean_song(exactly).dropped is None
    assert clean_song(exactly[:1] + [exactly[1][:-1]]).dropped == DropReason.TOO_SHORT


def test_kana_check_ignores_dots_and_dashes() -> None:
    assert clean_song(["冬果尔・梓瑜", *VERSE, "啊ー", "ヽ(^_^)ヾ"]).dropped is None


def test_strip_markers_keeps_plain_lyric() -> None:
    assert strip_markers("春风吹过小河边") == "春风吹过小河边"


def test_long_line_is_split_into_pieces() -> None:
    assert split_long_line("春" * 1200) == ["春" * 500, "春" * 500, "春" * 200]
    pieces = split_long_line("春风吹过，" * 300)
    assert max(map(len, pieces)) <= MAX_LINE_CHARS
    assert "".join(pieces) == "春风吹过，" * 300


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "line",
    [
        " ".join(["music"] * 2000) + " and more",
        "、".join(["作曲编曲"] * 20000) + "春",
        "/".join(["人声后期"] * 20000) + "春",
        ".".join(["abc"] * 50000),
        "(" * 50000 + "春" + ")" * 50000,
    ],
)
def test_pathological_lines_finish(line: str) -> None:
    # Each of these made a rule backtrack for minutes before lines were bounded.
    assert all(len(piece) <= MAX_LINE_CHARS for piece in clean_lines([line]))
