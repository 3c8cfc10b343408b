"""Fixtures shared by every test folder: a tiny made-up corpus and a tiny trained checkpoint."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

# Common characters for made-up lines. The fixtures never hold real lyrics:
# every line is a random draw from this pool.
MADE_UP_CHARACTERS = "春夏秋冬风花雪月山水云天日夜星河江湖心梦人家东西南北长远高低红绿白青来去回望听看"
TINY_SONG_COUNT = 40


def make_up_songs(count: int = TINY_SONG_COUNT, *, seed: int = 7) -> list[str]:
    """Return `count` made-up songs in the lyrics.txt shape: 2 to 4 lines of 4 to 7 characters, each ending with "/"."""
    generator = random.Random(seed)
    songs = []
    for _ in range(count):
        lines = [
            "".join(generator.choice(MADE_UP_CHARACTERS) for _ in range(generator.randint(4, 7)))
            for _ in range(generator.randint(2, 4))
        ]
        songs.append("".join(line + "/" for line in lines))
    return songs


def write_lyrics(path: Path, songs: list[str]) -> Path:
    """Write songs to `path` in the lyrics.txt format (one song per line) and return the path."""
    path.write_text("".join(song + "\n" for song in songs), encoding="utf-8")
    return path


@pytest.fixture
def tiny_lyrics(tmp_path: Path) -> Path:
    """Return the path of a fresh lyrics.txt of 40 made-up songs."""
    return write_lyrics(tmp_path / "lyrics.txt", make_up_songs())


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the path of a checkpoint trained for a few real steps of the `tiny` preset on made-up songs.

    The run's other files (last.pt, metrics.jsonl, lyrics.txt) sit in the same
    folder. Tests that modify the file should copy it first, because the whole
    session shares it.
    """
    from training.config import TINY_PRESET
    from training.loop import BEST_NAME, train

    folder = tmp_path_factory.mktemp("tiny-run")
    lyrics = write_lyrics(folder / "lyrics.txt", make_up_songs())
    config = TINY_PRESET.with_overrides(max_steps=30, seed=3)
    train(config, data=lyrics, out_dir=folder, progress_bar=False)
    return folder / BEST_NAME
