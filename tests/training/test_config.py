"""Training settings: presets, validation of values, and the round trip through a checkpoint."""

from __future__ import annotations

import pytest

from training.config import CPU_PRESET, GPU_PRESET, PRESETS, TrainConfig, get_preset


def test_gpu_preset_is_at_least_the_recipe_size() -> None:
    # the tutorial recipe: embedding 128, two LSTM layers of 1024, an extra Linear(1024)
    assert GPU_PRESET.hidden_size >= 1024
    assert GPU_PRESET.projection_size >= 1024
    assert GPU_PRESET.embedding_size >= 128
    assert GPU_PRESET.num_layers >= 2
    assert GPU_PRESET.bf16


def test_cpu_preset_fits_fifteen_minutes() -> None:
    assert CPU_PRESET.time_budget_s is not None
    assert CPU_PRESET.time_budget_s <= 15 * 60


def test_get_preset_names_the_choices() -> None:
    assert get_preset("cpu") is CPU_PRESET

    with pytest.raises(ValueError, match="unknown preset 'huge'; choose one of cpu, gpu, tiny"):
        get_preset("huge")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"hidden_size": 0}, "hidden_size must be a positive integer"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"val_fraction": 1.0}, "val_fraction must be between 0 and 1"),
        ({"learning_rate": 0.0}, "learning_rate must be positive"),
        ({"time_budget_s": -1.0}, "time_budget_s must be positive"),
        ({"device": "tpu"}, "device must be auto, cpu or cuda"),
        ({"sampling": "shuffled"}, "sampling must be stream or random"),
    ],
)
def test_invalid_values_are_rejected(overrides: dict, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        TrainConfig(**overrides)


def test_dict_round_trip_ignores_unknown_keys() -> None:
    for config in PRESETS.values():
        assert TrainConfig.from_dict({**config.to_dict(), "data": "lyrics.txt"}) == config


def test_overrides_skip_none() -> None:
    changed = CPU_PRESET.with_overrides(epochs=3, learning_rate=None)

    assert changed.epochs == 3
    assert changed.learning_rate == CPU_PRESET.learning_rate


def test_model_config_follows_the_preset() -> None:
    model_config = GPU_PRESET.model_config(5000)

    assert model_config.vocab_size == 5000
    assert model_config.hidden_size == GPU_PRESET.hidden_size
    assert model_config.projection_size == GPU_PRESET.projection_size
