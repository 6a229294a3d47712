"""Command line: ``python -m numpy_rnn {train,sample,memory,gradients}``.

Each subcommand lives in the module that owns its feature; this file only
dispatches, so adding a command is one entry in ``_COMMANDS``. Only the chosen
command's module is imported.
"""
from __future__ import annotations

import sys

from numpy_rnn.cli.support import run_subcommands

# subcommand -> module defining ``add_arguments(parser)`` and ``run(args) -> int``
_COMMANDS = {
    "train": ("numpy_rnn.cli.train", "train a word-level language model"),
    "sample": ("numpy_rnn.cli.sample", "sample text from a trained language model"),
    "memory": ("numpy_rnn.cli.memory", "memory task: accuracy vs sequence length"),
    "gradients": ("numpy_rnn.cli.gradients", "vanishing-gradient study"),
}

DESCRIPTION = """\
Train and sample a word-level language model, run the memory task and the
vanishing-gradient study. Every command takes --help.
"""


def main(argv=None) -> int:
    return run_subcommands("python -m numpy_rnn", DESCRIPTION, _COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
