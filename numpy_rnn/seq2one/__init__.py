"""Sequence-to-one RNN, the memory task and the vanishing-gradient study."""
