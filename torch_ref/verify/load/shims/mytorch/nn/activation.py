"""``from nn.activation import *``: the same activations as ``activation.py``."""
from activation import Activation, Identity, ReLU, Sigmoid, Tanh  # noqa: F401
