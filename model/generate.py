"""Batched line generation: many prompts, one forward pass per step for all of them.

Each request gets its own random stream, so its lines depend only on its own
prompt, settings and seed. A line starts with a prompt character and ends at
the first "/". A prompt of several characters is an acrostic with one line per
character, generated in order so that each line is conditioned on the ones
before it.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import opencc
import torch
from torch import Tensor

from model.checkpoint import Checkpoint, load_checkpoint
from model.inference import FusedStepper
from model.network import CharLSTM, LSTMState

logger = logging.getLogger(__name__)

LINE_END = "/"

# Characters per line before the closing "/". A line that reaches this length
# is cut and closed with "/". In the shared corpus, 99.9% of Song ci lines (split
# at punctuation) have at most 8 characters and 99% of pop lines at most 20.
MAX_LINE_LENGTH = 20

# Shortest line, in characters before "/", that the sampler may close. A single
# character followed by "/" is not a lyric line.
MIN_LINE_LENGTH = 2

# Characters in one prompt. Each makes one line, so this caps a result at 8
# lines, which keeps a chat reply short and a batch step cheap.
MAX_PROMPT_LENGTH = 8

# How often a line that repeats an earlier line of the same result is sampled
# again from the state at its start. After that the repeat is kept, so a model
# that can only write one line still returns a result.
MAX_LINE_RETRIES = 6

# Known characters offered when a prompt character is unknown.
SUGGESTION_COUNT = 5

# The model reads lyrics as one stream in which each song follows another, so
# an all-zero state is rare in training. From that state, a 511-step cpu-preset
# model on the Song ci ended lines after 2.7 characters on average, against 4.8
# in the corpus. Each request therefore starts from the mean state at the end
# of this many songs the model writes itself, which gave 4.0 with that model.
WARMUP_SONGS = 16

# Limits of a warm-up song: no end before the minimum, a cut at the maximum.
WARMUP_MIN_LENGTH = 20
WARMUP_MAX_LENGTH = 150

# Draws per step from the whole distribution before a row falls back to ranking
# its characters. A draw is accepted with the probability of the kept set, which
# top-p alone puts at p or more, so at p = 0.9 a fallback takes 1 step in 10,000.
REJECTION_ROUNDS = 4


class GenerationError(ValueError):
    """A request that cannot be served, reported in its own result so the rest of the batch goes on."""


class PromptError(GenerationError):
    """A prompt that is empty, too long or contains a character that cannot start a line."""


class UnknownCharacterError(GenerationError):
    """A prompt character that the vocabulary lacks, even after traditional-to-simplified conversion."""

    def __init__(self, character: str, suggestions: Sequence[str]) -> None:
        self.character = character
        self.suggestions = list(suggestions)
        hint = f"; try one of {' '.join(self.suggestions)}" if self.suggestions else ""
        super().__init__(f"the character {character!r} is not in the model's vocabulary{hint}")


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt with its sampling settings.

    `temperature` divides the logits. `top_k` keeps only the k most likely
    characters, and `top_p` keeps the smallest set whose probability reaches p.
    None turns either off. The same `seed` gives the same lines.
    """

    prompt: str
    temperature: float = 0.8
    top_k: int | None = None
    top_p: float | None = 0.9
    seed: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, str):
            raise TypeError(f"prompt must be a str, got {type(self.prompt).__name__}")
        if isinstance(self.temperature, bool) or not isinstance(self.temperature, (int, float)):
            raise ValueError(f"temperature must be a number, got {self.temperature!r}")
        if not 0.0 < self.temperature <= 10.0 or math.isnan(self.temperature):
            raise ValueError(f"temperature must be in (0, 10], got {self.temperature!r}")
        if self.top_k is not None and (isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 1):
            raise ValueError(f"top_k must be a positive integer or None, got {self.top_k!r}")
        if self.top_p is not None and (
            isinstance(self.top_p, bool) or not isinstance(self.top_p, (int, float)) or not 0.0 < self.top_p <= 1.0
        ):
            raise ValueError(f"top_p must be in (0, 1] or None, got {self.top_p!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise ValueError(f"seed must be an integer or None, got {self.seed!r}")


@dataclass
class GenerationResult:
    """The lines written for one request, or the error that stopped it."""

    prompt: str
    # each line ends with "/"
    lines: list[str]
    # the lines joined
    text: str
    # traditional prompt characters mapped to the simplified ones used
    converted: dict[str, str] = field(default_factory=dict)
    error: GenerationError | None = None
    # lines that still repeat an earlier line after MAX_LINE_RETRIES resamples
    repeated_lines: int = 0


@dataclass
class _Row:
    """The progress of one request through the batch."""

    request_index: int
    line_starts: list[int]
    rng: random.Random
    temperature: float
    top_k: int
    top_p: float
    lines: list[str] = field(default_factory=list)
    # indices of the line being written, prompt character first
    line: list[int] = field(default_factory=list)
    # index into line_starts of the line being written
    line_number: int = 0
    # the prompt character that must come next instead of a sampled one
    forced: int | None = None
    # the token fed to the model at the next step
    next_input: int = 0
    retries: int = 0
    repeated_lines: int = 0
    # (h, c) at the start of the current line, each (layers, hidden), to resample it from there
    line_state: tuple[Tensor, Tensor] | None = None
    done: bool = False


class LineWriter:
    """Writes lines for batches of requests with one checkpoint's model."""

    def __init__(
        self,
        checkpoint: Checkpoint,
        *,
        max_line_length: int = MAX_LINE_LENGTH,
        max_prompt_length: int = MAX_PROMPT_LENGTH,
        min_line_length: int = MIN_LINE_LENGTH,
        max_line_retries: int = MAX_LINE_RETRIES,
        warmup_songs: int = WARMUP_SONGS,
        device: torch.device | str = "cpu",
    ) -> None:
        if not 1 <= min_line_length <= max_line_length:
            raise ValueError(
                f"need 1 <= min_line_length <= max_line_length, got {min_line_length} and {max_line_length}"
            )
        if max_prompt_length < 1:
            raise ValueError(f"max_prompt_length must be at least 1, got {max_prompt_length}")
        if max_line_retries < 0:
            raise ValueError(f"max_line_retries must be 0 or more, got {max_line_retries}")
        if warmup_songs < 0:
            raise ValueError(f"warmup_songs must be 0 or more, got {warmup_songs}")

        self.checkpoint = checkpoint
        self.version = checkpoint.version
        self.vocab = checkpoint.vocab
        self.max_line_length = max_line_length
        self.max_prompt_length = max_prompt_length
        self.min_line_length = min_line_length
        self.max_line_retries = max_line_retries
        self.device = torch.device(device)
        if LINE_END not in self.vocab or len(self.vocab.characters()) < 2:
            raise ValueError(
                f"the vocabulary of checkpoint {checkpoint.version} needs {LINE_END!r} and at least one "
                "other character to write lines; train on a lyrics.txt corpus"
            )

        self.model: CharLSTM = checkpoint.build_model(device=self.device)
        self._stepper = FusedStepper(self.model)
        self._line_end_id = self.vocab.index(LINE_END)
        self._special_ids = torch.tensor(self.vocab.special_ids, device=self.device)
        self._converter = opencc.OpenCC("t2s")
        # (h, c), each (layers, 1, hidden): where every request starts
        self._start_state = self._song_end_state(warmup_songs)
        self._suggestions = self._likely_first_characters(SUGGESTION_COUNT)

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], **options) -> LineWriter:
        """Load a checkpoint and build a writer for it; raises CheckpointError for a bad file."""
        return cls(load_checkpoint(Path(path)), **options)

    # prompts

    def resolve_prompt(self, prompt: str) -> tuple[list[int], dict[str, str]]:
        """Map a prompt to the vocabulary indices of its line starts.

        Whitespace is ignored. A character the vocabulary lacks is converted
        from traditional to simplified Chinese when that gives a known one.
        Raises PromptError or UnknownCharacterError.
        """
        characters = [char for char in prompt if not char.isspace()]
        if not characters:
            raise PromptError("the prompt is empty; send one character, or several for an acrostic")
        if len(characters) > self.max_prompt_length:
            raise PromptError(
                f"the prompt has {len(characters)} characters; send at most {self.max_prompt_length}"
            )

        starts: list[int] = []
        converted: dict[str, str] = {}
        for char in characters:
            if char == LINE_END:
                raise PromptError(f"{LINE_END!r} ends a line and cannot start one; send a Chinese character")
            if char not in self.vocab:
                simplified = self._converter.convert(char)
                if len(simplified) != 1 or simplified not in self.vocab or simplified == LINE_END:
                    raise UnknownCharacterError(char, self._suggestions)
                converted[char] = simplified
                char = simplified
            starts.append(self.vocab.index(char))
        return starts, converted

    @torch.no_grad()
    def _likely_first_characters(self, count: int) -> list[str]:
        """Return the characters the model most expects at the start of a song, as requests start one."""
        logits, _ = self._stepper.step(torch.tensor([self.vocab.eos_id], device=self.device), self._start_state)
        logits = logits[0].clone()
        logits[self._special_ids] = -math.inf
        logits[self._line_end_id] = -math.inf
        top = logits.topk(min(count, len(self.vocab.characters()) - 1)).indices.tolist()
        return [self.vocab.decode([i]) for i in top]

    @torch.no_grad()
    def _song_end_state(self, songs: int) -> LSTMState:
        """Return the mean state at the end of `songs` songs that the model writes itself, or zeros for 0."""
        zero = self.model.initial_state(1, device=self.device)
        if songs == 0:
            return zero

        # a fixed seed keeps the start state, and with it every seeded result, the same for a checkpoint
        generator = torch.Generator(device=self.device).manual_seed(0)
        state = self.model.initial_state(songs, device=self.device)
        ids = torch.full((songs,), self.vocab.eos_id, device=self.device)
        end_h, end_c = state[0].clone(), state[1].clone()
        ended = torch.zeros(songs, dtype=torch.bool, device=self.device)

        for length in range(WARMUP_MAX_LENGTH):
            logits, state = self._stepper.step(ids, state)  # (songs, vocab)
            logits[:, self.vocab.unk_id] = -math.inf
            if length < WARMUP_MIN_LENGTH:
                logits[:, self.vocab.eos_id] = -math.inf
            ids = torch.multinomial(torch.softmax(logits, dim=1), 1, generator=generator).squeeze(1)

            # a song ends when the model writes EOS; keep the state that has read everything before it
            finished = (ids == self.vocab.eos_id) & ~ended
            end_h[:, finished] = state[0][:, finished]
            end_c[:, finished] = state[1][:, finished]
            ended |= finished
            if bool(ended.all()):
                break

        # songs that reach the maximum length end where they stand
        end_h[:, ~ended] = state[0][:, ~ended]
        end_c[:, ~ended] = state[1][:, ~ended]
        return end_h.mean(dim=1, keepdim=True), end_c.mean(dim=1, keepdim=True)

    # generation

    def write(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        """Write the lines of every request in one batched pass, returning results in request order."""
        results: list[GenerationResult | None] = [None] * len(requests)
        rows: list[_Row] = []
        for index, request in enumerate(requests):
            try:
                starts, converted = self.resolve_prompt(request.prompt)
            except GenerationError as error:
                logger.debug("request %d of %d rejected: %s", index, len(requests), error)
                results[index] = GenerationResult(request.prompt, [], "", {}, error)
                continue
            results[index] = GenerationResult(request.prompt, [], "", converted, None)
            rows.append(self._new_row(index, request, starts))

        if rows:
            started = time.perf_counter()
            steps = self._run(rows)
            logger.debug(
                "wrote %d requests in %d steps, %.1f ms (checkpoint %s)",
                len(rows), steps, 1e3 * (time.perf_counter() - started), self.version,
            )
        for row in rows:
            result = results[row.request_index]
            result.lines = row.lines
            result.text = "".join(row.lines)
            result.repeated_lines = row.repeated_lines
        return results  # type: ignore[return-value]

    def _new_row(self, index: int, request: GenerationRequest, starts: list[int]) -> _Row:
        vocab_size = len(self.vocab)
        return _Row(
            request_index=index,
            line_starts=starts,
            # Python documents that random() keeps its sequence for a given seed
            # across versions. Without a seed it seeds from the operating system.
            rng=random.Random(request.seed),
            temperature=float(request.temperature),
            top_k=vocab_size if request.top_k is None else min(request.top_k, vocab_size),
            # p = 1 keeps everything, and infinity keeps it so even where float sums round up at the tail
            top_p=math.inf if request.top_p is None or request.top_p >= 1.0 else float(request.top_p),
            forced=starts[0],
            # every song in training follows an end-of-song token, so each row starts by reading one
            next_input=self.vocab.eos_id,
        )

    @torch.no_grad()
    def _run(self, rows: list[_Row]) -> int:
        """Step every active row until each has written all its lines; return the number of steps."""
        active = list(rows)
        start_h, start_c = self._start_state
        state = (start_h.repeat(1, len(active), 1), start_c.repeat(1, len(active), 1))
        steps = 0

        while active:
            steps += 1
            inputs = torch.tensor([row.next_input for row in active], device=self.device)
            logits, state = self._stepper.step(inputs, state)  # (batch, vocab)
            tokens = self._sample(logits, active)

            for position, row in enumerate(active):
                self._advance(row, tokens[position], state, position)

            # drop finished rows so later steps compute only what is still needed
            keep = [position for position, row in enumerate(active) if not row.done]
            if len(keep) < len(active):
                index = torch.tensor(keep, dtype=torch.long, device=self.device)
                state = (state[0].index_select(1, index), state[1].index_select(1, index))
                active = [active[position] for position in keep]
        return steps

    def _advance(self, row: _Row, sampled: int | None, state: LSTMState, position: int) -> None:
        """Take a row's next token: the forced prompt character, the sampled one, or a cut."""
        h, c = state  # each (layers, batch, hidden)

        # a line begins with its prompt character; remember the state before it for resampling
        if row.forced is not None:
            row.line = [row.forced]
            row.line_state = (h[:, position].clone(), c[:, position].clone())
            row.next_input = row.forced
            row.forced = None
            return

        # a line at the maximum length is cut here and closed with "/"
        token = self._line_end_id if sampled is None else sampled
        if token != self._line_end_id:
            row.line.append(token)
            row.next_input = token
            return

        # the line is complete: sample it again from its start if it repeats an earlier one
        text = self.vocab.decode(row.line) + LINE_END
        if text in row.lines and row.retries < self.max_line_retries:
            row.retries += 1
            h[:, position], c[:, position] = row.line_state
            row.line = [row.line[0]]
            row.next_input = row.line[0]
            return
        if text in row.lines:
            row.repeated_lines += 1
            logger.debug("kept a repeated line after %d retries: %s", row.retries, text)

        row.lines.append(text)
        row.retries = 0
        row.line_number += 1
        row.next_input = self._line_end_id
        if row.line_number == len(row.line_starts):
            row.done = True
        else:
            row.forced = row.line_starts[row.line_number]

    def _sample(self, logits: Tensor, rows: list[_Row]) -> list[int | None]:
        """Draw one token per row with its temperature, top-k and top-p.

        Rows that take a forced prompt character or a cut get None and draw
        nothing from their random stream, so a row's draws depend only on its
        own lines.
        """
        device = logits.device
        logits = logits.float()
        samples = [row.forced is None and len(row.line) < self.max_line_length for row in rows]

        # never emit special tokens, and never close a line shorter than the minimum
        logits.index_fill_(1, self._special_ids, -math.inf)
        too_short = torch.tensor([len(row.line) < self.min_line_length for row in rows], device=device)
        logits[:, self._line_end_id].masked_fill_(too_short, -math.inf)

        temperatures = torch.tensor([row.temperature for row in rows], device=device)
        probs = torch.softmax(logits / temperatures[:, None], dim=1)  # (batch, vocab)
        top_k = torch.tensor([row.top_k for row in rows], device=device)
        top_p = torch.tensor([row.top_p for row in rows], device=device)
        tokens = [-1] * len(rows)
        pending = [position for position, sample in enumerate(samples) if sample]

        # rejection sampling: draw from the whole distribution and keep a draw that top-k and
        # top-p allow, which samples the truncated distribution exactly without ranking it
        cdf = probs.cumsum(dim=1)  # (batch, vocab)
        for _ in range(REJECTION_ROUNDS):
            if not pending:
                break
            index = torch.tensor(pending, device=device)
            draws = torch.tensor([rows[position].rng.random() for position in pending], device=device)
            picks = _inverse_cdf(cdf[index], draws)  # (pending,)
            allowed = _is_kept(probs[index], picks, top_k[index], top_p[index]).tolist()
            for position, pick, keep in zip(pending, picks.tolist(), allowed):
                if keep:
                    tokens[position] = pick
            pending = [position for position, keep in zip(pending, allowed) if not keep]

        # rows still without a token rank their characters and draw once from the kept ones
        if pending:
            index = torch.tensor(pending, device=device)
            draws = torch.tensor([rows[position].rng.random() for position in pending], device=device)
            picks = _ranked_draw(probs[index], top_k[index], top_p[index], draws)
            for position, pick in zip(pending, picks.tolist()):
                tokens[position] = pick

        return [token if sample else None for token, sample in zip(tokens, samples)]


def _is_kept(probs: Tensor, picks: Tensor, top_k: Tensor, top_p: Tensor) -> Tensor:
    """Return, per row, whether top-k and top-p keep the picked character.

    A character stays when fewer than k characters are more likely and those
    hold less than p of the whole distribution. This is the rule of _truncate,
    checked for one character in a single pass over the vocabulary.
    """
    picked = probs.gather(1, picks[:, None])  # (rows, 1)
    above = probs > picked  # (rows, vocab)
    rank = above.sum(dim=1)
    mass_above = probs.masked_fill(~above, 0.0).sum(dim=1)
    return (rank < top_k) & (mass_above < top_p)


def _ranked_draw(probs: Tensor, top_k: Tensor, top_p: Tensor, draws: Tensor) -> Tensor:
    """Draw from the kept characters after ranking them, for rows that rejection sampling did not serve."""
    largest_k = int(top_k.max())
    if largest_k < probs.shape[1]:
        ranked, ids = probs.topk(largest_k, dim=1)  # (rows, largest_k), descending
    else:
        ranked, ids = probs.sort(dim=1, descending=True)  # (rows, vocab)
    kept = _truncate(ranked, top_k, top_p)
    picks = _inverse_cdf(kept.cumsum(dim=1), draws)
    return ids.gather(1, picks[:, None]).squeeze(1)


def _truncate(probs: Tensor, top_k: Tensor, top_p: Tensor) -> Tensor:
    """Zero the probabilities, ranked in descending order, that top-k or top-p drop.

    A character stays when it is among the k most likely and the characters
    ranked above it hold less than p of the whole distribution. The most
    likely character always stays.
    """
    ranks = torch.arange(probs.shape[1], device=probs.device)
    mass_before = probs.cumsum(dim=1) - probs  # (batch, width)
    dropped = (ranks[None, :] >= top_k[:, None]) | (mass_before >= top_p[:, None])
    return probs.masked_fill(dropped, 0.0)


def _inverse_cdf(cdf: Tensor, draws: Tensor) -> Tensor:
    """Return, per row, the position whose share of the total probability contains the row's uniform draw."""
    # NOTE: matrix kernels may round a row's logits differently at another batch
    # size, so a draw within that rounding of a boundary could pick a neighbour.
    # Batch independence is therefore exact in tests, not guaranteed bit for bit.
    total = cdf[:, -1:]  # (rows, 1)
    # Rounding could push a target up to the total, so it is capped just below it. Some
    # position with positive probability still has a cumulative share above the cap.
    targets = torch.minimum(draws.to(cdf.dtype)[:, None] * total, torch.nextafter(total, torch.zeros_like(total)))
    return torch.searchsorted(cdf, targets, right=True).squeeze(1)  # (rows,)
