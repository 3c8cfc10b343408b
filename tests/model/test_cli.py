"""Tests for `python -m model write`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from model.__main__ import EXIT_CHECKPOINT, EXIT_PROMPT, main, program_name
from model.checkpoint import save_checkpoint

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def checkpoint_path(tmp_path, trained_checkpoint):
    path = tmp_path / "current.pt"
    save_checkpoint(trained_checkpoint, path)
    return path


def test_write_prints_line(checkpoint_path, capsys):
    status = main(["write", "风", "--checkpoint", str(checkpoint_path), "--seed", "1", "--top-k", "1"])

    assert status == 0
    assert capsys.readouterr().out == "风起云飞远方/\n"


def test_write_acrostic_prints_line_per_character(checkpoint_path, capsys):
    status = main(["write", "春风花", "--checkpoint", str(checkpoint_path), "--seed", "2"])

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert [line[0] for line in lines] == ["春", "风", "花"]
    assert all(line.endswith("/") for line in lines)


def test_write_same_seed_same_output(checkpoint_path, capsys):
    main(["write", "春", "--checkpoint", str(checkpoint_path), "--seed", "9", "--temperature", "1.5"])
    first = capsys.readouterr().out
    main(["write", "春", "--checkpoint", str(checkpoint_path), "--seed", "9", "--temperature", "1.5"])

    assert capsys.readouterr().out == first


def test_write_count_prints_several_answers(checkpoint_path, capsys):
    status = main(["write", "春", "--checkpoint", str(checkpoint_path), "--seed", "1", "--count", "3"])

    answers = capsys.readouterr().out.strip().split("\n\n")
    assert status == 0
    assert len(answers) == 3
    assert all(answer.startswith("春") and answer.endswith("/") for answer in answers)


def test_write_notes_traditional_conversion(checkpoint_path, capsys):
    status = main(["write", "風", "--checkpoint", str(checkpoint_path), "--seed", "1"])

    captured = capsys.readouterr()
    assert status == 0
    assert captured.out.startswith("风")
    assert "风" in captured.err
    assert "風" in captured.err


def test_write_unknown_character_names_it(checkpoint_path, capsys):
    status = main(["write", "龘", "--checkpoint", str(checkpoint_path)])

    captured = capsys.readouterr()
    assert status == EXIT_PROMPT
    assert captured.out == ""
    assert "龘" in captured.err
    assert "try one of" in captured.err


def test_write_invalid_temperature_is_explained(checkpoint_path, capsys):
    status = main(["write", "春", "--checkpoint", str(checkpoint_path), "--temperature", "0"])

    assert status == EXIT_PROMPT
    assert "temperature" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--temperature", "0", "--temperature must be in (0, 10], got 0.0"),
        ("--temperature", "nan", "--temperature must be in (0, 10], got nan"),
        ("--top-k", "0", "--top-k must be at least 1, got 0"),
        ("--top-p", "2", "--top-p must be in (0, 1], got 2.0"),
        ("--top-p", "0", "--top-p must be in (0, 1], got 0.0"),
    ],
)
def test_write_invalid_option_is_named(checkpoint_path, capsys, option, value, message):
    status = main(["write", "春", "--checkpoint", str(checkpoint_path), option, value])

    err = capsys.readouterr().err
    assert status == EXIT_PROMPT
    assert message in err
    assert "top_p" not in err
    assert "top_k" not in err


@pytest.mark.parametrize(("prompt", "culprit"), [("hello", "'h'"), ("春h", "'h'"), ("春。", "'。'"), ("/", "'/'")])
def test_write_non_han_prompt_is_rejected(tmp_path, capsys, prompt, culprit):
    # the checkpoint does not exist, so only the prompt check can produce this error
    status = main(["write", prompt, "--checkpoint", str(tmp_path / "absent.pt")])

    err = capsys.readouterr().err
    assert status == EXIT_PROMPT
    assert "the prompt must be Han characters" in err
    assert f"{culprit} is not one" in err
    assert "vocabulary" not in err


def test_write_spaced_han_prompt_is_accepted(checkpoint_path, capsys):
    status = main(["write", " 春 风 ", "--checkpoint", str(checkpoint_path), "--seed", "1"])

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert [line[0] for line in lines] == ["春", "风"]


def test_write_text_file_is_not_checkpoint(tmp_path, capsys):
    song = tmp_path / "song1.txt"
    song.write_text("春风吹过小山\n月光照在河上\n", encoding="utf-8")

    status = main(["write", "春", "--checkpoint", str(song)])

    err = capsys.readouterr().err
    assert status == EXIT_CHECKPOINT
    assert str(song) in err
    assert "not a checkpoint file" in err
    assert "unsafe" not in err


def test_program_name_follows_invocation():
    assert program_name("/usr/local/bin/lyricbot-write") == "lyricbot-write"
    assert program_name(str(REPOSITORY / "model" / "__main__.py")) == "python -m model"


def test_write_missing_checkpoint_names_file(tmp_path, capsys):
    path = tmp_path / "nothing.pt"

    status = main(["write", "春", "--checkpoint", str(path)])

    assert status == EXIT_CHECKPOINT
    assert str(path) in capsys.readouterr().err


def test_write_default_checkpoint_from_environment(checkpoint_path, capsys, monkeypatch):
    monkeypatch.setenv("LYRICBOT_CHECKPOINT", str(checkpoint_path))

    status = main(["write", "风", "--top-k", "1"])

    assert status == 0
    assert capsys.readouterr().out == "风起云飞远方/\n"


def test_write_default_checkpoint_under_data_dir(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LYRICBOT_CHECKPOINT", raising=False)
    monkeypatch.setenv("LYRICBOT_DATA_DIR", str(tmp_path / "data"))

    status = main(["write", "春"])

    assert status == EXIT_CHECKPOINT
    assert str(tmp_path / "data" / "checkpoints" / "current.pt") in capsys.readouterr().err


def test_module_entry_point_runs(checkpoint_path):
    completed = subprocess.run(
        [sys.executable, "-m", "model", "write", "花", "--checkpoint", str(checkpoint_path), "--top-k", "1"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "花落月明人静/\n"


def test_module_usage_names_module_form():
    completed = subprocess.run(
        [sys.executable, "-m", "model"], cwd=REPOSITORY, capture_output=True, text=True, timeout=120
    )

    assert completed.returncode == 2
    assert completed.stderr.startswith("usage: python -m model")
