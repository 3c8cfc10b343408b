"""prepare_corpus and `python -m data prepare` end to end, on sources the tests write."""

import codecs
import json
import os
import re
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from data_helpers import VERSE, VERSE_TEXT, make_zip, read_songs, write

from data.__main__ import main, program_name
from data.prepare import prepare_corpus
from data.sources import ArchiveLimits

REPOSITORY = Path(__file__).resolve().parents[2]
SONG_LINE = re.compile(r"^(?:[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+/)+$")

# Four more made-up songs, each with its own first line so none is a duplicate.
OTHER = [
    ["山间小路弯又长", "白云飘在半空中", "牧童吹笛过桥来", "夕阳染红一片天"],
    ["雨落屋檐滴答响", "窗外的灯慢慢亮", "谁在远方唱着歌", "唱到梦里的故乡"],
    ["秋叶落满旧街道", "风把信纸吹很远", "你说明年再相见", "我把约定写心间"],
    ["雪花飘进小院里", "炉火温暖一家人", "孩子笑着堆雪人", "新年钟声响起来"],
]


def text_of(lines: list[str]) -> str:
    """Return the lyrics.txt form of clean lines."""
    return "".join(line + "/" for line in lines)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m data` in a subprocess from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "data", *args], cwd=REPOSITORY, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def mixed_sources(tmp_path: Path) -> Path:
    """A folder with one source of every kind and encoding, plus a zip archive."""
    root = tmp_path / "sources"
    write(root / "歌手_1" / "一_1.txt", "\n".join(["作词：某人", *VERSE]) + "\n")
    write(root / "歌手_1" / "二_2.lrc", "\r\n".join(["[ti:二]", "[ar:某人]", *(f"[00:0{i}.00]{line}" for i, line in enumerate(OTHER[0]))]), "utf-8-sig")
    write(root / "gbk" / "三.lrc", "\r".join(OTHER[1]), "gbk")
    (root / "utf16.txt").write_bytes("\n".join(OTHER[2]).encode("utf-16"))
    write(root / "songs.json", json.dumps([{"paragraphs": [line + "，" for line in OTHER[3]]}], ensure_ascii=False))
    write(root / "more.jsonl", json.dumps({"lyric": "\n".join(["Hello darling", "My dear friend"])}) + "\n")
    write(root / "notes.md", "not lyrics")
    make_zip(tmp_path / "archive.zip", {"歌手_2/四_4.krc": "[1000,2000]<0,500,0>竹<500,500,0>林\n" + "\n".join(f"[{i}000,900]{line}" for i, line in enumerate(VERSE[::-1]))})
    return root


def test_every_source_kind_is_read(mixed_sources: Path, tmp_path: Path) -> None:
    out = tmp_path / "lyrics.txt"
    report = prepare_corpus([mixed_sources, tmp_path / "archive.zip"], out)

    assert report.written
    # A folder's own files come before its subfolders, each in name order.
    assert read_songs(out) == [
        text_of(OTHER[3]),
        text_of(OTHER[2]),
        text_of(OTHER[1]),
        text_of(VERSE),
        text_of(OTHER[0]),
        text_of(["竹林", *VERSE[::-1]]),
    ]
    assert report.files_skipped == {".md": 1}
    assert report.dropped == {"mostly Latin": 1}
    assert report.problems == []


def test_output_is_han_lines_with_slashes(mixed_sources: Path, tmp_path: Path) -> None:
    out = tmp_path / "lyrics.txt"
    prepare_corpus([mixed_sources], out)
    data = out.read_bytes()
    assert data.endswith(b"/\n")
    for song in data.decode("utf-8").split("\n")[:-1]:
        assert SONG_LINE.match(song), song


def test_report_counts_songs_characters_and_vocabulary(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "\n".join(VERSE))
    write(tmp_path / "b.txt", "\n".join(VERSE))  # an exact duplicate
    write(tmp_path / "c.txt", "啊啊")  # too short
    write(tmp_path / "d.txt", "")  # empty
    report = prepare_corpus([tmp_path], tmp_path / "out" / "lyrics.txt")

    assert (report.files_read, report.songs_read, report.songs_kept) == (4, 4, 1)
    assert report.dropped == {"duplicate": 1, "too short": 1, "empty": 1}
    assert report.lyric_lines == 4
    assert report.characters == sum(map(len, VERSE))
    assert report.vocabulary_size == len(set("".join(VERSE)))
    expected = sorted(Counter("".join(VERSE)).items(), key=lambda item: (-item[1], item[0]))[:20]
    assert report.top_characters == expected
    text = report.format()
    assert "songs dropped  3 (duplicate 1, empty 1, too short 1)" in text
    assert f"wrote {tmp_path / 'out' / 'lyrics.txt'}" in text


def test_duplicate_after_conversion_is_dropped(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "後來我們在風裡說話\n" + "\n".join(VERSE))
    write(tmp_path / "b.txt", "后来我们在风里说话\n" + "\n".join(VERSE))
    report = prepare_corpus([tmp_path], tmp_path / "lyrics.txt")
    assert report.songs_kept == 1
    assert report.dropped == {"duplicate": 1}


def test_same_sources_give_identical_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    # The same files created in opposite orders, so directory order differs.
    for folder, songs in ((first, OTHER), (second, OTHER[::-1])):
        for song in songs:
            write(folder / f"{song[0]}.txt", "\n".join(song))
    prepare_corpus([first], tmp_path / "one.txt")
    prepare_corpus([second], tmp_path / "two.txt")
    prepare_corpus([first], tmp_path / "three.txt")
    assert (tmp_path / "one.txt").read_bytes() == (tmp_path / "two.txt").read_bytes()
    assert (tmp_path / "one.txt").read_bytes() == (tmp_path / "three.txt").read_bytes()


def test_nothing_usable_leaves_existing_file(tmp_path: Path) -> None:
    out = write(tmp_path / "lyrics.txt", "旧的内容/\n")
    write(tmp_path / "bad.txt", "ok")
    report = prepare_corpus([tmp_path / "missing", tmp_path / "bad.txt"], out)
    assert not report.written
    assert out.read_text(encoding="utf-8") == "旧的内容/\n"
    assert "nothing written" in report.format()


def test_failed_write_leaves_existing_file(tmp_path: Path, verse_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = write(tmp_path / "out" / "lyrics.txt", "旧的内容/\n")

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("data.prepare.os.replace", fail)
    with pytest.raises(OSError, match="No space left"):
        prepare_corpus([verse_file], out)
    assert out.read_text(encoding="utf-8") == "旧的内容/\n"
    assert os.listdir(out.parent) == ["lyrics.txt"]


def test_zip_is_read_without_extracting(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "corpus.zip", {"a_1/b_1.txt": "\n".join(VERSE), "a_1/c_2.txt": "\n".join(OTHER[0])})
    out = tmp_path / "out" / "lyrics.txt"
    report = prepare_corpus([archive], out)
    assert report.songs_kept == 2
    assert sorted(os.listdir(tmp_path)) == ["corpus.zip", "out"]
    assert sorted(os.listdir(out.parent)) == ["lyrics.txt"]


def test_gbk_member_names_in_zip_are_decoded(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("歌手_1/歌_1.txt".encode("gbk").decode("cp437"))
    with zipfile.ZipFile(tmp_path / "gbk.zip", "w") as archive:
        archive.writestr(info, "\n".join(["作词：某人", *VERSE]).encode("gbk"))
    report = prepare_corpus([tmp_path / "gbk.zip"], tmp_path / "lyrics.txt")
    assert report.songs_kept == 1


# --- bad input: one problem per bad source, the rest still read ---------------


def bad_input_cases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Write one bad source per case and return case -> (path, expected reason)."""
    (tmp_path / "links").mkdir(parents=True)
    (tmp_path / "links" / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    corrupt = make_zip(tmp_path / "corrupt.zip", {"a/b.txt": "\n".join(VERSE)})
    data = bytearray(corrupt.read_bytes())
    position = data.index(b"a/b.txt") + len("a/b.txt") + 2
    data[position] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    with zipfile.ZipFile(tmp_path / "empty.zip", "w"):
        pass
    return {
        "missing": (tmp_path / "missing.txt", "not found; check the path"),
        "unreadable": (tmp_path / "links", "cannot read"),
        "corrupt member": (corrupt, "cannot read"),
        "undecodable": (write_bytes(tmp_path / "bad.txt", b"\x80\x80\x80\xff\xff"), "unknown encoding"),
        "empty archive": (tmp_path / "empty.zip", "archive is empty"),
        "not a zip": (write_bytes(tmp_path / "fake.zip", b"just text"), "not a readable zip archive"),
        "absolute entry": (make_zip(tmp_path / "abs.zip", {"/etc/lyrics.txt": "春风"}), "absolute path or '..'"),
        "parent entry": (make_zip(tmp_path / "up.zip", {"../up.txt": "春风"}), "absolute path or '..'"),
        "absurd size": (make_zip(tmp_path / "bomb.zip", {"a.txt": b"\0" * (2 * 1024**2)}), "archive rejected"),
        "unknown JSON": (write(tmp_path / "authors.json", '[{"name": "某人", "description": "生平"}]'), "unknown JSON shape"),
        "unsupported type": (write(tmp_path / "song.docx", "x"), "unsupported file type"),
        "no lyric files": (write(tmp_path / "covers" / "cover.jpg", "x").parent, "no lyric files found"),
    }


def write_bytes(path: Path, data: bytes) -> Path:
    """Write data to path and return path."""
    path.write_bytes(data)
    return path


def test_each_bad_input_is_reported_and_skipped(tmp_path: Path, verse_file: Path) -> None:
    cases = bad_input_cases(tmp_path / "bad")
    report = prepare_corpus([*(path for path, _ in cases.values()), verse_file], tmp_path / "lyrics.txt")

    assert report.songs_kept == 1
    assert len(report.problems) == len(cases)
    for case, (path, reason) in cases.items():
        messages = [message for source, message in report.problems if source.startswith(str(path))]
        assert len(messages) == 1, (case, report.problems)
        assert reason in messages[0], case


def test_unsafe_zip_entry_skipped_alone(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "mixed.zip", {"../evil.txt": "\n".join(OTHER[0]), "ok/song.txt": "\n".join(VERSE)})
    report = prepare_corpus([archive], tmp_path / "lyrics.txt")
    assert read_songs(tmp_path / "lyrics.txt") == [VERSE_TEXT]
    assert report.problems == [(f"{archive}::../evil.txt", "entry has an absolute path or '..' in it; entry skipped")]


def test_archive_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "big.zip", {"a.txt": "\n".join(VERSE), "b.txt": "\n".join(OTHER[0])})
    report = prepare_corpus([archive], tmp_path / "lyrics.txt", limits=ArchiveLimits(max_total_bytes=100))
    assert not report.written
    assert "exceeds the limit of 100" in report.problems[0][1]


def test_cli_reports_bad_inputs_in_one_line_each(tmp_path: Path, verse_file: Path) -> None:
    cases = bad_input_cases(tmp_path / "bad")
    result = run_cli("prepare", *(str(path) for path, _ in cases.values()), str(verse_file), "--out", str(tmp_path / "lyrics.txt"))

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == len(cases)
    assert "songs kept     1" in result.stdout


def test_cli_fails_when_nothing_is_usable(tmp_path: Path) -> None:
    result = run_cli("prepare", str(tmp_path / "missing"), "--out", str(tmp_path / "lyrics.txt"))
    assert result.returncode == 1
    assert "missing: not found; check the path" in result.stderr
    assert "no song was kept" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "lyrics.txt").exists()


def test_cli_names_empty_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("prepare", str(empty), "--out", str(tmp_path / "lyrics.txt"))

    assert result.returncode == 1
    problem = next(line for line in result.stderr.splitlines() if "WARNING" in line)
    assert str(empty) in problem
    assert "no lyric files found" in problem
    assert ".txt, .lrc, .krc, .json, .jsonl" in problem
    assert "problems       1" in result.stdout


def test_report_counts_failed_files_apart(tmp_path: Path, verse_file: Path) -> None:
    undecodable = write_bytes(tmp_path / "bad.txt", b"\x80\x80\x80\xff\xff")
    report = prepare_corpus([verse_file, undecodable], tmp_path / "lyrics.txt")

    assert report.files_read == 1
    assert report.files_failed == 1
    assert "files read     1 of 2 lyric files (1 failed to read)" in report.format()


def test_cli_usage_names_module_form(tmp_path: Path) -> None:
    result = run_cli("prepare")

    assert result.returncode == 2
    assert result.stderr.startswith("usage: python -m data prepare")
    assert "lyricbot-data" not in result.stderr


def test_cli_usage_names_installed_script() -> None:
    assert program_name("/usr/local/bin/lyricbot-data") == "lyricbot-data"
    assert program_name(str(REPOSITORY / "data" / "__main__.py")) == "python -m data"


def test_cli_writes_report_json(tmp_path: Path, verse_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["prepare", str(verse_file), "--out", str(tmp_path / "lyrics.txt"), "--report-json", str(tmp_path / "r.json")])
    assert status == 0
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["songs_kept"] == 1
    assert report["dropped"] == {}
    assert "songs read     1" in capsys.readouterr().out


def test_cli_rejects_bad_min_chars(tmp_path: Path, verse_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prepare", str(verse_file), "--out", str(tmp_path / "x.txt"), "--min-chars", "0"]) == 2
    assert "--min-chars must be at least 1" in capsys.readouterr().err


def test_cli_rejects_folder_as_out(tmp_path: Path, verse_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prepare", str(verse_file), "--out", str(tmp_path)]) == 2
    assert "is a folder; pass a file path" in capsys.readouterr().err


def test_progress_bar_shown_when_asked(tmp_path: Path, verse_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prepare_corpus([verse_file], tmp_path / "a.txt", progress=True)
    assert "preparing" in capsys.readouterr().err
    prepare_corpus([verse_file], tmp_path / "b.txt")
    assert "preparing" not in capsys.readouterr().err


def test_long_unmarked_file_gets_a_hint(tmp_path: Path) -> None:
    lines = [f"{VERSE[i % 4]}{'一二三四五六七八九十'[i % 10]}{'甲乙丙丁'[i // 10 % 4]}" for i in range(401)]
    write(tmp_path / "all.txt", "\n".join(lines))
    report = prepare_corpus([tmp_path / "all.txt"], tmp_path / "lyrics.txt")
    assert report.songs_kept == 1
    assert 'put a line of "===" between them' in report.problems[0][1]


def test_utf16_big_endian_with_bom_is_read(tmp_path: Path) -> None:
    (tmp_path / "be.txt").write_bytes(codecs.BOM_UTF16_BE + "\n".join(VERSE).encode("utf-16-be"))
    prepare_corpus([tmp_path / "be.txt"], tmp_path / "lyrics.txt")
    assert read_songs(tmp_path / "lyrics.txt") == [VERSE_TEXT]
