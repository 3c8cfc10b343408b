"""The corpus as one tensor of indices: loading, the seeded split by song, and batches.

Songs are encoded once into a single int64 tensor, each song followed by the
end-of-song token, with an offsets tensor marking where each song starts. Every
batch is cut from that tensor by index arithmetic, so no per-sample Python
objects exist during training.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from model.vocab import Vocabulary


class DatasetError(ValueError):
    """A corpus file that cannot be used for training; the message names the file and the fix."""


def load_songs(path: str | os.PathLike[str]) -> list[str]:
    """Read a lyrics.txt file: one song per line, each ending with "/".

    Blank lines are skipped and a byte-order mark or CRLF line ends are
    accepted. Raises DatasetError when the file is missing, is not UTF-8,
    contains no songs, or has a song that does not end with "/".
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found; prepare one with `python -m data prepare`") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a folder; pass the lyrics.txt file inside it") from None

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DatasetError(
            f"{path}: not UTF-8 (invalid byte at offset {error.start}); "
            "convert it with `python -m data prepare`, which reads other encodings"
        ) from None

    songs = []
    for number, line in enumerate(text.split("\n"), start=1):
        song = line.rstrip("\r")
        if not song.strip():
            continue
        if not song.endswith("/"):
            raise DatasetError(
                f"{path}: line {number} does not end with '/' ({song[-20:]!r}); "
                "every song in lyrics.txt ends its last lyric line with '/'"
            )
        songs.append(song)

    if not songs:
        raise DatasetError(f"{path}: no songs found; the file is empty or contains only blank lines")
    return songs


def split_songs(n: int, *, seed: int, val_fraction: float) -> tuple[list[int], list[int]]:
    """Split song indices 0..n-1 into sorted training and validation lists, reproducibly from `seed`.

    The validation side gets round(n * val_fraction) songs, at least one, and
    the training side keeps at least one. Raises ValueError for fewer than two
    songs or a fraction outside (0, 1).
    """
    if n < 2:
        raise ValueError(f"a split needs at least 2 songs, got {n}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction!r}")

    n_val = min(max(1, round(n * val_fraction)), n - 1)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(n, generator=generator).tolist()
    return sorted(order[n_val:]), sorted(order[:n_val])


def corpus_fingerprint(path: str | os.PathLike[str]) -> str:
    """Return "sha256:<hex>" of the file's bytes, so a resumed run can check it trains on the same corpus."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


@dataclass(frozen=True)
class EncodedSongs:
    """Songs encoded into one index tensor, each followed by a separator index."""

    # (total,) int64: song 0, separator, song 1, separator, ...
    ids: Tensor
    # (songs + 1,) int64: song k occupies ids[offsets[k] : offsets[k + 1]], separator included
    offsets: Tensor

    def __len__(self) -> int:
        return self.offsets.numel() - 1

    @property
    def lengths(self) -> Tensor:
        """Length of each song with its separator, (songs,)."""
        return self.offsets[1:] - self.offsets[:-1]

    def select(self, indices: Sequence[int] | Tensor) -> EncodedSongs:
        """Return the chosen songs, in the given order, as a new contiguous tensor."""
        indices = torch.as_tensor(indices, dtype=torch.long)
        starts = self.offsets[:-1][indices]
        lengths = self.lengths[indices]

        # position j of the result reads ids[starts[song of j] + (j - first position of that song)]
        new_offsets = torch.zeros(indices.numel() + 1, dtype=torch.long)
        torch.cumsum(lengths, dim=0, out=new_offsets[1:])
        shift = torch.repeat_interleave(starts - new_offsets[:-1], lengths)
        gather = torch.arange(int(new_offsets[-1])) + shift
        return EncodedSongs(ids=self.ids[gather], offsets=new_offsets)


def encode_songs(songs: Sequence[str], encode, separator_id: int) -> EncodedSongs:
    """Encode each song with `encode` (text to a list of indices) and append `separator_id` after it."""
    pieces = []
    lengths = []
    for song in songs:
        encoded = encode(song)
        encoded.append(separator_id)
        pieces.extend(encoded)
        lengths.append(len(encoded))

    offsets = torch.zeros(len(songs) + 1, dtype=torch.long)
    torch.cumsum(torch.tensor(lengths, dtype=torch.long), dim=0, out=offsets[1:])
    return EncodedSongs(ids=torch.tensor(pieces, dtype=torch.long), offsets=offsets)


def encode_with_vocab(songs: Sequence[str], vocab: Vocabulary) -> EncodedSongs:
    """Encode songs with a model vocabulary, ending each with its end-of-song token."""
    return encode_songs(songs, vocab.encode, vocab.eos_id)


class _SongBatches:
    """What both batch samplers share: the training songs, the batch shape and the per-epoch song shuffle."""

    # whether row r of one batch continues row r of the batch before, so the LSTM state may carry over
    carries_state: bool

    def __init__(self, songs: EncodedSongs, *, batch_size: int, seq_len: int, seed: int) -> None:
        if len(songs) == 0:
            raise ValueError("no training songs")
        self.songs = songs
        self.batch_size = batch_size
        self.seq_len = seq_len
        self.seed = seed

    def _shuffled_stream(self, epoch: int, device: torch.device | str | None) -> tuple[Tensor, torch.Generator]:
        """Return the songs of `epoch` in their shuffled order as one stream, and the epoch's generator.

        With a CUDA `device`, the stream is copied there once from pinned memory,
        so that each batch is a view and no copy waits per step.
        """
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        order = torch.randperm(len(self.songs), generator=generator)
        stream = self.songs.select(order).ids
        if device is not None and torch.device(device).type == "cuda":
            stream = stream.pin_memory().to(device, non_blocking=True)
        return stream, generator


class StreamBatches(_SongBatches):
    """Batches for truncated backpropagation through time over the training songs.

    Each epoch shuffles the song order (seeded by the run's seed and the epoch
    number), joins the songs into one stream and lays it out as `batch_size`
    parallel rows. Batch k is the k-th window of `seq_len` columns, so row r
    of batch k+1 continues row r of batch k and the LSTM state can be carried
    from one batch to the next.
    """

    carries_state = True

    def __init__(self, songs: EncodedSongs, *, batch_size: int, seq_len: int, seed: int) -> None:
        super().__init__(songs, batch_size=batch_size, seq_len=seq_len, seed=seed)

        # a stream too short for batch_size rows of one window each gets fewer rows
        total = int(songs.ids.numel())
        self.rows = max(1, min(batch_size, (total - 1) // (seq_len + 1)))
        self.columns = (total - 1) // self.rows
        self.steps_per_epoch = max(1, self.columns // seq_len)

    def epoch(
        self, epoch: int, *, start_step: int = 0, device: torch.device | str | None = None
    ) -> Iterator[tuple[Tensor, Tensor]]:
        """Yield (inputs, targets), each (rows, seq_len), for one epoch from `start_step` on."""
        stream, _ = self._shuffled_stream(epoch, device)

        # (rows, columns): row r reads the r-th slice of the stream
        usable = self.rows * self.columns
        inputs = stream[:usable].view(self.rows, self.columns)
        targets = stream[1 : usable + 1].view(self.rows, self.columns)

        # the last window also takes the columns left over when seq_len does not divide them
        for step in range(start_step, self.steps_per_epoch):
            start = step * self.seq_len
            end = self.columns if step == self.steps_per_epoch - 1 else start + self.seq_len
            yield inputs[:, start:end], targets[:, start:end]


class RandomWindows(_SongBatches):
    """Batches of windows cut at shuffled positions of the training stream, for training from a zero state.

    Each epoch shuffles the song order, joins the songs into one stream and
    cuts it into windows of `seq_len` + 1 indices at a random phase, then
    serves the windows in random order. Neighbouring windows in a batch come
    from unrelated places, unlike StreamBatches, whose rows continue from one
    batch to the next.
    """

    carries_state = False

    def __init__(self, songs: EncodedSongs, *, batch_size: int, seq_len: int, seed: int) -> None:
        super().__init__(songs, batch_size=batch_size, seq_len=seq_len, seed=seed)

        total = int(songs.ids.numel())
        # a corpus shorter than one window gets one shorter window
        self.window = min(seq_len, total - 1)
        self.windows = max(1, (total - 1) // self.window)
        self.steps_per_epoch = -(-self.windows // batch_size)

    def epoch(
        self, epoch: int, *, start_step: int = 0, device: torch.device | str | None = None
    ) -> Iterator[tuple[Tensor, Tensor]]:
        """Yield (inputs, targets), each (batch, seq_len), for one epoch from `start_step` on."""
        stream, generator = self._shuffled_stream(epoch, device)

        # window k starts at phase + k * window; the phase shifts the cuts from epoch to epoch
        spare = stream.numel() - 1 - self.windows * self.window
        phase = int(torch.randint(0, spare + 1, (1,), generator=generator))
        starts = phase + torch.randperm(self.windows, generator=generator) * self.window
        offsets = torch.arange(self.window + 1)
        if stream.device.type != "cpu":
            starts, offsets = starts.to(stream.device), offsets.to(stream.device)

        for step in range(start_step, self.steps_per_epoch):
            chosen = starts[step * self.batch_size : (step + 1) * self.batch_size]
            chunk = stream[chosen.unsqueeze(1) + offsets]  # (batch, window + 1)
            yield chunk[:, :-1], chunk[:, 1:]


def first_batch_rows(songs: EncodedSongs, *, rows: int, seq_len: int) -> tuple[Tensor, Tensor]:
    """Return (inputs, targets), each (rows, seq_len), from the start of the stream in corpus order."""
    needed = rows * seq_len + 1
    if songs.ids.numel() < needed:
        raise ValueError(f"the corpus has {songs.ids.numel()} indices; {rows} rows of {seq_len} need {needed}")
    stream = songs.ids[:needed]
    return stream[:-1].view(rows, seq_len), stream[1:].view(rows, seq_len)
