"""Benchmarks of numpy_rnn against torch on the same inputs."""
