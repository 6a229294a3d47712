"""Command lines of ``python -m numpy_rnn`` and what they share."""
