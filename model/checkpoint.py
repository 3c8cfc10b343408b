"""Checkpoints: one self-contained file with the weights and everything needed to use them.

The file is written by `torch.save` and read by `torch.load(weights_only=True)`,
whose unpickler only rebuilds tensors and plain Python types (dict, list, str,
numbers, None) and rejects everything else before it can run. So every field
below is stored as such plain data, never as a pickled object of ours.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from model.network import CharLSTM, LSTMConfig
from model.vocab import Vocabulary

logger = logging.getLogger(__name__)

# Bump when the stored layout changes; load_checkpoint rejects any other value.
FORMAT_VERSION = 1

# Marks a file as ours, so a foreign torch file gets a clear message.
FORMAT_NAME = "lyricbot-checkpoint"

# The metrics a trained checkpoint carries: validation loss in nats per
# character, bits per character and next-character accuracy.
METRIC_KEYS = ("val_loss", "val_bpc", "val_accuracy")

_PLAIN_SCALARS = (str, int, float, bool, type(None))


class CheckpointError(Exception):
    """A checkpoint file that cannot be written or used; the message names the file."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"checkpoint {self.path}: {problem}")


@dataclass
class Checkpoint:
    """Weights, model config, vocabulary and training record of one model."""

    model_state: dict[str, Tensor]
    model_config: LSTMConfig
    vocab: Vocabulary
    train_config: dict[str, Any]
    # keys METRIC_KEYS, empty before the first evaluation
    metrics: dict[str, float]
    corpus_fingerprint: str
    # indices of the validation songs in the corpus, in corpus order
    validation_songs: list[int]
    format_version: int = FORMAT_VERSION
    # ISO 8601 in UTC
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    # short id shown to users; derived from the time and the weights when left empty
    version: str = ""
    # optimizer, scheduler, epoch and step: what resuming a run needs, nothing more
    training_state: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.version:
            self.version = make_version(self.model_state, self.created_at)

    def build_model(self, *, device: torch.device | str = "cpu") -> CharLSTM:
        """Build the network with these weights, in eval mode on `device`."""
        model = CharLSTM(self.model_config)
        model.load_state_dict(self.model_state)
        return model.to(device).eval()


def make_version(model_state: Mapping[str, Tensor], created_at: str) -> str:
    """Return a short id such as `20261204-2031-3fa9c1`: creation minute and a hash of the weights."""
    digest = hashlib.sha256()
    for name in sorted(model_state):
        tensor = model_state[name].detach().to("cpu").contiguous().reshape(-1)
        digest.update(name.encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes())

    try:
        stamp = datetime.fromisoformat(created_at).strftime("%Y%m%d-%H%M")
    except ValueError:
        stamp = "undated"
    return f"{stamp}-{digest.hexdigest()[:6]}"


# saving


def save_checkpoint(checkpoint: Checkpoint, path: str | os.PathLike[str]) -> None:
    """Write `checkpoint` to `path` atomically: a temporary file, fsync, then rename.

    A reader sees either the old file or the complete new one, never a partial
    write. Tensors are moved to the CPU first, so a checkpoint trained on a GPU
    loads on a machine without one. Raises CheckpointError when a field contains
    something other than tensors and plain types.
    """
    path = Path(path)
    payload = _to_payload(checkpoint)
    _check_plain(payload, "checkpoint", path)
    path.parent.mkdir(parents=True, exist_ok=True)

    # the temporary file sits in the same folder so that the rename stays on one file system
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(payload, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    logger.info("saved checkpoint %s (version %s)", path, checkpoint.version)


def _to_payload(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "format_version": checkpoint.format_version,
        "model_state": {name: tensor.detach().to("cpu") for name, tensor in checkpoint.model_state.items()},
        "model_config": checkpoint.model_config.to_dict(),
        "vocab": checkpoint.vocab.to_list(),
        "train_config": checkpoint.train_config,
        "metrics": checkpoint.metrics,
        "corpus_fingerprint": checkpoint.corpus_fingerprint,
        "validation_songs": [int(i) for i in checkpoint.validation_songs],
        "created_at": checkpoint.created_at,
        "version": checkpoint.version,
        "training_state": _tensors_to_cpu(checkpoint.training_state),
    }


def _tensors_to_cpu(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.detach().to("cpu")
    if isinstance(value, dict):
        return {key: _tensors_to_cpu(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_tensors_to_cpu(item) for item in value)
    return value


def _check_plain(value: Any, where: str, path: Path) -> None:
    """Raise CheckpointError when `value` contains anything that weights_only loading would reject."""
    if isinstance(value, (Tensor, *_PLAIN_SCALARS)):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, _PLAIN_SCALARS):
                raise CheckpointError(path, f"{where} has a key of type {type(key).__name__}; use str or int keys")
            _check_plain(item, f"{where}[{key!r}]", path)
        return
    if isinstance(value, (list, tuple)):
        for position, item in enumerate(value):
            _check_plain(item, f"{where}[{position}]", path)
        return
    raise CheckpointError(
        path,
        f"{where} is a {type(value).__name__}; a checkpoint stores only tensors, "
        "str, int, float, bool, None, lists, tuples and dicts",
    )


def _fsync_folder(folder: Path) -> None:
    # the rename itself is durable only once the folder entry is on disk
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems do not support fsync on a folder
    finally:
        os.close(descriptor)


# loading


def load_checkpoint(path: str | os.PathLike[str], *, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Read and validate a checkpoint without executing anything from the file.

    Raises CheckpointError, naming the file and the problem, when the file is
    missing, truncated, contains objects other than tensors and plain types, has
    an unknown format version, or its vocabulary, config and weights disagree.
    """
    path = Path(path)
    payload = _read_payload(path, map_location)

    # check the format before any field, so a future layout gets the right message
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise CheckpointError(path, "not a lyricbot checkpoint (the format marker is missing)")
    format_version = payload.get("format_version")
    if format_version != FORMAT_VERSION:
        raise CheckpointError(
            path,
            f"unsupported format version {format_version!r}; this program reads version {FORMAT_VERSION}",
        )
    missing = sorted(_PAYLOAD_KEYS - set(payload))
    if missing:
        raise CheckpointError(path, f"missing fields {missing}")
    _check_field_types(path, payload)

    try:
        vocab = Vocabulary.from_list(payload["vocab"])
    except (TypeError, ValueError) as error:
        raise CheckpointError(path, f"invalid vocabulary: {error}") from None
    try:
        config = LSTMConfig.from_dict(payload["model_config"])
    except (TypeError, ValueError) as error:
        raise CheckpointError(path, f"invalid model config: {error}") from None

    if len(vocab) != config.vocab_size:
        raise CheckpointError(
            path,
            f"the vocabulary has {len(vocab)} entries but the model config expects vocab_size={config.vocab_size}",
        )
    model_state = payload["model_state"]
    _check_weights(path, model_state, config)

    checkpoint = Checkpoint(
        model_state=model_state,
        model_config=config,
        vocab=vocab,
        train_config=payload["train_config"],
        metrics=payload["metrics"],
        corpus_fingerprint=payload["corpus_fingerprint"],
        validation_songs=payload["validation_songs"],
        format_version=format_version,
        created_at=payload["created_at"],
        version=payload["version"],
        training_state=payload["training_state"],
    )
    logger.info("loaded checkpoint %s (version %s, %d characters)", path, checkpoint.version, len(vocab))
    return checkpoint


# the type each stored field must have, after the checks above
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "model_state": (dict,),
    "model_config": (dict,),
    "vocab": (list,),
    "train_config": (dict,),
    "metrics": (dict,),
    "corpus_fingerprint": (str,),
    "validation_songs": (list,),
    "created_at": (str,),
    "version": (str,),
    "training_state": (dict, type(None)),
}

# every field a payload must carry
_PAYLOAD_KEYS = frozenset(_FIELD_TYPES)


def _check_field_types(path: Path, payload: dict[str, Any]) -> None:
    for key, types in _FIELD_TYPES.items():
        if not isinstance(payload[key], types):
            expected = " or ".join("None" if t is type(None) else t.__name__ for t in types)
            raise CheckpointError(path, f"field {key} has type {type(payload[key]).__name__}, expected {expected}")
    songs = payload["validation_songs"]
    if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in songs):
        raise CheckpointError(path, "field validation_songs must list non-negative song indices")


def _read_payload(path: Path, map_location: str | torch.device) -> Any:
    if not path.is_file():
        raise CheckpointError(path, "file not found; train a model first or pass an existing checkpoint path")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:
        # a damaged file can fail anywhere in the zip reader or the unpickler, with many error types
        raise CheckpointError(path, _describe_load_failure(path, error)) from None


# torch.save writes a zip archive, which starts with a local file header. A
# pickle of protocol 2 or later starts with the PROTO opcode.
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTO = b"\x80"


def _describe_load_failure(path: Path, error: Exception) -> str:
    """Explain why torch.load failed: a refused object, a file of another kind, or a damaged checkpoint."""
    # weights_only loading raises UnpicklingError for any global it does not allow, before calling it
    found = _REJECTED_GLOBAL.search(str(error)) if isinstance(error, pickle.UnpicklingError) else None
    try:
        with path.open("rb") as stream:
            head = stream.read(len(_ZIP_MAGIC))
    except OSError:
        head = b""

    known_format = head.startswith((_ZIP_MAGIC, _PICKLE_PROTO))
    if found or (known_format and isinstance(error, pickle.UnpicklingError)):
        culprit = f" ({found.group(1)})" if found else ""
        return (
            f"rejected: the file contains objects other than tensors and plain types{culprit}; "
            "it was not written by save_checkpoint and may be unsafe to load"
        )
    if head and not known_format:
        return (
            "not a checkpoint file: it is not a zip archive as written by torch.save "
            "(a text or lyrics file, for example); pass the .pt file that training wrote"
        )
    return f"truncated or not a torch file ({type(error).__name__}: {error})"


# the forms in which torch 2.13's weights_only unpickler names the refused callable
_REJECTED_GLOBAL = re.compile(r"(?:[Uu]nsupported global: GLOBAL|unsupported GLOBAL) ([\w.]+)")


def _check_weights(path: Path, model_state: Any, config: LSTMConfig) -> None:
    """Compare every weight's name and shape with those of a network built from `config`."""
    if not isinstance(model_state, dict) or not all(isinstance(t, Tensor) for t in model_state.values()):
        raise CheckpointError(path, "model_state must map parameter names to tensors")

    # the meta device allocates no memory, so this check costs nothing for large models
    with torch.device("meta"):
        expected = {name: tuple(t.shape) for name, t in CharLSTM(config).state_dict().items()}
    found = {name: tuple(t.shape) for name, t in model_state.items()}

    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            path,
            f"weights do not match the model config: missing {missing}, unexpected {unexpected}",
        )
    for name, shape in expected.items():
        if found[name] != shape:
            raise CheckpointError(
                path,
                f"weight {name} has shape {list(found[name])} but the model config "
                f"(vocab_size={config.vocab_size}, hidden_size={config.hidden_size}) needs {list(shape)}",
            )
