"""The command line: training, the overfit check, evaluate, and Ctrl-C in a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model.checkpoint import load_checkpoint
from training.__main__ import main
from training.config import TINY_PRESET
from training.sanity import OverfitFailed, overfit_batch

REPO = Path(__file__).resolve().parents[2]


def test_train_command_writes_the_run(tiny_lyrics: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "run"
    status = main(["--data", str(tiny_lyrics), "--preset", "tiny", "--max-steps", "15", "--out", str(out),
                   "--no-progress"])

    assert status == 0
    assert f"best model: {out / 'best.pt'}" in capsys.readouterr().out
    assert load_checkpoint(out / "last.pt").training_state["step"] == 15


def test_train_command_default_folder_is_under_data_dir(
    tiny_lyrics: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LYRICBOT_DATA_DIR", str(tmp_path / "var"))
    assert main(["--data", str(tiny_lyrics), "--preset", "tiny", "--max-steps", "3", "--no-progress"]) == 0

    runs = list((tmp_path / "var" / "checkpoints" / "runs").iterdir())
    assert len(runs) == 1
    assert (runs[0] / "best.pt").is_file()


def test_resume_command_continues_in_the_same_folder(tiny_lyrics: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    main(["--data", str(tiny_lyrics), "--preset", "tiny", "--max-steps", "5", "--out", str(out), "--no-progress"])

    status = main(["--data", str(tiny_lyrics), "--resume", str(out / "last.pt"), "--max-steps", "9", "--no-progress"])
    assert status == 0
    assert load_checkpoint(out / "last.pt").training_state["step"] == 9


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--preset", "tiny", "--data", "{missing}"], "file not found"),
        (["--data", "{lyrics}", "--resume", "{missing}"], "file not found"),
        (["--preset", "tiny", "--data", "{lyrics}", "--max-steps", "0"], "max_steps must be at least 1"),
    ],
)
def test_train_command_reports_bad_input(
    tiny_lyrics: Path, tmp_path: Path, capsys: pytest.CaptureFixture, arguments: list[str], expected: str
) -> None:
    values = {"missing": str(tmp_path / "absent.txt"), "lyrics": str(tiny_lyrics)}
    status = main([argument.format(**values) for argument in arguments])

    assert status == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ")
    assert expected in error


def test_resume_command_rejects_a_preset(tiny_lyrics: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    main(["--data", str(tiny_lyrics), "--preset", "tiny", "--max-steps", "2", "--out", str(tmp_path), "--no-progress"])

    status = main(["--data", str(tiny_lyrics), "--preset", "cpu", "--resume", str(tmp_path / "last.pt")])
    assert status == 1
    assert "--preset cannot change a resumed run" in capsys.readouterr().err


def test_overfit_batch_command_passes(tiny_lyrics: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["--data", str(tiny_lyrics), "--preset", "tiny", "--overfit-batch"]) == 0
    assert "overfit check passed" in capsys.readouterr().out


def test_overfit_batch_fails_loudly_when_loss_stays_up(tiny_lyrics: Path) -> None:
    # a learning rate this small cannot memorise anything in 20 steps
    config = TINY_PRESET.with_overrides(learning_rate=1e-7)

    with pytest.raises(OverfitFailed, match="only fell from") as caught:
        overfit_batch(config, tiny_lyrics, max_steps=20)
    assert "learning rate" in str(caught.value)


def test_evaluate_command_prints_the_figures(tiny_checkpoint: Path, capsys: pytest.CaptureFixture) -> None:
    lyrics = tiny_checkpoint.parent / "lyrics.txt"
    assert main(["evaluate", "--checkpoint", str(tiny_checkpoint), "--data", str(lyrics)]) == 0

    output = capsys.readouterr().out
    assert "nats per character" in output
    assert "bits per character" in output
    assert "accuracy" in output
    assert "characters outside the vocabulary: 0" in output


def test_evaluate_command_reports_unknown_characters(
    tiny_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    lyrics = tmp_path / "other.txt"
    lyrics.write_text("春风龘龘/\n", encoding="utf-8")
    assert main(["evaluate", "--checkpoint", str(tiny_checkpoint), "--data", str(lyrics), "--json"]) == 0

    scores = json.loads(capsys.readouterr().out)
    assert scores["unknown_characters"] == 2
    assert scores["unknown_examples"] == {"龘": 2}


def test_evaluate_command_rejects_a_damaged_checkpoint(
    tiny_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(tiny_checkpoint.read_bytes()[:1000])

    status = main(["evaluate", "--checkpoint", str(damaged), "--data", str(tiny_checkpoint.parent / "lyrics.txt")])
    assert status == 1
    assert str(damaged) in capsys.readouterr().err


def test_ctrl_c_saves_and_exits_130(tiny_lyrics: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    command = [sys.executable, "-m", "training", "--data", str(tiny_lyrics), "--preset", "tiny",
               "--epochs", "100000", "--patience", "100000", "--out", str(out), "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    # wait until the loop is running: the first "train" record appears after 50 steps
    metrics = out / "metrics.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and '"event": "train"' not in (metrics.read_text() if metrics.exists() else ""):
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)

    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "--resume" in stderr
    assert load_checkpoint(out / "last.pt").training_state["step"] > 0
