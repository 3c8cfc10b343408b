"""prepare over the shared real corpus beside the repository; skipped when it is absent."""

import re
from pathlib import Path

import pytest

from data.prepare import prepare_corpus

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
SONG_LINE = re.compile(r"^(?:[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+/)+$")
CREDIT_START = re.compile(r"(?:^|/)(?:作词|作曲|编曲|混音|监制|制作人|演唱)/")

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not (CORPUS / "pop").is_dir(), reason=f"shared corpus not found at {CORPUS.resolve()}"),
]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory):
    """Prepare pop and songci once for every test in this module."""
    out = tmp_path_factory.mktemp("corpus") / "lyrics.txt"
    report = prepare_corpus([CORPUS / "pop", CORPUS / "songci"], out)
    return report, out


def test_real_corpus_output_is_clean(prepared) -> None:
    report, out = prepared
    songs = out.read_text(encoding="utf-8").split("\n")
    assert songs.pop() == ""
    assert report.songs_kept == len(songs) > 20_000
    bad = [song[:40] for song in songs if not SONG_LINE.match(song)]
    assert bad == []
    assert [song[:40] for song in songs if CREDIT_START.search(song)] == []


def test_real_corpus_is_simplified(prepared) -> None:
    _, out = prepared
    text = out.read_text(encoding="utf-8")
    # Characters that only traditional text uses; the Mayday files are full of them.
    assert [char for char in "們這個來後說時會裡為見東車門長" if char in text] == []


def test_real_corpus_report_lists_drops(prepared) -> None:
    report, _ = prepared
    # The pop folder contains English-only, Japanese and duplicate songs.
    for reason in ("mostly Latin", "kana or hangul", "duplicate", "too short"):
        assert report.dropped[reason] > 0, reason
    # author.song.json contains biographies, not ci.
    assert any("author.song.json" in source for source, _ in report.problems)


def test_real_gbk_and_traditional_files_are_kept(tmp_path: Path) -> None:
    report = prepare_corpus([CORPUS / "pop" / "gbk_lrc_children", CORPUS / "pop" / "mayday_genius"], tmp_path / "l.txt")
    assert report.songs_read == 8
    assert report.songs_kept == 8
    assert report.problems == []


def test_real_corpus_is_deterministic(tmp_path: Path) -> None:
    sources = [CORPUS / "pop" / "lrc_music_player", CORPUS / "pop" / "json_netease_lrc"]
    prepare_corpus(sources, tmp_path / "a.txt")
    prepare_corpus(sources, tmp_path / "b.txt")
    assert (tmp_path / "a.txt").read_bytes() == (tmp_path / "b.txt").read_bytes()
