"""Command line: ``python -m numpy_rnn {train,sample,memory,gradients}``.

Each subcommand lives in the module that owns its feature; this file only
dispatches, so adding a command is one entry in ``_COMMANDS``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> module defining ``add_arguments(parser)`` and ``run(args) -> int``
_COMMANDS = {
    "train": ("numpy_rnn.lm_cli", "train a word-level language model"),
    "sample": ("numpy_rnn.lm_cli_sample", "sample text from a trained language model"),
    "memory": ("numpy_rnn.memory_cli", "memory task: accuracy vs sequence length"),
    "gradients": ("numpy_rnn.gradients_cli", "vanishing-gradient study"),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m numpy_rnn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name, (module_name, help_text) in _COMMANDS.items():
        module = importlib.import_module(module_name)
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    return int(modules[args.command].run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
