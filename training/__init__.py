"""The training loop, presets, metrics and the retraining job."""
