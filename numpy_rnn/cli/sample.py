"""``python -m numpy_rnn sample``: generate text from a trained language model.

Greedy by default (the most likely next word, fed back as the next input, as
the assignment samples); ``--temperature T`` samples from ``softmax(scores / T)``
with ``--seed``. The output starts with the start word and has ``--length`` words.
"""
from __future__ import annotations

import argparse
import math
import sys

from numpy_rnn.cli.support import positive_int
from numpy_rnn.lm.checkpoint import load_checkpoint

PROG = "python -m numpy_rnn sample"


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="FILE",
                        help="checkpoint written by `train` (DIR/model.npz)")
    parser.add_argument("--start", required=True, metavar="WORD",
                        help="first word (lower-cased; must be in the vocabulary)")
    parser.add_argument("--length", type=positive_int, default=40,
                        help="number of words printed, the start word included (default 40)")
    parser.add_argument("--temperature", type=non_negative_float, default=None,
                        help="sample with this softmax temperature (default: greedy)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed for --temperature sampling (default 0; greedy decoding "
                             "has no randomness, so --seed needs --temperature)")


def run(args) -> int:
    if args.seed is not None and not args.temperature:
        print(f"{PROG}: error: --seed {args.seed} has no effect without --temperature T > 0: "
              "greedy decoding always picks the most likely word", file=sys.stderr)
        return 2
    try:
        model, vocab, _ = load_checkpoint(args.model)
        start = vocab.id_of(args.start.lower())
    except (OSError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    ids = model.sample(start, args.length, temperature=args.temperature,
                       rng=0 if args.seed is None else args.seed)
    print(" ".join(vocab.decode(ids)))
    return 0
