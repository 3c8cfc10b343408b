"""The character vocabulary, the LSTM, checkpoints and generation."""
