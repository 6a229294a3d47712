"""``python -m numpy_rnn gradients``: how the loss gradient fades going back in time.

For each initialisation (uniform, identity) and sequence length, a
sequence-to-one RNN is set up for the memory task; the norm of dL/da(t) is
measured at every timestep on a fixed batch, at initialisation and again after
training at that length. Prints the per-step decay factor of every setting
(geometric mean of norm(t) / norm(t+1)) and writes
``DIR/vanishing_gradients.json`` and, with matplotlib,
``DIR/vanishing_gradients.png``.
"""
from __future__ import annotations

import argparse
import json
import math
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
from numpy_rnn.seq2one import vanishing as vg
from numpy_rnn.seq2one.model import INITS

__all__ = ["add_arguments", "plot_gradient_norms", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lengths", type=positive_int, nargs="+",
                        default=list(vg.DEFAULT_LENGTHS), metavar="T",
                        help="sequence lengths (default: %(default)s)")
    parser.add_argument("--inits", choices=INITS, nargs="+", default=list(INITS),
                        help="initialisations to compare (default: %(default)s)")
    parser.add_argument("--steps", type=positive_int, default=vg.DEFAULT_STEPS,
                        help="training steps before the 'after training' measurement "
                             "(default: %(default)s)")
    add_seq2one_training_arguments(parser, vg.DEFAULT_HIDDEN, vg.DEFAULT_BATCH,
                                   vg.DEFAULT_LR)
    parser.add_argument("--probe-batch", type=positive_int, default=vg.DEFAULT_PROBE_BATCH,
                        help="sequences the norms are averaged over (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="base seed (default: %(default)s)")
    parser.add_argument("--out", default=os.path.join("runs", "gradients"), metavar="DIR",
                        help="output folder (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


# distinct colours, each at least 4.5:1 against white (viridis ends in a pale yellow)
_COLOURS = ("#08519c", "#b35806", "#1b7837", "#a50f15", "#54278f", "#01665e", "#7f2704",
            "#000000")


def plot_gradient_norms(records, path) -> str:
    """Log-scale ||dL/da(t)|| against distance from the output, one panel per init.

    Colour: sequence length; solid: at initialisation; dashed: after training.
    Raises ImportError without matplotlib.
    """
    plt = load_pyplot()
    if plt is None:
        raise ImportError(INSTALL_HINT)
    inits = list(dict.fromkeys(r.init for r in records))
    lengths = sorted({r.length for r in records})
    colours = {L: _COLOURS[i % len(_COLOURS)] for i, L in enumerate(lengths)}
    # each panel its own y range: the identity panel spans a few decades, the uniform
    # one tens of them; a shared axis would squash the first into a flat line
    fig, axes = plt.subplots(1, len(inits), figsize=(6.5 * len(inits), 6.2), squeeze=False)
    try:
        for ax, init in zip(axes[0], inits, strict=True):
            for r in (r for r in records if r.init == init):
                distance = list(range(r.length))  # T - t for t = T .. 1
                for norms, style, when, decay in ((r.norms_before, "-", "init", r.decay_before),
                                                  (r.norms_after, "--", "trained",
                                                   r.decay_after)):
                    ax.semilogy(distance, norms[::-1], style, color=colours[r.length], lw=1.6,
                                label=f"T={r.length}, {when} (x{decay:.2f}/step)")
            ax.set_title(f"{init} initialisation")
            ax.set_xlabel("distance from the output, T - t (timesteps)")
            ax.set_ylabel("||dL/da(t)|| (mean over sequences)")
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2,
                      frameon=False)
        fig.suptitle("Vanishing gradients in a tanh RNN on the memory task "
                     "(solid: initialisation, dashed: after training)", fontsize=11)
    except BaseException:
        plt.close(fig)
        raise
    return save_figure(plt, fig, path)


def _fmt(value: float, spec: str = ".3f") -> str:
    return format(value, spec) if math.isfinite(value) else "n/a"


def format_table(records) -> str:
    lines = [f"{'init':<9} {'T':>4}  {'decay/step init':>15}  {'decay/step trained':>18}  "
             f"{'|g| at T (init)':>15}  {'|g| at t=1 (init)':>17}  {'acc trained':>11}"]
    for r in records:
        lines.append(f"{r.init:<9} {r.length:>4}  {_fmt(r.decay_before):>15}  "
                     f"{_fmt(r.decay_after):>18}  {r.norms_before[-1]:>15.3e}  "
                     f"{r.norms_before[0]:>17.3e}  {_fmt(r.accuracy_after, '.2f'):>11}")
    return "\n".join(lines)


def run(args) -> int:
    if not make_output_dir(args.out):
        return 2
    print(f"vanishing gradients: hidden {args.hidden}, inits {', '.join(args.inits)}, "
          f"lengths {' '.join(map(str, args.lengths))}; trained {args.steps} Adam steps "
          f"(lr {args.lr:g}, batch {args.batch}), seed {args.seed}")
    total = len(args.inits) * len(args.lengths) * args.steps
    bar = progress_bar(total=total, desc="gradients", disable=True if args.quiet else None)
    start = time.monotonic()
    try:
        records = vg.gradient_study(args.lengths, args.inits, hidden_size=args.hidden,
                                    steps=args.steps, batch_size=args.batch, lr=args.lr,
                                    probe_batch=args.probe_batch, seed=args.seed,
                                    on_step=lambda step, loss: bar.update(1))
    finally:
        bar.close()
    seconds = time.monotonic() - start
    print(format_table(records))
    print(f"norm: {vg.NORM_DEFINITION}, on {args.probe_batch} fixed sequences")
    print("decay/step: geometric mean of ||dL/da(t)|| / ||dL/da(t+1)|| over the sequence "
          "(< 1: the gradient shrinks with every step back in time)")
    summary = {"settings": {"lengths": list(args.lengths), "inits": list(args.inits),
                            "hidden_size": args.hidden, "steps": args.steps,
                            "batch_size": args.batch, "lr": args.lr, "optimizer": "adam",
                            "probe_batch": args.probe_batch, "seed": args.seed},
               "norm": vg.NORM_DEFINITION,
               "decay_factor": "geometric mean of norm(t) / norm(t+1), t = 1 .. T-1",
               "records": [r.as_dict() for r in records], "seconds": round(seconds, 2)}
    json_path = os.path.join(args.out, "vanishing_gradients.json")
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    print(f"wrote {json_path}")
    png = os.path.join(args.out, "vanishing_gradients.png")
    if load_pyplot() is None:
        print(f"no plot: {INSTALL_HINT} to get {png}")
    else:
        print(f"wrote {plot_gradient_norms(records, png)}")
    print(f"took {seconds:.1f} s")
    return 0
