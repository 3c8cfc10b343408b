"""Song boundaries, LRC time order and JSON shapes of data.parse, on made-up text."""

import json

import pytest

from data.parse import UnknownShapeError, parse_file, split_text_songs, songs_from_json


def identity(text: str) -> str:
    """Stand in for prepare_text where conversion does not matter."""
    return text


def test_text_without_marks_is_one_song() -> None:
    assert split_text_songs("春风\n\n月光\n") == [["春风", "", "月光"]]


def test_separator_lines_split_songs() -> None:
    text = "春风\n月光\n=====\n小河\n--- 第三首 ---\n清茶\n"
    assert split_text_songs(text) == [["春风", "月光"], ["小河"], ["清茶"]]


def test_new_title_tag_after_lyrics_starts_a_song() -> None:
    text = "[ti:甲]\n[00:01.00]春风\n[ti:乙]\n[ar:某人]\n[00:01.00]月光\n"
    songs = split_text_songs(text)
    assert len(songs) == 2
    assert songs[1][0] == "[ti:乙]"


def test_blank_text_is_one_empty_song() -> None:
    assert split_text_songs("\n \n") == [[]]


def test_repeated_stamps_are_expanded_in_time_order() -> None:
    text = "[ti:甲]\n[00:01.00]春风\n[00:05.00][00:20.00]月光\n[00:10.00]小河\n"
    assert split_text_songs(text) == [["[ti:甲]", "春风", "月光", "小河", "月光"]]


@pytest.mark.parametrize(
    ("value", "texts"),
    [
        ([{"author": "某", "paragraphs": ["春风，", "月光。"], "rhythmic": "某调"}], ["春风，\n月光。"]),
        ([{"title": "甲", "lyric": ["春风", "月光"]}], ["春风\n月光"]),
        ([{"lrc": "[00:01.00]春风\n[00:02.00]月光"}], ["[00:01.00]春风\n[00:02.00]月光"]),
        ({"lrc": {"version": 1, "lyric": "[00:01.00]春风"}}, ["[00:01.00]春风"]),
        (["[00:01.00]春风\n[00:02.00]月光", "小河\n清茶"], ["[00:01.00]春风\n[00:02.00]月光", "小河\n清茶"]),
        (["春风", "月光"], ["春风\n月光"]),
        ([["春风", "月光"], ["小河"]], ["春风\n月光", "小河"]),
        ({"songs": [{"lyrics": "春风"}]}, ["春风"]),
        ({"101": {"lyric": "春风"}, "102": {"lyric": "月光"}}, ["春风", "月光"]),
        ([{"lyrics": [{"time": 1.5, "text": "春风"}, {"time": 3.0, "text": "月光"}]}], ["春风\n月光"]),
        ("春风\n月光", ["春风\n月光"]),
    ],
)
def test_json_shapes_are_read(value: object, texts: list[str]) -> None:
    assert songs_from_json(value).texts == texts


def test_json_elements_that_are_not_songs_are_reported() -> None:
    parsed = songs_from_json([{"lyric": "春风"}, {"name": "某人"}, 3])
    assert parsed.texts == ["春风"]
    assert parsed.problems == ["2 of 3 elements are not songs and were skipped"]


@pytest.mark.parametrize(
    "value",
    [[{"name": "某人", "description": "生平"}], {"name": "某人"}, 42, [1, 2]],
)
def test_json_of_unknown_shape_raises(value: object) -> None:
    with pytest.raises(UnknownShapeError, match="unknown JSON shape"):
        songs_from_json(value)


def test_json_lines_read_one_song_per_line() -> None:
    text = "\n".join(json.dumps(item, ensure_ascii=False) for item in [{"lyric": "春风"}, ["月光", "小河"], "清茶"])
    songs, problems = parse_file("jsonl", text + "\n{broken\n", identity)
    assert songs == [["春风"], ["月光", "小河"], ["清茶"]]
    assert problems == ["line 4: invalid JSON (Expecting property name enclosed in double quotes); line skipped"]


def test_json_file_read_as_json_lines() -> None:
    songs, _ = parse_file("json", '{"lyric": "春风"}\n{"lyric": "月光"}\n', identity)
    assert songs == [["春风"], ["月光"]]


def test_invalid_json_names_the_position() -> None:
    with pytest.raises(UnknownShapeError, match="invalid JSON: .* at line 1 column"):
        parse_file("json", '[{"lyric": "春风"', identity)


def test_json_strings_are_prepared_after_parsing() -> None:
    # NFKC would turn the full-width quote into a JSON quote if applied first.
    text = json.dumps([{"lyric": "＂春风＂"}], ensure_ascii=False)
    songs, _ = parse_file("json", text, lambda value: value.replace("＂", '"'))
    assert songs == [['"春风"']]
