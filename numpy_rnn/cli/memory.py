"""``python -m numpy_rnn memory``: memory-task accuracy against sequence length.

For every length, ``--repeats`` fresh sequence-to-one RNNs are trained with Adam
on the memory task (output the first of ``T`` numbers uniform in [-1, 1]) and
evaluated on fresh batches. Prints a table (length, mean ± std accuracy, mean
final training loss), the accuracy criterion and the longest length solved
(mean accuracy >= 0.9); writes ``DIR/memory_results.json`` and, with
matplotlib, ``DIR/memory_accuracy.png``.
"""
from __future__ import annotations

import argparse
import json
import os
import time

from numpy_rnn.cli.progress import progress_bar
from numpy_rnn.cli.support import (
    INSTALL_HINT,
    add_seq2one_training_arguments,
    load_pyplot,
    make_output_dir,
    positive_int,
    save_figure,
)
from numpy_rnn.seq2one import memory_task as mt
from numpy_rnn.seq2one.model import INITS

__all__ = ["add_arguments", "plot_accuracy", "run"]

DEFAULT_LENGTHS = (1, 2, 5, 10, 20, 30, 50)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lengths", type=positive_int, nargs="+", default=list(DEFAULT_LENGTHS),
                        metavar="T", help="sequence lengths (default: %(default)s)")
    parser.add_argument("--repeats", type=positive_int, default=5,
                        help="models trained per length (default: %(default)s)")
    parser.add_argument("--steps", type=positive_int, default=mt.DEFAULT_STEPS,
                        help="training steps per model (default: %(default)s)")
    add_seq2one_training_arguments(parser, mt.DEFAULT_HIDDEN, mt.DEFAULT_BATCH,
                                   mt.DEFAULT_LR)
    parser.add_argument("--eval-batches", type=positive_int, default=mt.DEFAULT_EVAL_BATCHES,
                        help=f"fresh batches of {mt.DEFAULT_EVAL_BATCH} sequences for the "
                             "accuracy (default: %(default)s)")
    parser.add_argument("--init", choices=INITS, default="uniform",
                        help="weight initialisation (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="base seed (default: %(default)s)")
    parser.add_argument("--out", default=os.path.join("runs", "memory"), metavar="DIR",
                        help="output folder (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def plot_accuracy(results: mt.MemoryResults, path) -> str:
    """Accuracy (mean ± std over repeats) against sequence length, as a PNG at ``path``.

    Raises ImportError without matplotlib.
    """
    plt = load_pyplot()
    if plt is None:
        raise ImportError(INSTALL_HINT)
    lengths = [r.length for r in results.lengths]
    means = [r.mean_accuracy for r in results.lengths]
    stds = [r.std_accuracy for r in results.lengths]
    fig, ax = plt.subplots(figsize=(7, 5.2))
    try:
        ax.errorbar(lengths, means, yerr=stds, fmt="o-", capsize=4,
                    label=f"RNN, {results.settings['init']} init "
                          f"({results.settings['repeats']} repeats, mean ± std)")
        ax.axhline(mt.SOLVED_ACCURACY, color="green", ls="--", lw=1,
                   label=f"solved (mean accuracy >= {mt.SOLVED_ACCURACY:g})")
        ax.axhline(mt.CHANCE_ACCURACY, color="gray", ls=":", lw=1,
                   label="chance (always predict 0)")
        ax.set_xlabel("sequence length T")
        ax.set_xticks(lengths)
        ax.set_ylabel(f"accuracy (|y_hat - y| < {mt.TOLERANCE:g})")
        # mean + std can pass 1: show the whole bar rather than cut it at the frame
        top = max([1.0] + [m + s for m, s in zip(means, stds, strict=True)])
        bottom = min([0.0] + [m - s for m, s in zip(means, stds, strict=True)])
        ax.set_ylim(bottom - 0.03, top + 0.05)
        ax.set_title("Memory task: recall the first number of the sequence")
        # below the frame, where it hides no point
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=9,
                  frameon=False)
        ax.grid(alpha=0.3)
    except BaseException:
        plt.close(fig)
        raise
    return save_figure(plt, fig, path)


def format_table(results: mt.MemoryResults) -> str:
    lines = [f"{'length':>6}  {'accuracy (mean ± std)':>22}  {'final loss':>10}  solved"]
    for r in results.lengths:
        lines.append(f"{r.length:>6}  {r.mean_accuracy:>13.3f} ± {r.std_accuracy:<6.3f}  "
                     f"{r.mean_final_loss:>10.4f}  {'yes' if r.solved else 'no'}")
    return "\n".join(lines)


def run(args) -> int:
    if not make_output_dir(args.out):
        return 2
    total = len(args.lengths) * args.repeats * args.steps
    print(f"memory task: {args.repeats} model(s) per length, {args.steps} Adam steps "
          f"(lr {args.lr:g}, batch {args.batch}), hidden {args.hidden}, {args.init} init, "
          f"seed {args.seed}")
    bar = progress_bar(total=total, desc="memory", disable=True if args.quiet else None)
    start = time.monotonic()

    def on_run(length, repeat, accuracy, loss):
        bar.set_postfix(T=length, run=repeat + 1, acc=f"{accuracy:.2f}")

    try:
        results = mt.memory_experiment(
            args.lengths, args.repeats, steps=args.steps, batch_size=args.batch,
            hidden_size=args.hidden, lr=args.lr, init=args.init, seed=args.seed,
            eval_batches=args.eval_batches, on_run=on_run,
            on_step=lambda step, loss: bar.update(1))
    finally:
        bar.close()
    seconds = time.monotonic() - start
    print(format_table(results))
    print(f"accuracy: {mt.accuracy_criterion()}; each model is evaluated on "
          f"{results.settings['eval_sequences']} fresh sequences")
    print("final loss: mean training MSE of the last "
          f"{mt.FINAL_LOSS_WINDOW} steps, averaged over the repeats")
    longest = results.longest_solved
    print(f"longest length solved (mean accuracy >= {mt.SOLVED_ACCURACY:g}): "
          f"{longest if longest is not None else 'none'}")

    summary = results.as_dict()
    summary["seconds"] = round(seconds, 2)
    json_path = os.path.join(args.out, "memory_results.json")
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    print(f"wrote {json_path}")
    if load_pyplot() is None:
        print(f"no plot: {INSTALL_HINT} to get {os.path.join(args.out, 'memory_accuracy.png')}")
    else:
        print(f"wrote {plot_accuracy(results, os.path.join(args.out, 'memory_accuracy.png'))}")
    print(f"took {seconds:.1f} s")
    return 0
