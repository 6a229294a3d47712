"""What a new user meets first: install hints, threads, pipes, help, defaults, progress lines."""
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import pytest
from parameterized import parameterized

from numpy_rnn.cli import progress
from numpy_rnn.cli.support import INSTALL_HINT, TORCH_HINT
from numpy_rnn.cli.threads import THREAD_VARIABLES

ROOT = Path(__file__).resolve().parent.parent
TEXT = "The cat sat on the mat.\nThe dog sat on the log.\nThe cat saw the dog.\n" * 3
TINY = ["--embed", "4", "--hidden", "8", "--timesteps", "5", "--batch", "4", "--lr", "0.05",
        "--quiet", "--no-plot"]


def _env(**extra):
    """The environment without any thread setting (as a new user's shell), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    env.update(extra)
    return env


def _run(args, *, code=None, cwd=ROOT, env=None, timeout=180):
    argv = [sys.executable, *(["-c", code] if code else []), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=_env() if env is None else env)


_WITHOUT_TORCH = ("import sys; sys.modules['torch'] = None  # as if not installed\n"
                  "from {package}.__main__ import main; sys.exit(main(sys.argv[1:]))")


class WithoutTorch(unittest.TestCase):
    @parameterized.expand([("verify",), ("bench",)])
    def test_one_line_saying_how_to_install_and_status_2(self, command):
        result = _run([command], code=_WITHOUT_TORCH.format(package="torch_ref"))
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stdout, "")
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn("pip install -e '.[torch]'", lines[0])

    def test_fixtures_needs_no_torch(self):
        result = _run(["fixtures", "--only", "mse_loss"],
                      code=_WITHOUT_TORCH.format(package="torch_ref"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("1 passed, 0 failed", result.stdout)

    def test_install_hints_work_as_typed_from_the_checkout(self):
        # quoted, so that a shell never expands the brackets; -e . is this checkout
        for hint in (INSTALL_HINT, TORCH_HINT):
            self.assertRegex(hint, r"pip install -e '\.\[(plot|torch)\]'")
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        self.assertNotRegex(readme, r"pip install [^'\n]*numpy-rnn\[")


class NumpyOnly(unittest.TestCase):
    def test_library_and_train_without_any_extra(self):
        blocked = ("torch", "matplotlib", "tqdm", "threadpoolctl")
        code = ("import sys\n"
                f"for name in {blocked!r}: sys.modules[name] = None\n"
                "import numpy_rnn\n"
                "from numpy_rnn.__main__ import main\n"
                "sys.exit(main(sys.argv[1:]))\n")
        with tempfile.TemporaryDirectory() as out:
            result = _run(["train", "--epochs", "1", "--out", out, *TINY[:-2]], code=code)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("pip install -e '.[plot]'", result.stdout)


class ClosedPipe(unittest.TestCase):
    @parameterized.expand([
        ("verify", ["-m", "torch_ref", "verify", "--only", "rnn_step", "--dtype", "float64"]),
        ("train help", ["-m", "numpy_rnn", "train", "--help"]),
    ])
    def test_head_ends_the_output_quietly(self, _, args):
        if "torch_ref" in args:
            pytest.importorskip("torch", reason="verify needs torch")
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.readline()
        proc.stdout.close()  # what `| head -1` does
        err = proc.stderr.read().decode()
        proc.wait(timeout=120)
        self.assertNotIn("Traceback", err)
        self.assertNotIn("BrokenPipeError", err)
        self.assertIn(proc.returncode, (0, 141))


class Help(unittest.TestCase):
    @parameterized.expand([("numpy_rnn",), ("torch_ref",)])
    def test_no_notes_for_developers(self, package):
        result = _run(["-m", package, "--help"])
        self.assertEqual(result.returncode, 0)
        for note in ("_COMMANDS", "add_arguments", "``", "subcommand lives"):
            self.assertNotIn(note, result.stdout)


class Threads(unittest.TestCase):
    _SHOW = ("import sys, numpy, threadpoolctl\n"
             "from numpy_rnn.cli.support import run_subcommands\n"
             "import types; m = types.ModuleType('show'); sys.modules['show'] = m\n"
             "m.add_arguments = lambda parser: None\n"
             "m.run = lambda args: print(sorted({p['num_threads'] for p in "
             "threadpoolctl.threadpool_info() if p['user_api'] == 'blas'}))\n"
             "run_subcommands('prog', '', {'show': ('show', 'show threads')}, sys.argv[1:])\n")

    def setUp(self):
        pytest.importorskip("threadpoolctl")

    def _threads(self, *args, **env):
        result = _run(["show", *args], code=self._SHOW, env=_env(**env))
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.strip()

    def test_commands_use_one_blas_thread_by_default(self):
        self.assertEqual(self._threads(), "[1]")

    def test_flag_and_environment_override(self):
        self.assertEqual(self._threads("--threads", "2"), "[2]")
        self.assertEqual(self._threads(OPENBLAS_NUM_THREADS="2"), "[2]")
        self.assertEqual(self._threads("--threads", "1", OPENBLAS_NUM_THREADS="2"), "[1]")

    def test_bad_flag(self):
        result = _run(["show", "--threads", "0"], code=self._SHOW)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--threads", result.stderr)

    def test_the_test_suite_runs_on_the_threads_conftest_chose(self):
        # one, unless the environment asked for another number before pytest started
        import threadpoolctl

        blas = {p["num_threads"] for p in threadpoolctl.threadpool_info()
                if p["user_api"] == "blas"}
        self.assertLessEqual(blas, {int(os.environ["OPENBLAS_NUM_THREADS"])})


class Outputs(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path):
        self.tmp = tmp_path

    def test_train_writes_under_runs_and_the_readme_lists_every_file(self):
        (self.tmp / "corpus.txt").write_text(TEXT, encoding="utf-8")
        args = [a for a in TINY if a != "--no-plot"]
        result = _run(["-m", "numpy_rnn", "train", "--corpus", "corpus.txt", "--epochs", "1",
                       *args], cwd=self.tmp, env=_env(PYTHONPATH=str(ROOT)))
        self.assertEqual(result.returncode, 0, result.stderr)
        written = sorted(p.name for p in (self.tmp / "runs" / "lm").iterdir())
        self.assertEqual(sorted(p.name for p in self.tmp.iterdir()), ["corpus.txt", "runs"])
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        section = readme[readme.index("## Language model"):readme.index("## Memory task")]
        for name in written:
            self.assertIn(f"`{name}`", section)

    @parameterized.expand([("train",), ("memory",), ("gradients",)])
    def test_out_that_cannot_be_made_names_out(self, command):
        (self.tmp / "file").write_text("x")
        result = _run(["-m", "numpy_rnn", command, "--out", str(self.tmp / "file" / "sub")])
        self.assertEqual(result.returncode, 2)
        self.assertIn("--out", result.stderr)
        self.assertNotIn("Traceback", result.stderr)


class SampleSeed(unittest.TestCase):
    def test_seed_without_temperature_is_an_error(self):
        from numpy_rnn.__main__ import main

        code = main(["sample", "--model", "m.npz", "--start", "a", "--seed", "3"])
        self.assertEqual(code, 2)


class ProgressLines(unittest.TestCase):
    def test_without_a_terminal_a_line_every_interval(self):
        now = [0.0]
        stream = io.StringIO()
        bar = progress._PlainBar(total=100, desc="train lstm", mode="log", stream=stream,
                                 interval=30.0, clock=lambda: now[0])
        for _ in range(100):
            now[0] += 1.0
            bar.update(1)
            bar.set_postfix(loss="1.234")
        bar.close()
        lines = stream.getvalue().splitlines()
        self.assertEqual(len(lines), 3)  # at 30, 60 and 90 s
        self.assertRegex(lines[0], r"^train lstm: 30/100 it \(30%\), 30s elapsed, about 1m10s "
                                   r"left, loss=1.234$")

    def test_progress_bar_logs_when_stderr_is_not_a_terminal(self):
        bar = progress.progress_bar(total=3, desc="x")  # pytest captures stderr
        self.assertEqual(getattr(bar, "mode", None), "log")
        bar.close()

    def test_epoch_lines_go_through_the_bars_write(self):
        tqdm = pytest.importorskip("tqdm")
        out, err = io.StringIO(), io.StringIO()
        bar = tqdm.tqdm(total=10, file=err)
        try:
            progress.write("epoch   1/5", file=out)
        finally:
            bar.close()
        self.assertEqual(out.getvalue(), "epoch   1/5\n")

    def test_plain_bar_is_cleared_before_a_line_and_redrawn_after(self):
        out, err = io.StringIO(), io.StringIO()
        bar = progress._PlainBar(total=10, desc="train", mode="bar", stream=err)
        try:
            bar.update(3)
            progress.write("epoch   1/5", file=out)
        finally:
            bar.close()
        self.assertEqual(out.getvalue(), "epoch   1/5\n")
        self.assertIn("\r\x1b[K\rtrain: 3/10", err.getvalue())


def _default_sigint():
    """In the child: Ctrl-C as in a terminal, even when this runs where SIGINT is ignored
    (a background job of a script); Python then raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Interrupt(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path):
        self.tmp = tmp_path

    def test_ctrl_c_saves_the_best_weights_says_where_and_exits_130(self):
        from numpy_rnn.lm.checkpoint import load_checkpoint

        (self.tmp / "corpus.txt").write_text(TEXT * 20, encoding="utf-8")
        out = self.tmp / "run"
        proc = subprocess.Popen(
            [sys.executable, "-m", "numpy_rnn", "train", "--corpus", "corpus.txt", "--out",
             str(out), "--epochs", "100000", *TINY], cwd=self.tmp,
            env=_env(PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, preexec_fn=_default_sigint)
        try:
            first = proc.stdout.readline()
            while not first.startswith("epoch "):
                first = proc.stdout.readline()
                self.assertTrue(first, "train ended before its first epoch")
            time.sleep(0.2)
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        self.assertEqual(proc.returncode, 130, stderr)
        self.assertNotIn("Traceback", stderr)
        match = re.search(r"saved the best weights so far \(epoch (\d+), accuracy ([\d.]+)\) "
                          r"to (\S+)", stderr)
        self.assertTrue(match, stderr)
        self.assertEqual(match.group(3), str(out / "model.npz"))
        model, _, metadata = load_checkpoint(match.group(3))
        self.assertTrue(metadata["extra"]["interrupted"])
        self.assertEqual(metadata["extra"]["best_epoch"], int(match.group(1)))
        with open(out / "model.json", encoding="utf-8") as fh:
            beside = json.load(fh)
        self.assertEqual(beside["parameters_sha256"], metadata["parameters_sha256"])
        self.assertEqual(sorted(os.listdir(out)), ["model.json", "model.npz"])  # no leftovers
