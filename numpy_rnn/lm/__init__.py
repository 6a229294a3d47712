"""The word-level language model: model, corpus, training, checkpoints, plots."""
