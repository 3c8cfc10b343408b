"""Tests for the LSTM network and its config."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from model.network import CharLSTM, LSTMConfig

@pytest.mark.parametrize("projection_size", [0, 24])
def test_forward_shapes(tiny_vocab, make_model, projection_size):
    model = make_model(tiny_vocab, projection_size=projection_size)
    ids = torch.randint(0, len(tiny_vocab), (3, 5))

    logits, (h, c) = model(ids)

    assert logits.shape == (3, 5, len(tiny_vocab))
    assert h.shape == (2, 3, 32)
    assert c.shape == (2, 3, 32)


def test_projection_layer_follows_config(tiny_vocab, make_model):
    without = make_model(tiny_vocab, projection_size=0)
    with_projection = make_model(tiny_vocab, projection_size=24)

    assert without.projection is None
    assert with_projection.projection.out_features == 24
    assert with_projection.head.in_features == 24


def test_state_carries_over_between_calls(tiny_vocab, make_model):
    model = make_model(tiny_vocab)
    ids = torch.randint(0, len(tiny_vocab), (2, 6))

    whole, _ = model(ids)
    first, state = model(ids[:, :3])
    second, _ = model(ids[:, 3:], state)

    torch.testing.assert_close(torch.cat([first, second], dim=1), whole)


@pytest.mark.parametrize("projection_size", [0, 24])
def test_step_matches_forward(tiny_vocab, make_model, projection_size):
    model = make_model(tiny_vocab, projection_size=projection_size)
    ids = torch.randint(0, len(tiny_vocab), (3, 7))

    with torch.no_grad():
        expected, expected_state = model(ids)
    state = model.initial_state(3)
    steps = []
    for t in range(ids.shape[1]):
        logits, state = model.step(ids[:, t], state)
        steps.append(logits)

    torch.testing.assert_close(torch.stack(steps, dim=1), expected, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(state[0], expected_state[0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(state[1], expected_state[1], atol=1e-5, rtol=1e-4)


def test_training_steps_lower_loss(tiny_vocab, tiny_songs):
    torch.manual_seed(0)
    model = CharLSTM(LSTMConfig(vocab_size=len(tiny_vocab), embedding_size=16, hidden_size=32, dropout=0.1)).train()
    stream = torch.tensor(tiny_vocab.encode("".join(tiny_songs)))
    inputs, targets = stream[:-1].unsqueeze(0), stream[1:].unsqueeze(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

    losses = []
    for _ in range(40):
        logits, _ = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, len(tiny_vocab)), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vocab_size", 0),
        ("embedding_size", -3),
        ("hidden_size", 2.5),
        ("num_layers", True),
        ("projection_size", -1),
        ("dropout", 1.0),
        ("dropout", -0.1),
    ],
)
def test_config_rejects_invalid_values(field, value):
    values = {"vocab_size": 10, field: value}

    with pytest.raises(ValueError, match=field):
        LSTMConfig(**values)


def test_config_dict_round_trip():
    config = LSTMConfig(vocab_size=10, hidden_size=64, projection_size=32, dropout=0.2)

    assert LSTMConfig.from_dict(config.to_dict()) == config


def test_config_from_dict_rejects_unknown_and_missing_fields():
    with pytest.raises(ValueError, match="unknown LSTMConfig fields"):
        LSTMConfig.from_dict({"vocab_size": 10, "colour": "red"})
    with pytest.raises(ValueError, match="incomplete"):
        LSTMConfig.from_dict({"hidden_size": 10})


def test_single_layer_has_no_inter_layer_dropout():
    model = CharLSTM(LSTMConfig(vocab_size=10, num_layers=1, dropout=0.3))

    assert model.lstm.dropout == 0.0
