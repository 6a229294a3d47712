"""What every ``python -m numpy_rnn`` subcommand shares: argument types and plotting.

matplotlib is an optional extra (``pip install numpy-rnn[plot]``): it is imported
only when a figure is drawn, with a file-only backend.
"""
from __future__ import annotations

import argparse
import math

INSTALL_HINT = "install the plot extra: pip install numpy-rnn[plot]"


class PlotUnavailable(ImportError):
    """matplotlib is not installed."""


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer (>= 1), got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text}")
    return value


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend; PlotUnavailable without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        raise PlotUnavailable(f"plots need matplotlib: {INSTALL_HINT}") from None
    matplotlib.use("Agg")  # files only; never open a window
    import matplotlib.pyplot as plt

    return plt


def load_pyplot():
    """``matplotlib.pyplot`` on the Agg backend, or None when matplotlib is missing."""
    try:
        return pyplot()
    except PlotUnavailable:
        return None
