"""Command line: ``python -m torch_ref {verify,...}``.

Each subcommand lives in its own module defining ``add_arguments(parser)`` and
``run(args) -> int``; adding one is one entry in ``_COMMANDS``.
"""
from __future__ import annotations

import sys

from numpy_rnn.cli.support import run_subcommands

_COMMANDS = {
    "verify": ("torch_ref.verify.cli", "compare hand-written backprop with PyTorch autograd",
               ("torch",)),
    "grade": ("torch_ref.verify.grade.cli", "grade a class: every submission isolated, a gradebook",
              ("torch",)),
    "fixtures": ("torch_ref.compare.fixtures_cli", "check or regenerate the regression fixtures"),
    "bench": ("torch_ref.bench.run", "time numpy_rnn against torch", ("torch",)),
    "bench-lm": ("torch_ref.bench.lm_training",
                 "time the language-model training in numpy_rnn and in torch", ("torch",)),
}

DESCRIPTION = """\
Check numpy_rnn, or your own hand-written backprop (verify --module FILE), against
PyTorch autograd; check the regression fixtures; time numpy_rnn against torch.
Every command takes --help.
"""


def main(argv=None) -> int:
    return run_subcommands("python -m torch_ref", DESCRIPTION, _COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
