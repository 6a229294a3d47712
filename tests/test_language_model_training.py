"""Training loop, accuracy, checkpoints and plots of the language model (tiny corpora)."""
import json
import os
import unittest
import zipfile

import numpy as np
import pytest
from parameterized import parameterized

from numpy_rnn.lm.checkpoint import (
    CheckpointError,
    load_checkpoint,
    metadata_path,
    save_checkpoint,
)
from numpy_rnn.lm.corpus import Corpus
from numpy_rnn.lm.model import LanguageModel
from numpy_rnn.lm.training import next_word_accuracy, train
from numpy_rnn.optim import SGD

# a text whose next word is always determined by the current one
CYCLE = " ".join(["the cat sat on a mat and"] * 6)


def _corpus(text=CYCLE):
    return Corpus.from_text(text, name="cycle")


def _train(corpus, seed=0, cell="rnn", **kwargs):
    model = LanguageModel(len(corpus.vocab), 4, 8, cell=cell, rng=seed)
    args = dict(epochs=3, batch_size=4, timesteps=5, lr=0.05, seed=seed, progress=False)
    args.update(kwargs)
    return model, train(model, corpus, **args)


class Accuracy(unittest.TestCase):
    def test_counts_greedy_next_word_hits_over_len_minus_one(self):
        corpus = _corpus("a b a b a c")
        model = LanguageModel(len(corpus.vocab), 3, 4, rng=0)
        predicted = np.argmax(model.forward(corpus.ids[None, :-1])[0], axis=-1)
        expected = np.sum(predicted == corpus.ids[1:]) / (len(corpus.ids) - 1)
        self.assertEqual(next_word_accuracy(model, corpus.ids), expected)

    def test_too_short(self):
        with self.assertRaisesRegex(ValueError, "at least 2 word ids"):
            next_word_accuracy(LanguageModel(3, 2, 2, rng=0), np.array([1]))


class Training(unittest.TestCase):
    @parameterized.expand([("rnn",), ("lstm",)])
    def test_learns_a_deterministic_cycle(self, cell):
        corpus = _corpus()
        model, result = _train(corpus, cell=cell, epochs=25, lr=0.05)
        self.assertEqual(result.best_accuracy, 1.0)
        self.assertLess(result.loss_history[-1], result.loss_history[0] / 5)
        self.assertEqual(next_word_accuracy(model, corpus.ids), 1.0)

    def test_history_lengths_and_iterations_per_epoch(self):
        corpus = _corpus()  # 42 words: (42 - 1) // 4 = 10 iterations per epoch
        _, result = _train(corpus, epochs=3, batch_size=4)
        self.assertEqual(result.iterations_per_epoch, (len(corpus) - 1) // 4)
        self.assertEqual(len(result.loss_history), 3 * result.iterations_per_epoch)
        self.assertEqual(len(result.accuracy_history), 3)
        json.dumps(result.as_dict())  # serialisable

    def test_same_seed_same_run(self):
        corpus = _corpus()
        (m1, r1), (m2, r2) = _train(corpus, seed=3), _train(corpus, seed=3)
        self.assertEqual(r1.loss_history, r2.loss_history)
        for k in m1.params:
            np.testing.assert_array_equal(m1.params[k], m2.params[k])
        _, r3 = _train(corpus, seed=4)
        self.assertNotEqual(r1.loss_history, r3.loss_history)

    def test_best_parameters_are_kept(self):
        # the last epoch is made the worst on purpose (every guess is the first word,
        # which is never a next word), so the best epoch is an earlier one, whatever
        # the trajectory of the others
        corpus = _corpus("start " + CYCLE)
        start = corpus.vocab.id_of("start")
        model = LanguageModel(len(corpus.vocab), 4, 8, rng=0)
        epochs, snapshots = 4, []
        per_epoch = (len(corpus) - 1) // 4

        class SabotageLastEpoch(SGD):
            steps = 0

            def step(self, params, grads):
                super().step(params, grads)
                SabotageLastEpoch.steps += 1
                if SabotageLastEpoch.steps > (epochs - 1) * per_epoch:
                    params["out.W"][...] = 0
                    params["out.b"][...] = 0
                    params["out.b"][start] = 100

        def record(stats):
            snapshots.append((stats, model.get_params()))

        result = train(model, corpus, epochs=epochs, batch_size=4, timesteps=5, lr=0.5,
                       optimizer=SabotageLastEpoch(0.5), progress=False, on_epoch=record)
        acc = result.accuracy_history
        self.assertEqual(acc[-1], 0.0)
        best = int(np.argmax(acc))  # earliest of the best
        self.assertLess(best, epochs - 1)
        self.assertEqual(result.best_epoch, best + 1)
        self.assertEqual(result.best_accuracy, acc[best])
        self.assertEqual([s.is_best for s, _ in snapshots],
                         [i == 0 or a > max(acc[:i]) for i, a in enumerate(acc)])
        for name, value in snapshots[best][1].items():
            np.testing.assert_array_equal(model.params[name], value, err_msg=name)
        self.assertEqual(next_word_accuracy(model, corpus.ids), acc[best])

    def test_clipping_changes_the_run(self):
        corpus = _corpus()
        _, plain = _train(corpus, seed=1)
        _, clipped = _train(corpus, seed=1, clip=1e-3)
        self.assertEqual(plain.loss_history[0], clipped.loss_history[0])
        self.assertNotEqual(plain.loss_history[-1], clipped.loss_history[-1])

    @parameterized.expand([
        ("epochs", dict(epochs=0), ValueError, "epochs"),
        ("clip", dict(clip=0.0), ValueError, "clip"),
        ("optimizer", dict(optimizer="rmsprop"), ValueError, "optimizer"),
        ("too short", dict(timesteps=50), ValueError, r"has 42 words; timesteps=50"),
    ])
    def test_bad_arguments(self, _, change, error, message):
        with self.assertRaisesRegex(error, message):
            _train(_corpus(), **change)

    def test_vocabulary_too_small_for_the_corpus(self):
        corpus = _corpus()
        model = LanguageModel(3, 2, 2, rng=0)
        with self.assertRaisesRegex(ValueError, "vocab_size is 3"):
            train(model, corpus, 1, 2, 3, 0.1, progress=False)


class Checkpoints(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path):
        self.tmp = tmp_path

    def _saved(self, cell="lstm", dtype=np.float64):
        corpus = _corpus("b a  c\nd b")  # includes the empty word
        model = LanguageModel(len(corpus.vocab), 3, 4, cell=cell, rng=1, dtype=dtype)
        path = save_checkpoint(self.tmp / "model.npz", model, corpus.vocab,
                               extra={"accuracy": 0.5})
        return model, corpus.vocab, path

    @parameterized.expand([("rnn", np.float64), ("lstm", np.float32)])
    def test_round_trip(self, cell, dtype):
        model, vocab, path = self._saved(cell, dtype)
        loaded, loaded_vocab, metadata = load_checkpoint(path)
        self.assertEqual(loaded_vocab, vocab)
        self.assertEqual(loaded.config(), model.config())
        for k in model.params:
            np.testing.assert_array_equal(loaded.params[k], model.params[k])
            self.assertEqual(loaded.params[k].dtype, model.params[k].dtype)
        self.assertEqual(metadata["extra"], {"accuracy": 0.5})
        with open(metadata_path(path), encoding="utf-8") as fh:
            self.assertEqual(json.load(fh)["model"], model.config())
        words = np.array([[0, 1, 2]])
        np.testing.assert_array_equal(loaded.forward(words), model.forward(words))

    def test_loads_without_pickle(self):
        _, _, path = self._saved()
        with np.load(path, allow_pickle=False) as data:
            self.assertEqual(data["vocabulary"].dtype.kind, "U")
            self.assertIn("param/rnn.Wx", data.files)

    def _rewrite(self, path, change):
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        change(arrays)
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)

    def test_missing_key(self):
        _, _, path = self._saved()
        self._rewrite(path, lambda a: a.pop("param/out.b"))
        with self.assertRaisesRegex(CheckpointError, r"model.npz: missing key 'param/out.b'"):
            load_checkpoint(path)

    def test_wrong_shape_names_key_expected_and_actual(self):
        _, _, path = self._saved()

        def transpose(a):
            a["param/rnn.Wh"] = a["param/rnn.Wh"][:, :4]
        self._rewrite(path, transpose)
        with self.assertRaisesRegex(CheckpointError, r"key 'param/rnn.Wh' has shape \(4, 4\), "
                                                     r"expected \(4, 16\)"):
            load_checkpoint(path)

    def test_unexpected_key(self):
        _, _, path = self._saved()
        self._rewrite(path, lambda a: a.update({"param/extra.W": np.zeros(2)}))
        with self.assertRaisesRegex(CheckpointError, "unexpected key"):
            load_checkpoint(path)

    def test_vocabulary_size_mismatch(self):
        _, _, path = self._saved()
        self._rewrite(path, lambda a: a.update(vocabulary=a["vocabulary"][:-1]))
        with self.assertRaisesRegex(CheckpointError, "key 'vocabulary' must be a unicode array"):
            load_checkpoint(path)

    def test_bad_metadata(self):
        _, _, path = self._saved()
        self._rewrite(path, lambda a: a.update(metadata=np.array("{not json")))
        with self.assertRaisesRegex(CheckpointError, "key 'metadata' is not valid JSON"):
            load_checkpoint(path)

    @parameterized.expand([("garbage", b"this is not a zip file"), ("empty", b"")])
    def test_corrupt_file(self, _, data):
        path = self.tmp / "broken.npz"
        path.write_bytes(data)
        with self.assertRaisesRegex(CheckpointError, "broken.npz: corrupt or unreadable"):
            load_checkpoint(path)

    def test_truncated_archive(self):
        _, _, path = self._saved()
        data = open(path, "rb").read()
        with open(path, "wb") as fh:
            fh.write(data[: len(data) // 2])
        with self.assertRaisesRegex(CheckpointError, "model.npz"):
            load_checkpoint(path)
        self.assertFalse(zipfile.is_zipfile(path))

    def test_missing_file(self):
        with self.assertRaisesRegex(FileNotFoundError, "checkpoint file not found"):
            load_checkpoint(self.tmp / "none.npz")

    def test_vocabulary_must_match_model(self):
        model = LanguageModel(4, 2, 3, rng=0)
        with self.assertRaisesRegex(ValueError, "vocab has 2 words"):
            save_checkpoint(self.tmp / "m.npz", model, _corpus("a b").vocab)


class Plots(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path):
        self.tmp = tmp_path

    def test_png_written(self):
        pytest.importorskip("matplotlib")
        from numpy_rnn.lm.plots import plot_training_curves

        path = plot_training_curves([3.0, 2.0, 1.0], [0.1, 0.5], self.tmp / "c.png", title="rnn")
        with open(path, "rb") as fh:
            self.assertEqual(fh.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertTrue(os.path.getsize(path) > 1000)

    def test_without_matplotlib_says_how_to_install(self):
        import builtins

        from numpy_rnn.lm import plots as lm_plots

        real_import = builtins.__import__

        def no_matplotlib(name, *args, **kwargs):
            if name == "matplotlib" or name.startswith("matplotlib."):
                raise ImportError("no matplotlib")
            return real_import(name, *args, **kwargs)

        builtins.__import__ = no_matplotlib
        try:
            with self.assertRaisesRegex(ImportError, r"pip install -e '\.\[plot\]'"):
                lm_plots.plot_training_curves([1.0], [0.5], self.tmp / "c.png")
        finally:
            builtins.__import__ = real_import
