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


def run_subcommands(prog: str, description: str, commands: dict, argv=None) -> int:
    """Parse ``argv`` and run one subcommand; exit status as an int.

    commands: name -> (module name, help text); the module defines
    ``add_arguments(parser)`` and ``run(args) -> int``. Only the chosen
    subcommand's module is imported, so one command's heavy imports (torch,
    matplotlib) never slow down or break another.
    """
    import importlib
    import sys

    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog=prog, description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    module = None
    for name, (module_name, help_text) in commands.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(command_parser)
    args = parser.parse_args(argv)
    return int(module.run(args) or 0)


def make_output_dir(path) -> bool:
    """Create ``path`` (and parents); print why and return False when it cannot be made."""
    import os
    import sys

    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        print(f"error: cannot create output folder {os.fspath(path)!r}: {exc}", file=sys.stderr)
        return False
    return True


def save_figure(plt, fig, path) -> str:
    """Lay out ``fig``, write it to ``path`` (PNG, 100 dpi), close it; returns the path."""
    import os

    try:
        fig.tight_layout()
        path = os.fspath(path)
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path


def add_seq2one_training_arguments(parser, hidden: int, batch: int, lr: float) -> None:
    """``--hidden``, ``--batch`` and ``--lr`` of the sequence-to-one RNN commands."""
    parser.add_argument("--hidden", type=positive_int, default=hidden, metavar="H",
                        help="hidden units (default: %(default)s)")
    parser.add_argument("--batch", type=positive_int, default=batch, metavar="N",
                        help="training sequences per step (default: %(default)s)")
    parser.add_argument("--lr", type=positive_float, default=lr,
                        help="Adam learning rate (default: %(default)s)")
