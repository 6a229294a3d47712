"""Command line: ``python -m torch_ref {verify,...}``.

Each subcommand lives in its own module defining ``add_arguments(parser)`` and
``run(args) -> int``; adding one is one entry in ``_COMMANDS``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

_COMMANDS = {
    "verify": ("torch_ref.verify", "compare hand-written backprop with PyTorch autograd"),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m torch_ref", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name, (module_name, help_text) in _COMMANDS.items():
        modules[name] = importlib.import_module(module_name)
        modules[name].add_arguments(sub.add_parser(name, help=help_text,
                                                   description=help_text))
    args = parser.parse_args(argv)
    return int(modules[args.command].run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
