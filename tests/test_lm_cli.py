"""``python -m numpy_rnn train`` / ``sample`` on a tiny corpus, in process, and their errors."""
import json
import os
import subprocess
import sys
import unittest

import numpy as np
import pytest
from parameterized import parameterized

from numpy_rnn.__main__ import main

TEXT = "The cat sat on the mat.\nThe dog sat on the log.\nThe cat saw the dog.\n" * 3
TINY = ["--embed", "4", "--hidden", "8", "--timesteps", "5", "--batch", "4", "--epochs", "3",
        "--lr", "0.05", "--quiet", "--no-plot"]


class TrainThenSample(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _io(self, tmp_path, capsys):
        self.tmp, self.capsys = tmp_path, capsys

    def _train(self, *extra, text=TEXT, plot=False):
        corpus = self.tmp / "corpus.txt"
        corpus.write_text(text, encoding="utf-8")
        out = self.tmp / "run"
        sizes = TINY if not plot else [a for a in TINY if a != "--no-plot"]
        code = main(["train", "--corpus", str(corpus), "--out", str(out), *sizes, *extra])
        return code, out, self.capsys.readouterr()

    def test_train_writes_outputs_and_sample_reads_them(self):
        code, out, captured = self._train("--cell", "rnn", plot=True)
        self.assertEqual(code, 0, captured.err)
        lines = captured.out.strip().splitlines()
        self.assertEqual(sum(line.startswith("epoch ") for line in lines), 3)
        self.assertRegex(lines[-1], r"^final training accuracy: \d\.\d{4}$")
        with open(out / "history.json", encoding="utf-8") as fh:
            history = json.load(fh)
        self.assertEqual(len(history["accuracy"]), 3)
        self.assertEqual(float(lines[-1].split()[-1]), round(history["accuracy"][-1], 4))
        self.assertTrue(os.path.exists(out / "model.json"))
        self.assertTrue(os.path.exists(out / "curves.png") or "pip install" in captured.out)

        code = main(["sample", "--model", str(out / "model.npz"), "--start", "The",
                     "--length", "7"])
        text = self.capsys.readouterr().out.strip()
        self.assertEqual(code, 0)
        self.assertEqual(len(text.split(" ")), 7)
        self.assertTrue(text.startswith("the "))

        args = ["sample", "--model", str(out / "model.npz"), "--start", "cat", "--length", "20",
                "--temperature", "2.0", "--seed"]
        samples = []
        for seed in ("1", "1", "2"):
            self.assertEqual(main(args + [seed]), 0)
            samples.append(self.capsys.readouterr().out)
        self.assertEqual(samples[0], samples[1])
        self.assertNotEqual(samples[0], samples[2])

    def test_same_seed_same_model(self):
        _, out, first = self._train("--seed", "3")
        with np.load(out / "model.npz") as a:
            weights = {k: a[k] for k in a.files}
        _, out, second = self._train("--seed", "3")
        self.assertEqual(first.out.splitlines()[-1], second.out.splitlines()[-1])
        with np.load(out / "model.npz") as b:
            for k in weights:
                np.testing.assert_array_equal(weights[k], b[k])

    def test_unknown_start_word_lists_close_words(self):
        _, out, _ = self._train()
        code = main(["sample", "--model", str(out / "model.npz"), "--start", "catt"])
        err = self.capsys.readouterr().err
        self.assertEqual(code, 2)
        self.assertIn("'catt' is not in the vocabulary", err)
        self.assertIn("'cat'", err)

    def test_corpus_shorter_than_timesteps(self):
        code, _, captured = self._train("--timesteps", "40", text="only five words in here")
        self.assertEqual(code, 2)
        self.assertIn("has 5 words; timesteps=40 needs at least 41", captured.err)


class Errors(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _io(self, tmp_path, capsys):
        self.tmp, self.capsys = tmp_path, capsys

    def _code_and_err(self, argv):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse rejects bad values with exit status 2
            code = exc.code
        return code, self.capsys.readouterr().err

    @parameterized.expand([
        ("missing corpus", ["train", "--corpus", "{tmp}/none.txt"], "corpus file not found"),
        ("not utf-8", ["train", "--corpus", "{tmp}/latin1.txt"], "not valid UTF-8 at byte offset"),
        ("zero hidden", ["train", "--hidden", "0"], "expected a positive integer"),
        ("bad lr", ["train", "--lr", "abc"], "expected a positive number"),
        ("bad cell", ["train", "--cell", "transformer"], "invalid choice"),
        ("missing model", ["sample", "--model", "{tmp}/none.npz", "--start", "a"],
         "checkpoint file not found"),
        ("corrupt model", ["sample", "--model", "{tmp}/latin1.txt", "--start", "a"],
         "corrupt or unreadable"),
        ("negative temperature", ["sample", "--model", "m.npz", "--start", "a",
                                  "--temperature", "-1"], "expected a finite number >= 0"),
    ])
    def test_exit_2_with_a_message(self, _, argv, message):
        (self.tmp / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
        code, err = self._code_and_err([a.replace("{tmp}", str(self.tmp)) for a in argv])
        self.assertEqual(code, 2)
        self.assertIn(message, err)
        self.assertNotIn("Traceback", err)


def test_default_corpus_module_entry_point(tmp_path):
    """``python -m numpy_rnn train`` without --corpus (the Zen of Python), tiny sizes."""
    result = subprocess.run(
        [sys.executable, "-m", "numpy_rnn", "train", "--out", str(tmp_path), *TINY,
         "--epochs", "1"],
        capture_output=True, text=True, timeout=120,
        cwd=os.path.join(os.path.dirname(__file__), os.pardir))
    assert result.returncode == 0, result.stderr
    assert "The Zen of Python" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("final training accuracy: ")
