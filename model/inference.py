"""A frozen copy of CharLSTM's weights laid out for one-character decoding steps.

At batch 1 a decoding step is a chain of matrix-vector products, so its speed
is set by how fast the weights stream from memory plus the fixed cost of each
torch call. This copy cuts both. Each layer's input and recurrent weights are
joined into one (input + hidden, 4 * hidden) matrix, so a layer is one addmm.
Every matrix is stored transposed and contiguous, the layout in which x @ W
reads the weights in order. At the cpu preset's size, on the 2-core machine
of BENCHMARKS.md with other work running, benchmarks/generation.py measured
0.5 to 0.8 ms per batch-1 step for this copy and 0.8 to 1.5 ms for
CharLSTM.step.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F

from model.network import CharLSTM, LSTMState


class FusedStepper:
    """Inference-only decoding steps with the weights of a CharLSTM at the time of construction."""

    @torch.no_grad()
    def __init__(self, model: CharLSTM) -> None:
        config = model.config
        self.hidden_size = config.hidden_size
        self.num_layers = config.num_layers
        self.embedding = model.embedding.weight.detach().clone()  # (vocab, embedding)

        # per layer: [W_ih | W_hh] transposed, (input + hidden, 4 * hidden), and b_ih + b_hh
        self.layer_weights: list[Tensor] = []
        self.layer_biases: list[Tensor] = []
        for layer in range(config.num_layers):
            w_ih = getattr(model.lstm, f"weight_ih_l{layer}")
            w_hh = getattr(model.lstm, f"weight_hh_l{layer}")
            self.layer_weights.append(torch.cat([w_ih, w_hh], dim=1).t().contiguous())  # cat copies
            self.layer_biases.append(
                getattr(model.lstm, f"bias_ih_l{layer}") + getattr(model.lstm, f"bias_hh_l{layer}")
            )

        # the optional projection and the output layer, transposed the same way
        self.projection: tuple[Tensor, Tensor] | None = None
        if model.projection is not None:
            self.projection = (_transposed_copy(model.projection.weight), model.projection.bias.detach().clone())
        self.head = (_transposed_copy(model.head.weight), model.head.bias.detach().clone())

    @torch.no_grad()
    def step(self, ids: Tensor, state: LSTMState) -> tuple[Tensor, LSTMState]:
        """Advance every sequence by one character; equal to CharLSTM.step up to rounding."""
        h, c = state  # each (layers, batch, hidden)
        size = self.hidden_size
        hs, cs = [], []

        # embed the characters
        x = F.embedding(ids, self.embedding)  # (batch, embedding)

        # one LSTM cell per layer, gates in torch's order: input, forget, cell, output
        for layer in range(self.num_layers):
            xh = torch.cat([x, h[layer]], dim=1)  # (batch, input + hidden)
            gates = torch.addmm(self.layer_biases[layer], xh, self.layer_weights[layer])  # (batch, 4 * hidden)
            # one sigmoid over all gates is cheaper than three calls, and the cell gate's share is ignored
            sig = torch.sigmoid(gates)
            c_next = torch.addcmul(sig[:, size : 2 * size] * c[layer], sig[:, :size], torch.tanh(gates[:, 2 * size : 3 * size]))
            h_next = sig[:, 3 * size :] * torch.tanh(c_next)
            hs.append(h_next)
            cs.append(c_next)
            x = h_next

        # map to one score per vocabulary entry
        if self.projection is not None:
            x = F.gelu(torch.addmm(self.projection[1], x, self.projection[0]))
        logits = torch.addmm(self.head[1], x, self.head[0])  # (batch, vocab)
        return logits, (torch.stack(hs), torch.stack(cs))


def _transposed_copy(weight: Tensor) -> Tensor:
    # a copy in every case, so later training of the model cannot change it
    return weight.detach().t().clone(memory_format=torch.contiguous_format)
