"""``from common.np import *`` gives ``np`` (NumPy; the book switches to CuPy on a GPU)."""
import numpy as np  # noqa: F401

__all__ = ["np"]
