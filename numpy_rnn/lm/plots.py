"""Training curves of the language model as a PNG: loss per iteration, accuracy per epoch.

matplotlib is an optional extra (``pip install -e '.[plot]'``) imported only
when a plot is drawn.
"""
from __future__ import annotations

from numpy_rnn.cli.support import PlotUnavailable, pyplot, save_figure

__all__ = ["PlotUnavailable", "plot_training_curves"]


def plot_training_curves(loss_history, accuracy_history, path, title: str = "") -> str:
    """Draw the training loss (top) and the training accuracy (bottom) into ``path``.

    loss_history:     sequence of per-iteration losses (length iterations).
    accuracy_history: sequence of per-epoch training accuracies in [0, 1] (length epochs).
    path:             output file (PNG); its folder must exist.
    title:            prefix of both panel titles (e.g. ``"lstm"``).
    Returns: ``path`` as a string. Raises PlotUnavailable without matplotlib.
    """
    plt = pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(2, 1, figsize=(10, 8))
    try:
        name = f" ({title})" if title else ""
        ax_loss.plot(range(1, len(loss_history) + 1), loss_history, lw=0.8)
        ax_loss.set_title(f"Training loss{name}")
        ax_loss.set_xlabel("Iteration")
        ax_loss.set_ylabel("loss (sum over time / N)")
        ax_acc.plot(range(1, len(accuracy_history) + 1), accuracy_history, "-o", ms=3,
                    label="Training")
        ax_acc.set_title(f"Training accuracy{name}")
        ax_acc.set_xlabel("Epoch")
        ax_acc.set_ylabel("next-word accuracy")
        ax_acc.set_ylim(0, 1)
        ax_acc.legend(loc="lower right")
    except BaseException:
        plt.close(fig)
        raise
    return save_figure(plt, fig, path)
