"""Tests for the fused inference copy of the network and for the sampling helpers."""

from __future__ import annotations

import pytest
import torch

import model.generate as generate
from model.generate import GenerationRequest, LineWriter, _inverse_cdf, _is_kept, _truncate
from model.inference import FusedStepper


@pytest.mark.parametrize("projection_size", [0, 24])
def test_fused_step_matches_network_step(tiny_vocab, make_model, projection_size):
    model = make_model(tiny_vocab, projection_size=projection_size)
    stepper = FusedStepper(model)
    ids = torch.randint(0, len(tiny_vocab), (4, 6))

    expected_state = actual_state = model.initial_state(4)
    for t in range(ids.shape[1]):
        expected, expected_state = model.step(ids[:, t], expected_state)
        actual, actual_state = stepper.step(ids[:, t], actual_state)
        torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-4)

    torch.testing.assert_close(actual_state[0], expected_state[0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(actual_state[1], expected_state[1], atol=1e-5, rtol=1e-4)


def test_fused_copy_ignores_later_training(tiny_vocab, make_model):
    model = make_model(tiny_vocab)
    stepper = FusedStepper(model)
    ids = torch.tensor([3])
    before, _ = stepper.step(ids, model.initial_state(1))

    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(1.0)
    after, _ = stepper.step(ids, model.initial_state(1))

    torch.testing.assert_close(after, before, rtol=0, atol=0)


def test_truncate_keeps_top_k():
    probs = torch.tensor([[0.4, 0.3, 0.2, 0.1]])

    kept = _truncate(probs, torch.tensor([2]), torch.tensor([1.0]))

    torch.testing.assert_close(kept, torch.tensor([[0.4, 0.3, 0.0, 0.0]]))


def test_truncate_keeps_nucleus():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])

    kept = _truncate(probs, torch.tensor([4]), torch.tensor([0.8]))

    assert kept[0, :2].tolist() == pytest.approx([0.5, 0.3])
    assert kept[0, 2:].tolist() == [0.0, 0.0]


def test_truncate_always_keeps_most_likely():
    probs = torch.tensor([[0.9, 0.1]])

    kept = _truncate(probs, torch.tensor([1]), torch.tensor([0.01]))

    torch.testing.assert_close(kept, torch.tensor([[0.9, 0.0]]))


def test_inverse_cdf_follows_cumulative_shares():
    probs = torch.tensor([[0.5, 0.25, 0.25, 0.0]]).repeat(4, 1)

    picked = _inverse_cdf(probs.cumsum(dim=1), torch.tensor([0.0, 0.49, 0.6, 0.99]))

    assert picked.tolist() == [0, 0, 1, 2]


def test_inverse_cdf_never_returns_dropped_position():
    probs = torch.tensor([[0.5, 0.5, 0.0, 0.0]])

    picked = _inverse_cdf(probs.cumsum(dim=1), torch.tensor([1.0]))

    assert picked.tolist() == [1]


def test_is_kept_matches_truncate():
    generator = torch.Generator().manual_seed(0)
    probs = torch.softmax(torch.randn(6, 30, generator=generator) * 2, dim=1)
    top_k = torch.tensor([1, 3, 30, 30, 5, 10])
    top_p = torch.tensor([1.0, 1.0, 0.5, 0.9, 0.8, 0.3])
    ranked, order = probs.sort(dim=1, descending=True)
    kept_ranked = _truncate(ranked, top_k, top_p) > 0  # (rows, vocab) in rank order

    for position in range(30):
        picks = order[:, position]
        expected = kept_ranked[:, position]
        assert _is_kept(probs, picks, top_k, top_p).tolist() == expected.tolist()


def sample_counts(writer, logits, settings, draws):
    """Sample one step `draws` times from the same logits and count each token."""
    rows = []
    for seed in range(draws):
        row = writer._new_row(0, GenerationRequest("春", seed=seed, **settings), [writer.vocab.index("春")])
        row.forced = None
        row.line = [writer.vocab.index("春")] * 3
        rows.append(row)
    tokens = writer._sample(logits.repeat(draws, 1), rows)
    return torch.bincount(torch.tensor(tokens), minlength=logits.shape[1]).float()


@pytest.mark.parametrize(
    "settings",
    [
        {"top_k": None, "top_p": None, "temperature": 1.0},
        {"top_k": None, "top_p": 0.6, "temperature": 0.8},
        {"top_k": 4, "top_p": None, "temperature": 1.5},
        {"top_k": 3, "top_p": 0.5, "temperature": 1.0},
    ],
)
@pytest.mark.parametrize("rejection_rounds", [generate.REJECTION_ROUNDS, 0])
def test_sampler_follows_truncated_distribution(tiny_checkpoint, monkeypatch, settings, rejection_rounds):
    # with no rejection rounds every draw takes the ranked path, so both paths are checked
    monkeypatch.setattr(generate, "REJECTION_ROUNDS", rejection_rounds)
    writer = LineWriter(tiny_checkpoint)
    vocab = writer.vocab
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(1, len(vocab), generator=generator) * 1.5
    draws = 4000

    counts = sample_counts(writer, logits, settings, draws)

    # the expected distribution, computed the slow way: mask, scale, sort, truncate, renormalize
    masked = logits.clone()
    masked[0, vocab.special_ids] = -float("inf")
    probs = torch.softmax(masked / settings["temperature"], dim=1)
    ranked, order = probs.sort(dim=1, descending=True)
    top_k = torch.tensor([settings["top_k"] or len(vocab)])
    top_p = torch.tensor([settings["top_p"] or float("inf")])
    expected = torch.zeros(len(vocab))
    expected[order[0]] = _truncate(ranked, top_k, top_p)[0]
    expected /= expected.sum()

    assert counts[expected == 0].sum() == 0
    tolerance = 5 * torch.sqrt(expected * (1 - expected) / draws) + 1e-9
    assert torch.all((counts / draws - expected).abs() <= tolerance)
