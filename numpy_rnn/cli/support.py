"""What every ``python -m numpy_rnn`` subcommand shares: argument types and plotting.

matplotlib is an optional extra (``pip install -e '.[plot]'`` from a checkout): it is
imported only when a figure is drawn, with a file-only backend.
"""
from __future__ import annotations

import argparse
import math

INSTALL_HINT = "install the plot extra: pip install -e '.[plot]' (from the numpy-rnn folder)"
TORCH_HINT = "install the torch extra: pip install -e '.[torch]' (from the numpy-rnn folder)"


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

    commands: name -> (module name, help text) or (module name, help text, needs),
    needs a tuple of the optional packages (``"torch"``) the command cannot run
    without; the module defines ``add_arguments(parser)`` and ``run(args) -> int``. Only the chosen
    subcommand's module is imported, so one command's heavy imports (torch,
    matplotlib) never slow down or break another. Every command gets
    ``--threads`` (see :mod:`numpy_rnn.cli.threads`). A command that needs torch
    where it is not installed prints how to install it and exits with status 2;
    a closed pipe (``... | head``) ends the output quietly.
    """
    import sys

    try:
        try:
            status = _run_subcommand(prog, description, commands, argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except KeyboardInterrupt:  # commands that can save something catch it themselves
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 141  # 128 + SIGPIPE, what a shell reports for a process the pipe ended
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "torch":
            raise
        print(f"{prog}: error: this command needs PyTorch, which is not installed; "
              f"{TORCH_HINT}", file=sys.stderr)
        return 2
    return status


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _run_subcommand(prog: str, description: str, commands: dict, argv=None) -> int:
    import importlib
    import importlib.util
    import sys

    from numpy_rnn.cli.threads import add_threads_argument, apply_threads

    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog=prog, description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    module, ours, needs = None, False, ()
    for name, (module_name, help_text, *extra) in commands.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(command_parser)
            ours = add_threads_argument(command_parser)
            needs = tuple(extra[0]) if extra else ()
    args = parser.parse_args(argv)
    for package in needs:
        if importlib.util.find_spec(package) is None:
            raise ModuleNotFoundError(f"No module named {package!r}", name=package)
    if ours:  # a command with its own --threads (bench) sets them itself
        apply_threads(args.threads)
    return int(module.run(args) or 0)


def make_output_dir(path, option: str = "--out") -> bool:
    """Create ``path`` (and parents); print why and return False when it cannot be made.

    option: the command-line option the path came from, named in the message.
    """
    import os
    import sys

    try:
        if os.path.exists(path) and not os.path.isdir(path):
            raise NotADirectoryError("it exists and is not a folder")
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(f"error: {option} {os.fspath(path)}: cannot create the output folder: {reason}",
              file=sys.stderr)
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
