"""``from nn.linear import *``: the same layer as ``linear.py``."""
from linear import Linear  # noqa: F401
