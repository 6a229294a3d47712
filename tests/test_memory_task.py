"""Memory task: sample generator, learner, experiment, vanishing-gradient study and both CLIs."""
import json
import sys
import types
import unittest

import numpy as np
import pytest
from parameterized import parameterized

from numpy_rnn.__main__ import main
from numpy_rnn.optim import Adam
from numpy_rnn.seq2one import memory_task as mt
from numpy_rnn.seq2one import vanishing as vg
from numpy_rnn.seq2one.model import Seq2OneRNN


class Generator(unittest.TestCase):
    def test_shapes_range_and_labels(self):
        batches = mt.generate_samples(batch_size=7, seq_length=4, seed=0)
        self.assertIsInstance(batches, types.GeneratorType)
        for _ in range(3):
            x, y = next(batches)
            self.assertEqual(x.shape, (4, 7, 1))
            self.assertEqual(y.shape, (7, 1))
            self.assertTrue(np.all(x >= -1.0) and np.all(x <= 1.0))
            np.testing.assert_array_equal(y, x[0])

    def test_covers_the_interval(self):
        x, _ = next(mt.generate_samples(2000, 5, seed=1))
        self.assertLess(x.min(), -0.99)
        self.assertGreater(x.max(), 0.99)
        self.assertAlmostEqual(x.mean(), 0.0, delta=0.02)
        self.assertAlmostEqual(x.var(), 1 / 3, delta=0.01)  # uniform on [-1, 1]

    def test_seeded_batches_repeat_and_differ(self):
        a, b, c = (mt.generate_samples(3, 5, seed=s) for s in (4, 4, 5))
        for _ in range(2):
            (xa, ya), (xb, yb), (xc, _) = next(a), next(b), next(c)
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)
            self.assertFalse(np.array_equal(xa, xc))
        first, second = next(a)[0], next(a)[0]
        self.assertFalse(np.array_equal(first, second))  # a fresh batch each time

    def test_label_is_not_a_view(self):
        x, y = next(mt.generate_samples(2, 3, seed=0))
        y += 1.0
        self.assertFalse(np.array_equal(y, x[0]))

    @parameterized.expand([("batch", 0, 3, "batch_size"), ("length", 2, 0, "seq_length"),
                           ("float", 2.0, 3, "batch_size")])
    def test_bad_sizes_fail_at_the_call(self, _, batch, length, name):
        with self.assertRaisesRegex(ValueError, f"{name} must be a positive integer"):
            mt.generate_samples(batch, length)


class _ShiftedFirst:
    """A stand-in model answering x(1) + shift: its accuracy is known exactly."""

    dtype = np.float64
    output_size = 1

    def __init__(self, shift):
        self.shift = shift

    def forward(self, x):
        return x[:, 0] + self.shift


class LearnerTests(unittest.TestCase):
    @parameterized.expand([("inside", 0.05, 1.0), ("outside", 0.15, 0.0)])
    def test_accuracy_criterion(self, _, shift, expected):
        learner = mt.Learner(_ShiftedFirst(shift))
        self.assertEqual(learner.evaluate(mt.generate_samples(50, 3, seed=0), 4), expected)

    def test_predict_and_shapes(self):
        model = Seq2OneRNN(1, 4, 1, rng=0)
        learner = mt.Learner(model)
        x, y = next(mt.generate_samples(6, 5, seed=0))
        y_hat = learner.predict(x)
        self.assertEqual(y_hat.shape, (6, 1))
        np.testing.assert_array_equal(y_hat, model.forward(x.transpose(1, 0, 2).copy()))
        with self.assertRaisesRegex(ValueError, r"y must have shape \(6, 1\), got \(6,\)"):
            learner.train_step(x, y[:, 0])
        with self.assertRaisesRegex(ValueError, r"x must have shape \(T, N, D\)"):
            learner.predict(x[0])

    def test_learns_a_short_length(self):
        model = Seq2OneRNN(1, 8, 1, rng=0)
        learner = mt.Learner(model, optimizer=Adam(0.02))
        losses = learner.train(300, mt.generate_samples(32, 3, seed=1))
        self.assertEqual(len(learner.loss_history), 300)
        self.assertEqual(losses, learner.loss_history)
        self.assertLess(learner.final_loss(), 0.01 * losses[0])
        accuracy = learner.evaluate(mt.generate_samples(200, 3, seed=2), 3)
        self.assertGreaterEqual(accuracy, 0.95)

    def test_float32_model(self):
        model = Seq2OneRNN(1, 4, 1, rng=0, dtype=np.float32)
        learner = mt.Learner(model)
        learner.train(5, mt.generate_samples(8, 3, seed=0))
        self.assertEqual(model.params["W"].dtype, np.float32)
        self.assertTrue(np.isfinite(learner.final_loss()))


class Experiment(unittest.TestCase):
    def test_results_per_length(self):
        calls = []
        results = mt.memory_experiment([1, 2], repeats=2, steps=20, hidden_size=4,
                                       eval_batches=1, eval_batch_size=20,
                                       on_run=lambda *a: calls.append(a))
        self.assertEqual([r.length for r in results.lengths], [1, 2])
        self.assertEqual([(c[0], c[1]) for c in calls], [(1, 0), (1, 1), (2, 0), (2, 1)])
        for row in results.lengths:
            self.assertEqual(len(row.accuracies), 2)
            self.assertAlmostEqual(row.mean_accuracy, float(np.mean(row.accuracies)))
            self.assertAlmostEqual(row.std_accuracy, float(np.std(row.accuracies)))
        summary = json.loads(json.dumps(results.as_dict()))
        self.assertEqual(summary["criterion"]["tolerance"], 0.1)
        # reproducible from the seed
        again = mt.memory_experiment([1, 2], repeats=2, steps=20, hidden_size=4,
                                     eval_batches=1, eval_batch_size=20)
        self.assertEqual([r.accuracies for r in again.lengths],
                         [r.accuracies for r in results.lengths])

    def test_longest_solved(self):
        rows = [mt.LengthResult(1, [1.0, 0.95]), mt.LengthResult(5, [0.9, 0.9]),
                mt.LengthResult(10, [0.95, 0.8]), mt.LengthResult(20, [0.1, 0.1])]
        self.assertEqual(mt.MemoryResults({}, rows).longest_solved, 5)
        self.assertIsNone(mt.MemoryResults({}, rows[2:]).longest_solved)

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "length must be a positive integer, got 0"):
            mt.memory_experiment([2, 0], repeats=1, steps=1)
        with self.assertRaisesRegex(ValueError, "repeats must be a positive integer"):
            mt.memory_experiment([2], repeats=0, steps=1)


class VanishingGradients(unittest.TestCase):
    def test_decay_factor_of_a_geometric_sequence(self):
        norms = 3.0 * 0.5 ** np.arange(10)[::-1]   # halves with every step back
        self.assertAlmostEqual(vg.decay_factor(norms), 0.5, places=12)
        self.assertTrue(np.isnan(vg.decay_factor([1.0])))
        with pytest.warns(RuntimeWarning, match="zero"):
            self.assertTrue(np.isnan(vg.decay_factor([0.0, 1.0])))

    def test_norms_are_per_sequence_gradient_norms(self):
        model = Seq2OneRNN(1, 5, 1, rng=0)
        x, y = next(mt.generate_samples(4, 6, seed=0))
        xb = x.transpose(1, 0, 2).copy()
        norms = vg.hidden_grad_norms(model, xb, y)
        expected = []
        for n in range(4):  # one sequence at a time, gradient of its own squared error
            y_hat = model.forward(xb[n])
            model.backward(2 * (y_hat - y[n]))
            expected.append(np.linalg.norm(model.hidden_grads, axis=1))
        np.testing.assert_allclose(norms, np.mean(expected, axis=0), rtol=1e-12)

    def test_study_records(self):
        records = vg.gradient_study([4, 6], ("uniform", "identity"), hidden_size=4, steps=5,
                                    probe_batch=10)
        self.assertEqual([(r.init, r.length) for r in records],
                         [("uniform", 4), ("uniform", 6), ("identity", 4), ("identity", 6)])
        for r in records:
            self.assertEqual(len(r.norms_before), r.length)
            self.assertEqual(len(r.norms_after), r.length)
            self.assertNotEqual(r.norms_before, r.norms_after)
        # small uniform weights shrink the gradient going back in time
        self.assertLess(records[1].decay_before, 0.9)


# ---- command line ----------------------------------------------------------------

MEMORY_ARGS = ["memory", "--lengths", "1", "3", "--repeats", "2", "--steps", "30",
               "--hidden", "4", "--eval-batches", "1", "--quiet"]
GRADIENT_ARGS = ["gradients", "--lengths", "3", "5", "--steps", "10", "--hidden", "4",
                 "--probe-batch", "8", "--quiet"]


def test_memory_cli_writes_table_json_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(MEMORY_ARGS + ["--out", str(tmp_path), "--init", "identity", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "|y_hat - y| < 0.1" in out
    assert "longest length solved" in out
    assert (tmp_path / "memory_accuracy.png").stat().st_size > 1000
    data = json.loads((tmp_path / "memory_results.json").read_text())
    assert [r["length"] for r in data["results"]] == [1, 3]
    assert data["settings"]["init"] == "identity" and data["settings"]["seed"] == 3
    assert all(len(r["accuracies"]) == 2 for r in data["results"])
    for r in data["results"]:
        assert f"{r['mean_accuracy']:.3f} ± {r['std_accuracy']:<6.3f}" in out


def test_gradients_cli_writes_table_json_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(GRADIENT_ARGS + ["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "decay/step" in out
    assert (tmp_path / "vanishing_gradients.png").stat().st_size > 1000
    data = json.loads((tmp_path / "vanishing_gradients.json").read_text())
    assert [(r["init"], r["length"]) for r in data["records"]] == [
        ("uniform", 3), ("uniform", 5), ("identity", 3), ("identity", 5)]
    assert all(len(r["norms_before"]) == r["length"] for r in data["records"])


@pytest.mark.parametrize("args, png", [(MEMORY_ARGS, "memory_accuracy.png"),
                                       (GRADIENT_ARGS, "vanishing_gradients.png")])
def test_cli_without_matplotlib(tmp_path, capsys, monkeypatch, args, png):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert main(args + ["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "install the plot extra: pip install -e '.[plot]'" in out
    assert not (tmp_path / png).exists()
    assert len(list(tmp_path.glob("*.json"))) == 1


@pytest.mark.parametrize("args", [
    ["memory", "--lengths", "0", "2"], ["memory", "--repeats", "0"], ["memory", "--steps", "-1"],
    ["memory", "--lr", "0"], ["gradients", "--lengths", "0"], ["gradients", "--inits", "bad"],
])
def test_cli_rejects_bad_arguments(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err
