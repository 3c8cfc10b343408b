"""Tests for saving, loading and validating checkpoints."""

from __future__ import annotations

import os
import pickle
import zipfile

import pytest
import torch

from model.checkpoint import (
    FORMAT_VERSION,
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from model.network import LSTMConfig
from model.vocab import Vocabulary


def test_round_trip_keeps_every_field(tmp_path, tiny_checkpoint):
    tiny_checkpoint.training_state = {"epoch": 3, "step": 120, "optimizer": {"state": {}, "lr": [0.001]}}
    path = tmp_path / "model.pt"

    save_checkpoint(tiny_checkpoint, path)
    loaded = load_checkpoint(path)

    assert loaded.model_config == tiny_checkpoint.model_config
    assert loaded.vocab == tiny_checkpoint.vocab
    assert loaded.train_config == tiny_checkpoint.train_config
    assert loaded.metrics == tiny_checkpoint.metrics
    assert loaded.corpus_fingerprint == tiny_checkpoint.corpus_fingerprint
    assert loaded.validation_songs == [1, 3]
    assert loaded.format_version == FORMAT_VERSION
    assert loaded.created_at == tiny_checkpoint.created_at
    assert loaded.version == tiny_checkpoint.version
    assert loaded.training_state == tiny_checkpoint.training_state
    assert loaded.model_state.keys() == tiny_checkpoint.model_state.keys()
    for name, tensor in tiny_checkpoint.model_state.items():
        torch.testing.assert_close(loaded.model_state[name], tensor, rtol=0, atol=0)


def test_loaded_model_gives_same_logits(tmp_path, tiny_checkpoint):
    path = tmp_path / "model.pt"
    ids = torch.tensor([tiny_checkpoint.vocab.encode("春风吹过/")])

    save_checkpoint(tiny_checkpoint, path)
    original = tiny_checkpoint.build_model()
    restored = load_checkpoint(path).build_model()

    with torch.no_grad():
        torch.testing.assert_close(restored(ids)[0], original(ids)[0], rtol=0, atol=0)
    assert not restored.training


def test_version_is_short_and_depends_on_weights(tiny_vocab, make_model, make_checkpoint):
    first = make_checkpoint(tiny_vocab, make_model(tiny_vocab, seed=1), created_at="2026-12-04T20:31:00+00:00")
    second = make_checkpoint(tiny_vocab, make_model(tiny_vocab, seed=2), created_at="2026-12-04T20:31:00+00:00")

    assert first.version.startswith("20261204-2031-")
    assert len(first.version) <= 20
    assert first.version != second.version


def test_save_leaves_no_temporary_files(tmp_path, tiny_checkpoint):
    path = tmp_path / "runs" / "a" / "model.pt"

    save_checkpoint(tiny_checkpoint, path)
    save_checkpoint(tiny_checkpoint, path)

    assert sorted(p.name for p in path.parent.iterdir()) == ["model.pt"]


def test_failed_save_keeps_previous_file(tmp_path, tiny_checkpoint, make_checkpoint, tiny_vocab, make_model):
    path = tmp_path / "model.pt"
    save_checkpoint(tiny_checkpoint, path)
    before = path.read_bytes()
    bad = make_checkpoint(tiny_vocab, make_model(tiny_vocab), train_config={"schedule": lambda step: step})

    with pytest.raises(CheckpointError, match=r"\['train_config'\]\['schedule'\] is a function"):
        save_checkpoint(bad, path)

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def test_crash_during_write_keeps_previous_file(tmp_path, tiny_checkpoint, monkeypatch):
    path = tmp_path / "model.pt"
    save_checkpoint(tiny_checkpoint, path)
    before = path.read_bytes()

    def write_half_then_fail(payload, stream):
        stream.write(before[: len(before) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tiny_checkpoint, path)

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def test_save_moves_tensors_to_cpu(tmp_path, tiny_checkpoint):
    # On a CUDA machine this saves real GPU tensors; on the CPU it still checks the device in the file.
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tiny_checkpoint.model_state = {name: t.to(device) for name, t in tiny_checkpoint.model_state.items()}
    tiny_checkpoint.training_state = {"optimizer": {"state": {0: {"exp_avg": torch.ones(2, device=device)}}}}
    path = tmp_path / "model.pt"

    save_checkpoint(tiny_checkpoint, path)
    raw = torch.load(path, weights_only=True, map_location=None)

    assert {t.device.type for t in raw["model_state"].values()} == {"cpu"}
    assert raw["training_state"]["optimizer"]["state"][0]["exp_avg"].device.type == "cpu"


@pytest.fixture
def cuda_tagged_saves():
    """Make torch.save tag every storage as cuda:0, as a file saved on a GPU is, then undo it."""

    def tag_as_cuda(obj):
        return "cuda:0"

    def never_restore(obj, location):
        return None

    torch.serialization.register_package(1, tag_as_cuda, never_restore)
    try:
        yield
    finally:
        registry = torch.serialization._package_registry
        registry[:] = [entry for entry in registry if entry[1] is not tag_as_cuda]


def test_gpu_saved_file_loads_on_cpu(tmp_path, tiny_checkpoint, cuda_tagged_saves):
    path = tmp_path / "model.pt"
    save_checkpoint(tiny_checkpoint, path)
    assert b"cuda:0" in path.read_bytes()

    loaded = load_checkpoint(path, map_location="cpu")

    assert {t.device.type for t in loaded.model_state.values()} == {"cpu"}
    torch.testing.assert_close(loaded.model_state["head.bias"], tiny_checkpoint.model_state["head.bias"])


def test_malicious_pickle_is_rejected_without_running(tmp_path):
    marker = tmp_path / "marker.txt"

    class WritesMarker:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    torch.save({"format": "lyricbot-checkpoint", "payload": WritesMarker()}, path, pickle_module=pickle)

    with pytest.raises(CheckpointError, match="rejected") as caught:
        load_checkpoint(path)

    assert not marker.exists()
    assert str(path) in str(caught.value)
    assert "io.open" in str(caught.value)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_malicious_plain_pickle_is_rejected_without_running(tmp_path):
    marker = tmp_path / "marker.txt"

    class RunsCode:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(RunsCode()))

    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)

    assert not marker.exists()
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("content", ["春风吹过小山/月光照在河上/\n", "hello world\n", '{"vocab": []}'])
def test_text_file_is_not_a_checkpoint(tmp_path, content):
    path = tmp_path / "song1.txt"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(CheckpointError, match="not a checkpoint file") as caught:
        load_checkpoint(path)

    assert str(path) in str(caught.value)
    assert "unsafe" not in str(caught.value)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_plain_pickle_is_called_unsafe(tmp_path):
    class RunsCode:
        def __reduce__(self):
            return (os.system, ("true",))

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(RunsCode()))

    with pytest.raises(CheckpointError, match="may be unsafe to load"):
        load_checkpoint(path)


@pytest.mark.parametrize("keep_fraction", [0.0, 0.1, 0.5, 0.9])
def test_truncated_file_is_rejected(tmp_path, tiny_checkpoint, keep_fraction):
    path = tmp_path / "model.pt"
    save_checkpoint(tiny_checkpoint, path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep_fraction)])

    with pytest.raises(CheckpointError, match="truncated") as caught:
        load_checkpoint(path)

    assert str(path) in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"hello", b"\x80\x02}q\x00.", b"PK\x03\x04" + bytes(40)])
def test_garbage_file_is_rejected(tmp_path, content):
    path = tmp_path / "model.pt"
    path.write_bytes(content)

    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)

    assert str(path) in str(caught.value)


def test_missing_file_is_rejected(tmp_path):
    path = tmp_path / "absent.pt"

    with pytest.raises(CheckpointError, match="not found") as caught:
        load_checkpoint(path)

    assert str(path) in str(caught.value)


def _rewrite(path, change):
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, path)


def test_unknown_format_version_is_rejected(tmp_path, tiny_checkpoint):
    path = tmp_path / "model.pt"
    save_checkpoint(tiny_checkpoint, path)
    _rewrite(path, lambda payload: payload.update(format_version=FORMAT_VERSION + 1))

    with pytest.raises(CheckpointError, match=f"unsupported format version {FORMAT_VERSION + 1}") as caught:
        load_checkpoint(path)

    assert str(path) in str(caught.value)


def test_foreign_torch_file_is_rejected(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(2)}, path)

    with pytest.raises(CheckpointError, match="not a lyricbot checkpoint"):
        load_checkpoint(path)


def test_missing_field_is_rejected(tmp_path, tiny_checkpoint):
    path = tmp_path / "model.pt"
    save_checkpoint(tiny_checkpoint, path)
    _rewrite(path, lambda payload: payload.pop("validation_songs"))

    with pytest.raises(CheckpointError, match=r"missing fields \['validation_songs'\]"):
        load_checkpoint(path)


def test_vocabulary_longer_than_weights_is_rejected(tmp_path, tiny_checkpoint):
    path = tmp_path / "model.pt"
    save_checkpoint(tiny_checkpoint, path)
    _rewrite(path, lambda payload: payload["vocab"].append("龘"))

    with pytest.raises(CheckpointError, match="vocabulary has") as caught:
        load_checkpoint(path)

    assert str(path) in str(caught.value)


def test_weights_smaller_than_vocabulary_rejected(tmp_path, tiny_checkpoint):
    path = tmp_path / "model.pt"
    save_checkpoint(tiny_checkpoint, path)

    def grow_vocab(payload):
        payload["vocab"].append("龘")
        payload["model_config"]["vocab_size"] += 1

    _rewrite(path, grow_vocab)

    with pytest.raises(CheckpointError, match="weight embedding.weight has shape") as caught:
        load_checkpoint(path)

    assert str(path) in str(caught.value)


def test_weights_of_another_architecture_are_rejected(tmp_path, tiny_checkpoint):
    path = tmp_path / "model.pt"
    save_checkpoint(tiny_checkpoint, path)
    _rewrite(path, lambda payload: payload["model_config"].update(projection_size=8))

    with pytest.raises(CheckpointError, match=r"missing \['projection.bias', 'projection.weight'\]"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("metrics", [2.5], "field metrics has type list, expected dict"),
        ("corpus_fingerprint", 7, "field corpus_fingerprint has type int, expected str"),
        ("training_state", "resume", "expected dict or None"),
        ("validation_songs", [1, -2], "non-negative song indices"),
        ("model_config", "big", "field model_config has type str"),
    ],
)
def test_field_of_wrong_type_rejected(tmp_path, tiny_checkpoint, key, value, message):
    path = tmp_path / "model.pt"
    save_checkpoint(tiny_checkpoint, path)
    _rewrite(path, lambda payload: payload.update({key: value}))

    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_malformed_vocabulary_is_rejected(tmp_path, tiny_checkpoint):
    path = tmp_path / "model.pt"
    save_checkpoint(tiny_checkpoint, path)
    _rewrite(path, lambda payload: payload["vocab"].reverse())

    with pytest.raises(CheckpointError, match="invalid vocabulary"):
        load_checkpoint(path)


def test_checkpoint_file_is_a_zip_of_plain_data(tmp_path, tiny_checkpoint):
    path = tmp_path / "model.pt"

    save_checkpoint(tiny_checkpoint, path)

    assert zipfile.is_zipfile(path)
    raw = torch.load(path, weights_only=True)
    assert raw["vocab"] == tiny_checkpoint.vocab.to_list()
    assert raw["model_config"] == tiny_checkpoint.model_config.to_dict()


def test_checkpoint_needs_no_training_state(tmp_path, tiny_vocab, make_model, make_checkpoint):
    checkpoint = make_checkpoint(tiny_vocab, make_model(tiny_vocab), training_state=None)
    path = tmp_path / "model.pt"

    save_checkpoint(checkpoint, path)

    assert load_checkpoint(path).training_state is None


def test_checkpoint_accepts_real_optimizer_state(tmp_path, tiny_vocab, make_model, make_checkpoint):
    model = make_model(tiny_vocab)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    logits, _ = model(torch.tensor([[2, 3, 4]]))
    logits.sum().backward()
    optimizer.step()
    scheduler.step()
    state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "epoch": 1, "step": 1}
    path = tmp_path / "model.pt"

    save_checkpoint(make_checkpoint(tiny_vocab, model, training_state=state), path)
    loaded = load_checkpoint(path)

    fresh = torch.optim.AdamW(make_model(tiny_vocab).parameters(), lr=1e-3)
    fresh.load_state_dict(loaded.training_state["optimizer"])
    assert loaded.training_state["scheduler"]["last_epoch"] == 1


def test_config_is_a_dataclass_not_a_dict(tiny_checkpoint):
    assert isinstance(tiny_checkpoint.model_config, LSTMConfig)
    assert isinstance(tiny_checkpoint.vocab, Vocabulary)
    assert isinstance(tiny_checkpoint, Checkpoint)
