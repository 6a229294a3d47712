"""The figures of the memory task and the vanishing-gradient study, read back from matplotlib."""
import unittest

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.colors import to_rgb  # noqa: E402

from numpy_rnn.cli import gradients as gradients_cli  # noqa: E402
from numpy_rnn.cli import memory as memory_cli  # noqa: E402
from numpy_rnn.seq2one import memory_task as mt  # noqa: E402
from numpy_rnn.seq2one.vanishing import GradientRecord  # noqa: E402


def _drawn(module, draw, *args):
    """The figure ``draw`` makes, kept open instead of saved."""
    figures = []

    def keep(plt, fig, path):
        fig.canvas.draw()
        figures.append(fig)
        return path

    original = module.save_figure
    module.save_figure = keep
    try:
        draw(*args, "unused.png")
    finally:
        module.save_figure = original
    return figures[0]


def _luminance(rgb) -> float:
    """WCAG relative luminance of an sRGB colour."""
    c = np.asarray(rgb[:3], dtype=float)
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(c @ [0.2126, 0.7152, 0.0722])


class MemoryAccuracy(unittest.TestCase):
    def test_error_bars_above_one_are_not_cut(self):
        results = mt.MemoryResults(
            settings={"init": "uniform", "repeats": 3},
            lengths=[mt.LengthResult(1, [1.0, 1.0, 1.0]), mt.LengthResult(10, [1.0, 0.2, 1.0])])
        fig = _drawn(memory_cli, memory_cli.plot_accuracy, results)
        ax = fig.axes[0]
        top = results.lengths[1].mean_accuracy + results.lengths[1].std_accuracy
        self.assertGreater(top, 1.0)
        self.assertGreater(ax.get_ylim()[1], top)
        self.assertLess(ax.get_ylim()[0], 0.0)


class VanishingGradients(unittest.TestCase):
    def _figure(self):
        records = []
        for init, rate in (("uniform", 0.5), ("identity", 0.95)):
            for T in (10, 25, 50, 100):
                norms = list(rate ** np.arange(T)[::-1])
                records.append(GradientRecord(init, T, norms, [n * 0.9 for n in norms]))
        return _drawn(gradients_cli, gradients_cli.plot_gradient_norms, records), records

    def test_each_panel_has_its_own_y_range(self):
        fig, records = self._figure()
        uniform, identity = fig.axes[:2]
        self.assertFalse(uniform.get_shared_y_axes().joined(uniform, identity))
        low = min(min(r.norms_after) for r in records if r.init == "identity")
        # the identity panel spans its own data (0.95^99 ~ 6e-3), not the uniform one's 1e-30
        self.assertGreater(identity.get_ylim()[0], low / 10)

    def test_lines_contrast_with_the_background_and_the_legend_is_readable(self):
        fig, _ = self._figure()
        for ax in fig.axes[:2]:
            background = _luminance(ax.get_facecolor())
            for line in ax.get_lines():
                fg = _luminance(to_rgb(line.get_color()))
                ratio = (max(background, fg) + 0.05) / (min(background, fg) + 0.05)
                self.assertGreaterEqual(ratio, 4.5, f"{line.get_label()}: contrast {ratio:.2f}")
            legend = ax.get_legend()
            self.assertGreaterEqual(min(t.get_fontsize() for t in legend.get_texts()), 9)
