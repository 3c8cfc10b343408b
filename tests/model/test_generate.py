"""Tests for batched line generation."""

from __future__ import annotations

import threading

import pytest
import torch

from model.checkpoint import CheckpointError, save_checkpoint
from model.generate import (
    MAX_LINE_LENGTH,
    MAX_PROMPT_LENGTH,
    GenerationRequest,
    LineWriter,
    PromptError,
    UnknownCharacterError,
)
from model.vocab import EOS, UNK


def biased_writer(vocab, make_model, make_checkpoint, biases, **options):
    """Build a writer whose output layer adds `biases` (character to logit) to a random network."""
    model = make_model(vocab)
    with torch.no_grad():
        for char, bias in biases.items():
            model.head.bias[vocab.index(char) if len(char) == 1 else vocab.to_list().index(char)] += bias
    return LineWriter(make_checkpoint(vocab, model), **options)


@pytest.fixture
def writer(tiny_checkpoint):
    return LineWriter(tiny_checkpoint)


def test_line_starts_with_prompt_and_ends_with_slash(writer):
    results = writer.write([GenerationRequest("春", seed=seed) for seed in range(10)])

    for result in results:
        assert result.error is None
        assert len(result.lines) == 1
        assert result.lines[0].startswith("春")
        assert result.lines[0].endswith("/")
        assert result.lines[0].count("/") == 1
        assert result.text == result.lines[0]


def test_long_line_is_cut_at_max_length(tiny_vocab, make_model, make_checkpoint):
    writer = biased_writer(tiny_vocab, make_model, make_checkpoint, {"/": -1e4}, max_line_length=7)

    result = writer.write([GenerationRequest("春", seed=1)])[0]

    assert len(result.lines[0]) == 7 + 1
    assert result.lines[0].endswith("/")
    assert result.lines[0].count("/") == 1


def test_default_max_length_applies(tiny_vocab, make_model, make_checkpoint):
    writer = biased_writer(tiny_vocab, make_model, make_checkpoint, {"/": -1e4})

    result = writer.write([GenerationRequest("春", seed=1)])[0]

    assert len(result.lines[0]) == MAX_LINE_LENGTH + 1


def test_line_is_never_shorter_than_minimum(tiny_vocab, make_model, make_checkpoint):
    writer = biased_writer(tiny_vocab, make_model, make_checkpoint, {"/": 1e4}, min_line_length=3)

    results = writer.write([GenerationRequest("春夏" if "夏" in tiny_vocab else "春风", seed=s) for s in range(5)])

    for result in results:
        assert [len(line) for line in result.lines] == [3 + 1, 3 + 1]


def test_special_tokens_never_appear(tiny_vocab, make_model, make_checkpoint):
    writer = biased_writer(tiny_vocab, make_model, make_checkpoint, {EOS: 1e4, UNK: 1e4})

    results = writer.write([GenerationRequest("春风月", seed=s, temperature=2.0) for s in range(5)])

    known = set(tiny_vocab.characters())
    for result in results:
        assert "<" not in result.text
        assert set(result.text) <= known


def test_same_seed_gives_same_lines(writer):
    first = writer.write([GenerationRequest("春风", seed=42)])[0]
    second = writer.write([GenerationRequest("春风", seed=42)])[0]
    other = writer.write([GenerationRequest("春风", seed=43)])[0]

    assert first.lines == second.lines
    assert first.lines != other.lines


def test_seed_result_independent_of_batch(writer):
    alone = writer.write([GenerationRequest("春", seed=7, temperature=1.2)])[0]
    others = [GenerationRequest("月花风", seed=s, temperature=0.5 + s / 10, top_k=s + 1) for s in range(12)]

    crowded = writer.write([*others[:5], GenerationRequest("春", seed=7, temperature=1.2), *others[5:]])

    assert crowded[5].lines == alone.lines


def test_results_follow_request_order(writer):
    prompts = ["春", "风", "月", "花", "河"]

    results = writer.write([GenerationRequest(p, seed=1) for p in prompts])

    assert [r.prompt for r in results] == prompts
    assert [r.lines[0][0] for r in results] == prompts


def test_acrostic_writes_one_line_per_character(writer):
    result = writer.write([GenerationRequest("春风月花", seed=3)])[0]

    assert [line[0] for line in result.lines] == list("春风月花")
    assert all(line.endswith("/") and line.count("/") == 1 for line in result.lines)
    assert result.text == "".join(result.lines)


def test_whitespace_in_prompt_is_ignored(writer):
    result = writer.write([GenerationRequest(" 春 风\n", seed=3)])[0]

    assert [line[0] for line in result.lines] == ["春", "风"]


def test_prompt_over_limit_fails_only_its_request(tiny_checkpoint):
    writer = LineWriter(tiny_checkpoint, max_prompt_length=3)

    results = writer.write([GenerationRequest("春风月花"), GenerationRequest("春风月", seed=1)])

    assert isinstance(results[0].error, PromptError)
    assert "at most 3" in str(results[0].error)
    assert results[0].lines == []
    assert results[0].text == ""
    assert results[1].error is None
    assert len(results[1].lines) == 3


def test_default_prompt_limit(writer):
    result = writer.write([GenerationRequest("春" * (MAX_PROMPT_LENGTH + 1))])[0]

    assert isinstance(result.error, PromptError)


@pytest.mark.parametrize("prompt", ["", "   ", "/", "春/"])
def test_invalid_prompt_reports_error(writer, prompt):
    result = writer.write([GenerationRequest(prompt)])[0]

    assert isinstance(result.error, PromptError)
    assert result.lines == []


def test_unknown_character_fails_only_its_request(writer, tiny_vocab):
    results = writer.write([GenerationRequest("春", seed=1), GenerationRequest("春龘"), GenerationRequest("月", seed=2)])

    error = results[1].error
    assert isinstance(error, UnknownCharacterError)
    assert error.character == "龘"
    assert "龘" in str(error)
    assert len(error.suggestions) == 5
    assert all(s in tiny_vocab and s != "/" and len(s) == 1 for s in error.suggestions)
    assert results[1].lines == []
    assert results[0].lines[0].startswith("春")
    assert results[2].lines[0].startswith("月")


def test_traditional_character_is_converted(writer):
    result = writer.write([GenerationRequest("風月", seed=1)])[0]

    assert result.error is None
    assert result.converted == {"風": "风"}
    assert result.lines[0].startswith("风")
    assert result.prompt == "風月"


def test_repeated_lines_are_resampled(tiny_vocab, make_model, make_checkpoint):
    # five likely characters and a likely "/" make lines of the form 春X/, which often repeat
    biases = {char: 8.0 for char in "风月花河山"} | {"/": 14.0}
    options = dict(min_line_length=2)
    resampling = biased_writer(tiny_vocab, make_model, make_checkpoint, biases, **options)
    plain = biased_writer(tiny_vocab, make_model, make_checkpoint, biases, max_line_retries=0, **options)
    requests = [GenerationRequest("春春春", seed=s, temperature=1.0, top_p=None) for s in range(30)]

    with_retries = resampling.write(requests)
    without = plain.write(requests)

    distinct_with = sum(len(set(r.lines)) == 3 for r in with_retries)
    distinct_without = sum(len(set(r.lines)) == 3 for r in without)
    assert distinct_with >= 29
    assert distinct_without <= 24
    assert all(r.repeated_lines == 3 - len(set(r.lines)) for r in with_retries)
    assert all(r.repeated_lines == 3 - len(set(r.lines)) for r in without)


def test_repeat_kept_when_retries_run_out(tiny_vocab, make_model, make_checkpoint):
    # one overwhelmingly likely character makes every line 春风/, so retries cannot help
    writer = biased_writer(tiny_vocab, make_model, make_checkpoint, {"风": 1e4, "/": 2e4}, min_line_length=2)

    result = writer.write([GenerationRequest("春春", seed=1)])[0]

    assert result.lines == ["春风/", "春风/"]
    assert result.repeated_lines == 1


def test_top_k_one_is_greedy(writer):
    texts = {writer.write([GenerationRequest("春风", seed=s, top_k=1)])[0].text for s in range(4)}

    assert len(texts) == 1


def test_tiny_top_p_is_greedy(writer):
    greedy = writer.write([GenerationRequest("春风", seed=0, top_k=1)])[0].text
    texts = {writer.write([GenerationRequest("春风", seed=s, top_p=1e-6)])[0].text for s in range(4)}

    assert texts == {greedy}


def test_trained_model_writes_training_line(trained_checkpoint):
    writer = LineWriter(trained_checkpoint)

    result = writer.write([GenerationRequest("风", top_k=1), GenerationRequest("花", seed=5, temperature=0.3)])

    assert result[0].lines == ["风起云飞远方/"]
    assert result[1].lines == ["花落月明人静/"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"temperature": 0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"top_k": 2.5}, "top_k"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"seed": "abc"}, "seed"),
    ],
)
def test_request_rejects_invalid_settings(options, message):
    with pytest.raises(ValueError, match=message):
        GenerationRequest("春", **options)


def test_empty_batch_returns_nothing(writer):
    assert writer.write([]) == []


def test_writer_in_worker_thread_matches_main_thread(writer):
    request = GenerationRequest("春风", seed=11)
    expected = writer.write([request])[0].lines
    found = []

    worker = threading.Thread(target=lambda: found.append(writer.write([request])[0].lines))
    with torch.enable_grad():
        worker.start()
        worker.join(timeout=30)

    assert found == [expected]


def test_writer_leaves_grad_mode_alone(writer):
    writer.write([GenerationRequest("春", seed=1)])

    assert torch.is_grad_enabled()


def test_from_path_loads_checkpoint(tmp_path, tiny_checkpoint):
    path = tmp_path / "model.pt"
    save_checkpoint(tiny_checkpoint, path)

    writer = LineWriter.from_path(path)

    assert writer.version == tiny_checkpoint.version
    assert writer.checkpoint.vocab == tiny_checkpoint.vocab
    assert writer.write([GenerationRequest("春", seed=1)])[0].lines[0].startswith("春")


def test_from_path_reports_bad_file(tmp_path):
    path = tmp_path / "broken.pt"
    path.write_bytes(b"not a checkpoint")

    with pytest.raises(CheckpointError, match="broken.pt"):
        LineWriter.from_path(path)


@pytest.mark.parametrize(
    "options",
    [
        {"max_line_length": 0},
        {"min_line_length": 5, "max_line_length": 4},
        {"max_prompt_length": 0},
        {"max_line_retries": -1},
        {"warmup_songs": -1},
    ],
)
def test_writer_rejects_invalid_limits(tiny_checkpoint, options):
    with pytest.raises(ValueError):
        LineWriter(tiny_checkpoint, **options)


def test_new_writer_gives_same_seeded_lines(tiny_checkpoint):
    request = GenerationRequest("春风月", seed=5, temperature=1.3)

    first = LineWriter(tiny_checkpoint).write([request])[0]
    second = LineWriter(tiny_checkpoint).write([request])[0]

    assert first.lines == second.lines


def test_start_state_comes_from_warmup_songs(tiny_checkpoint):
    cold = LineWriter(tiny_checkpoint, warmup_songs=0)
    warm = LineWriter(tiny_checkpoint)

    assert all(bool((part == 0).all()) for part in cold._start_state)
    assert not bool((warm._start_state[0] == 0).all())
    assert warm._start_state[0].shape == (2, 1, 32)
