"""``python -m numpy_rnn train``: train the word-level language model on a text file.

Prints the accuracy of every epoch and ends with ``final training accuracy:
X.XXXX``; writes ``OUT/model.npz`` (+ ``OUT/model.json``), ``OUT/history.json``
and ``OUT/curves.png`` (when matplotlib is installed); ``OUT`` is ``runs/lm``
unless ``--out`` says otherwise. Without ``--corpus`` the text is the Zen of
Python from the standard library (145 words, a short text that trains in seconds).
Ctrl-C saves the best weights so far and exits with status 130.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from numpy_rnn.cli import progress
from numpy_rnn.cli.support import (
    INSTALL_HINT,
    PlotUnavailable,
    make_output_dir,
    positive_float,
    positive_int,
)
from numpy_rnn.cli.threads import blas_threads
from numpy_rnn.lm.checkpoint import save_checkpoint
from numpy_rnn.lm.corpus import Corpus, default_corpus
from numpy_rnn.lm.model import CELLS, LanguageModel
from numpy_rnn.lm.plots import plot_training_curves
from numpy_rnn.lm.training import TrainingInterrupted, train

PROG = "python -m numpy_rnn train"
DEFAULT_OUT = os.path.join("runs", "lm")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", metavar="FILE",
                        help="UTF-8 text file to train on (default: the Zen of Python, "
                             "from the standard library)")
    parser.add_argument("--cell", choices=CELLS, default="lstm",
                        help="recurrent cell (default lstm)")
    parser.add_argument("--embed", type=positive_int, default=15, metavar="D",
                        help="word-vector size (default 15)")
    parser.add_argument("--hidden", type=positive_int, default=100, metavar="H",
                        help="hidden size (default 100)")
    parser.add_argument("--layers", type=positive_int, default=1, metavar="L",
                        help="recurrent layers stacked, each reading the one below "
                             "(default 1)")
    parser.add_argument("--timesteps", type=positive_int, default=50, metavar="T",
                        help="words per training window (default 50)")
    parser.add_argument("--batch", type=positive_int, default=30, metavar="N",
                        help="windows per iteration (default 30)")
    parser.add_argument("--epochs", type=positive_int, default=50,
                        help="epochs of (words - 1) // N iterations (default 50)")
    parser.add_argument("--iterations", type=positive_int, default=None, metavar="K",
                        help="iterations per epoch instead of (words - 1) // N (a long text "
                             "trained for a given number of steps)")
    parser.add_argument("--eval-words", type=positive_int, default=None, metavar="W",
                        help="measure each epoch's accuracy on the first W predictions "
                             "(default: the whole text)")
    parser.add_argument("--lr", type=positive_float, default=5e-4,
                        help="learning rate (default 5e-4)")
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam",
                        help="adam (default) or sgd with momentum 0.9")
    parser.add_argument("--clip", type=positive_float, default=None, metavar="NORM",
                        help="clip the global gradient norm to NORM (default: no clipping)")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the initial weights and the window order")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                        help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--no-plot", action="store_true", help="do not draw curves.png")


def _error(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def _settings(args) -> dict:
    return {k: getattr(args, k) for k in ("corpus", "cell", "embed", "hidden", "layers",
                                          "timesteps", "batch", "epochs", "iterations",
                                          "eval_words", "lr", "optimizer", "clip", "dtype",
                                          "seed")}


def _save(args, model, corpus, result, interrupted=False) -> str:
    extra = {"settings": _settings(args), "best_accuracy": result.best_accuracy,
             "best_epoch": result.best_epoch}
    if interrupted:
        extra["interrupted"] = True
    return save_checkpoint(os.path.join(args.out, "model.npz"), model, corpus.vocab, extra=extra)


def _interrupted(args, model, corpus, result) -> int:
    """Ctrl-C: save what the model holds (the best epoch so far), say where, status 130."""
    print(file=sys.stderr)
    try:
        path = _save(args, model, corpus, result, interrupted=True)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted again while saving; {args.out} keeps its previous files",
              file=sys.stderr)
        return 130
    if result.best_epoch:
        what = (f"the best weights so far (epoch {result.best_epoch}, accuracy "
                f"{result.best_accuracy:.4f})")
    else:
        what = "the weights after the last step (no epoch had finished)"
    print(f"{PROG}: interrupted after {len(result.accuracy_history)} of {args.epochs} epochs; "
          f"saved {what} to {path}", file=sys.stderr)
    return 130


def run(args) -> int:
    try:
        corpus = Corpus.from_file(args.corpus) if args.corpus else default_corpus()
        corpus.check_length(args.timesteps)
    except (OSError, ValueError) as exc:
        return _error(str(exc))
    if not make_output_dir(args.out):
        return 2
    model = LanguageModel(len(corpus.vocab), args.embed, args.hidden, cell=args.cell,
                          rng=args.seed, dtype=args.dtype, num_layers=args.layers)
    threads = sorted(set(blas_threads()))
    print(f"corpus: {corpus.name}: {len(corpus)} words, {len(corpus.vocab)} distinct")
    layers = f"{args.layers} layers, " if args.layers > 1 else ""
    print(f"model: {args.cell}, {layers}D={args.embed}, H={args.hidden}, "
          f"{model.num_parameters()} parameters, {args.dtype}"
          + (f", BLAS threads {','.join(map(str, threads))}" if threads else ""))

    def report(stats):
        best = "  (best)" if stats.is_best else ""
        progress.write(f"epoch {stats.epoch:>3}/{stats.epochs}  loss {stats.mean_loss:10.4f}  "
                       f"accuracy {stats.accuracy:.4f}  {stats.seconds:6.2f}s{best}")

    try:
        result = train(model, corpus, epochs=args.epochs, batch_size=args.batch,
                       timesteps=args.timesteps, lr=args.lr, seed=args.seed,
                       optimizer=args.optimizer, clip=args.clip, progress=not args.quiet,
                       on_epoch=report, iterations_per_epoch=args.iterations,
                       eval_words=args.eval_words)
    except ValueError as exc:
        return _error(str(exc))
    except TrainingInterrupted as stop:
        return _interrupted(args, model, corpus, stop.result)
    summary = {"settings": _settings(args), "corpus_words": len(corpus), **result.as_dict()}
    model_path = _save(args, model, corpus, result)
    history_path = os.path.join(args.out, "history.json")
    with open(history_path, "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=1)
    try:
        if args.no_plot:
            plots = "curves: not drawn (--no-plot)"
        else:
            curves = plot_training_curves(result.loss_history, result.accuracy_history,
                                          os.path.join(args.out, "curves.png"), title=args.cell)
            plots = f"curves: {curves}"
    except PlotUnavailable:
        plots = f"curves: not drawn (matplotlib is not installed: {INSTALL_HINT})"
    print(f"trained {args.epochs} epochs x {result.iterations_per_epoch} iterations "
          f"in {result.seconds:.1f}s")
    print(f"model (best epoch {result.best_epoch}, accuracy {result.best_accuracy:.4f}): "
          f"{model_path} (+ {os.path.basename(os.path.splitext(model_path)[0])}.json)")
    print(f"history: {history_path}")
    print(plots)
    print(f"final training accuracy: {result.final_accuracy:.4f}")
    return 0
