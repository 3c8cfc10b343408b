"""The character-level LSTM: embedding, stacked LSTM, optional projection, output layer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

# (h, c), each (num_layers, batch, hidden_size), as torch.nn.LSTM uses it.
LSTMState = tuple[Tensor, Tensor]


@dataclass(frozen=True)
class LSTMConfig:
    """Hyperparameters of CharLSTM, with defaults for a small model that trains on a CPU."""

    vocab_size: int
    embedding_size: int = 128
    hidden_size: int = 512
    num_layers: int = 2
    dropout: float = 0.1
    # Width of the extra linear layer between the LSTM and the output layer
    # (followed by GELU); 0 leaves it out.
    projection_size: int = 0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embedding_size", "hidden_size", "num_layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"LSTMConfig.{name} must be a positive integer, got {value!r}")
        if isinstance(self.projection_size, bool) or not isinstance(self.projection_size, int) or self.projection_size < 0:
            raise ValueError(
                f"LSTMConfig.projection_size must be a non-negative integer, got {self.projection_size!r}"
            )
        if not isinstance(self.dropout, (int, float)) or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"LSTMConfig.dropout must be in [0, 1), got {self.dropout!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as plain types, for checkpoints."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LSTMConfig:
        """Build a config from `to_dict()` output, raising ValueError on unknown or missing fields."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown LSTMConfig fields {unknown}")
        try:
            return cls(**values)
        except TypeError as error:
            raise ValueError(f"incomplete LSTMConfig {values!r}: {error}") from None


class CharLSTM(nn.Module):
    """Predicts the next character at every position of a batch of index sequences."""

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        self.config = config

        self.embedding = nn.Embedding(config.vocab_size, config.embedding_size)
        self.lstm = nn.LSTM(
            config.embedding_size,
            config.hidden_size,
            num_layers=config.num_layers,
            # torch applies this dropout between layers only, so one layer needs none
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.dropout = nn.Dropout(config.dropout)
        if config.projection_size:
            self.projection: nn.Linear | None = nn.Linear(config.hidden_size, config.projection_size)
            head_inputs = config.projection_size
        else:
            self.projection = None
            head_inputs = config.hidden_size
        self.head = nn.Linear(head_inputs, config.vocab_size)

    def forward(self, ids: Tensor, state: LSTMState | None = None) -> tuple[Tensor, LSTMState]:
        """Return next-character logits for every position, and the final state."""
        # embed the characters
        x = self.dropout(self.embedding(ids))  # (batch, time, embedding)

        # run the stacked LSTM
        x, state = self.lstm(x, state)  # (batch, time, hidden)
        x = self.dropout(x)

        # map to one score per vocabulary entry
        logits = self.head(self._project(x))  # (batch, time, vocab)
        return logits, state

    def _project(self, x: Tensor) -> Tensor:
        if self.projection is None:
            return x
        return F.gelu(self.projection(x))

    def initial_state(self, batch_size: int, *, device: torch.device | str | None = None) -> LSTMState:
        """Return the all-zero state that forward() uses when given None."""
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        weight = self.head.weight
        device = weight.device if device is None else device
        return (
            torch.zeros(shape, dtype=weight.dtype, device=device),
            torch.zeros(shape, dtype=weight.dtype, device=device),
        )

    @torch.no_grad()
    def step(self, ids: Tensor, state: LSTMState) -> tuple[Tensor, LSTMState]:
        """Advance every sequence by one character, for inference only.

        Equal to forward() on a (batch, 1) input in eval mode, but computed with
        plain matrix products. At batch 1 this avoids the oneDNN LSTM kernel that
        torch picks on the CPU, which is slower there (benchmarks/generation.py
        measures both), and it needs no process-wide torch flag to do so. It
        reads the live weights, so it suits sampling during training. Serving
        uses model.inference.FusedStepper, a faster frozen copy.
        """
        h, c = state  # each (layers, batch, hidden)
        hs, cs = [], []

        # embed the characters
        x = self.embedding(ids)  # (batch, embedding)

        # one LSTM cell per layer, gates in torch's order: input, forget, cell, output
        for layer in range(self.config.num_layers):
            w_ih = getattr(self.lstm, f"weight_ih_l{layer}")
            w_hh = getattr(self.lstm, f"weight_hh_l{layer}")
            b_ih = getattr(self.lstm, f"bias_ih_l{layer}")
            b_hh = getattr(self.lstm, f"bias_hh_l{layer}")
            gates = torch.addmm(b_ih, x, w_ih.t())  # (batch, 4 * hidden)
            gates = torch.addmm(gates, h[layer], w_hh.t()).add_(b_hh)
            i, f, g, o = gates.chunk(4, dim=1)  # each (batch, hidden)
            c_next = torch.sigmoid(f) * c[layer] + torch.sigmoid(i) * torch.tanh(g)
            h_next = torch.sigmoid(o) * torch.tanh(c_next)
            hs.append(h_next)
            cs.append(c_next)
            x = h_next

        # map to one score per vocabulary entry
        logits = self.head(self._project(x))  # (batch, vocab)
        return logits, (torch.stack(hs), torch.stack(cs))

    def num_parameters(self) -> int:
        """Return the number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
