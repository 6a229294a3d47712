"""``python -m torch_ref bench`` on a tiny grid: table and JSON structure, agreement.

Timings are never asserted: only that every row was timed, that the NumPy and
torch results of each row agree, and that each target verdict follows from the
measured value it names.
"""
import contextlib
import io
import json
import math
import sys
import tempfile
import unittest
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from parameterized import parameterized

torch = pytest.importorskip("torch", reason="bench times numpy_rnn against torch")

from torch_ref.__main__ import main  # noqa: E402
from torch_ref.bench import run as bench  # noqa: E402

TINY = ("--sizes", "3,4,5,6", "--vocab", "11", "--repeats", "1", "--warmup", "0",
        "--min-time", "0", "--gemm-size", "16", "--threads", "1")


def run_bench(*argv):
    """``(exit status, stdout, JSON report)`` of ``python -m torch_ref bench ARGV``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.json"
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main(["bench", *argv, "--json", str(path)])
        return code, out.getvalue(), json.loads(path.read_text())


class TestTinyGrid(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.threads_before = torch.get_num_threads()
        cls.code, cls.out, cls.report = run_bench(*TINY)
        cls.results = cls.report["results"]

    def test_exit_status_zero_when_everything_agrees(self):
        self.assertEqual(self.code, 0, self.out)

    def test_every_component_and_dtype_has_a_row(self):
        rows = {(r["component"], r["dtype"]) for r in self.results}
        expected = {(c, d) for c in bench.components_list() for d in ("float64", "float32")}
        self.assertEqual(rows, expected)
        # per dtype: the reference GEMM plus the LSTM-shaped one at the one size
        gemms = [r for r in self.results if r["component"] == "gemm"]
        self.assertEqual(sorted(r["tag"] for r in gemms),
                         ["LSTM-shaped"] * 2 + ["reference rate"] * 2)

    def test_numpy_and_torch_results_agree(self):
        for r in self.results:
            with self.subTest(component=r["component"], dtype=r["dtype"]):
                agree = r["agree"]
                self.assertTrue(agree["ok"], agree)
                self.assertLessEqual(agree["rel_err"], bench.AGREEMENT[r["dtype"]])

    def test_each_row_has_its_timings_and_derived_numbers(self):
        for r in self.results:
            with self.subTest(component=r["component"], dtype=r["dtype"]):
                self.assertEqual(len(r["numpy_times_ms"]), 1)
                self.assertEqual(len(r["torch_times_ms"]), 1)
                self.assertEqual(r["numpy_ms"], r["numpy_times_ms"][0])
                self.assertTrue(math.isclose(r["ratio"], r["numpy_ms"] / r["torch_ms"]))
                if r["gemm_ms"] is None:
                    self.assertEqual(r["gemm_times_ms"], [])
                    self.assertIsNone(r["gemm_of_numpy"])
                else:
                    self.assertEqual(r["gemm_ms"], r["gemm_times_ms"][0])
                    self.assertTrue(math.isclose(r["gemm_of_numpy"],
                                                 r["gemm_ms"] / r["numpy_ms"]))
                if r["flops"] is None:
                    self.assertIsNone(r["numpy_gflops"])
                    continue
                gflops = r["flops"] / (r["numpy_ms"] / 1e3) / 1e9
                self.assertTrue(math.isclose(r["numpy_gflops"], gflops))
                rate = self.report["settings"]["gemm_rate"][r["dtype"]]
                self.assertTrue(math.isclose(r["gemm_fraction"], gflops / rate))

    def test_every_timed_recurrent_row_has_its_gemm_floor(self):
        for r in self.results:
            if r["component"].split("_")[0] in ("rnn", "lstm", "gru"):
                self.assertIsNotNone(r["gemm_ms"], r["component"])

    def test_gemm_flops_are_two_m_k_n(self):
        for r in self.results:
            if r["component"] == "gemm":
                s = r["sizes"]
                self.assertEqual(r["flops"], 2 * s["M"] * s["K"] * s["N"])

    def test_no_target_applies_off_the_target_sizes(self):
        self.assertEqual([t for r in self.results for t in r["targets"]], [])

    def test_table_has_one_line_per_result(self):
        lines = self.out.splitlines()
        head = next(i for i, line in enumerate(lines) if line.startswith("component"))
        for column in ("numpy ms", "GEMM ms", "GEMM/numpy", "torch ms", "numpy/torch", "GFLOP/s",
                       "% GEMM", "target"):
            self.assertIn(column, lines[head])
        rows = lines[head + 2:head + 2 + len(self.results)]
        for line, r in zip(rows, self.results, strict=True):
            self.assertTrue(line.startswith(r["component"]), line)
            self.assertIn(r["dtype"], line)

    def test_header_reports_the_threads_used(self):
        settings = self.report["settings"]
        self.assertEqual(settings["torch_threads"], 1)
        self.assertEqual(settings["threads_requested"], 1)
        self.assertIn("torch", self.out.splitlines()[2])
        self.assertIn("1 threads", self.out.splitlines()[2])
        if settings["numpy_blas_source"] == "threadpoolctl":
            self.assertEqual(settings["numpy_blas_threads"], 1)

    def test_thread_settings_are_restored(self):
        self.assertEqual(torch.get_num_threads(), self.threads_before)


class TestTargets(unittest.TestCase):
    def test_verdicts_follow_the_measured_values(self):
        # N,T,D,H = 30,50,15,100 is a target size and small enough to run here
        code, out, report = run_bench("--sizes", "30,50,15,100", "--only", "lstm",
                                      "--dtypes", "float32", "--repeats", "1",
                                      "--warmup", "0", "--min-time", "0", "--gemm-size", "16",
                                      "--threads", "1")
        self.assertEqual(code, 0, out)
        (lstm,) = [r for r in report["results"] if r["component"] == "lstm"]
        self.assertTrue(lstm["agree"]["ok"], lstm["agree"])
        self.assertEqual(sorted(t["measure"] for t in lstm["targets"]),
                         ["gemm_fraction", "ratio"])
        for target in lstm["targets"]:
            if target["measure"] == "ratio":
                self.assertEqual(target["value"], lstm["ratio"])
                self.assertEqual(target["met"], lstm["ratio"] <= target["limit"])
            else:
                self.assertEqual(target["value"], lstm["gemm_fraction"])
                self.assertEqual(target["met"], lstm["gemm_fraction"] >= target["limit"])
            self.assertIn(f"{target['target']} {'met' if target['met'] else 'MISSED'}", out)

    @parameterized.expand([
        ("ratio_met", "ratio", 0.7, 0.69, True),
        ("ratio_missed", "ratio", 0.7, 0.71, False),
        ("fraction_met", "gemm_fraction", 0.6, 0.61, True),
        ("fraction_missed", "gemm_fraction", 0.6, 0.59, False),
        ("unmeasured", "ratio", 1.0, None, None),
    ])
    def test_target_direction(self, _, measure, limit, value, met):
        self.assertEqual(bench.Target(measure, limit).met(value), met)


class TestRunCount(unittest.TestCase):
    """``measure`` runs each side --repeats times, more for fast rows under --min-time."""

    def counted(self):
        from torch_ref.catalog import Run

        calls = {"numpy": 0, "torch": 0, "gemm": 0}
        out = np.arange(3.0)

        def numpy_run():
            calls["numpy"] += 1
            return Run({"out": out}, {})

        def torch_run():
            calls["torch"] += 1

        def gemm_run():
            calls["gemm"] += 1

        row = bench.Benchmark("gemm", {"M": 1}, "float64", numpy_run, torch_run,
                              lambda: Run({"out": out.copy()}, {}), gemm_run=gemm_run)
        return row, calls

    @parameterized.expand([("exact", 3, 0.0, 3), ("fast rows run more", 3, 60.0, bench.MAX_RUNS)])
    def test_runs(self, _, repeats, min_time, expected):
        row, calls = self.counted()
        result = bench.measure(row, repeats=repeats, warmup=2, min_time=min_time)
        self.assertEqual(calls, {"numpy": expected + 2, "torch": expected + 2,
                                 "gemm": expected + 2})
        self.assertEqual(len(result["numpy_times_ms"]), expected)
        self.assertEqual(len(result["torch_times_ms"]), expected)
        self.assertEqual(len(result["gemm_times_ms"]), expected)
        self.assertTrue(result["agree"]["ok"])


class TestClock(unittest.TestCase):
    def test_measure_reads_the_clock_it_is_given(self):
        row, _ = TestRunCount().counted()
        ticks = iter(range(1000))
        result = bench.measure(row, repeats=2, warmup=0, clock=lambda: 0.5 * next(ticks))
        for side in ("numpy", "torch", "gemm"):
            self.assertEqual(result[f"{side}_times_ms"], [500.0, 500.0])

    def test_cpu_clock_is_reported(self):
        code, out, report = run_bench("--sizes", "3,4,5,6", "--only", "rnn", "--dtypes", "float32",
                                      "--repeats", "1", "--warmup", "0", "--min-time", "0",
                                      "--gemm-size", "16", "--threads", "1", "--clock", "cpu")
        self.assertEqual(code, 0, out)
        self.assertEqual(report["settings"]["clock"], "cpu")
        self.assertIn("CPU time of this process", out.splitlines()[0])


class TestGemmFloor(unittest.TestCase):
    def test_the_timed_products_are_the_counted_ones(self):
        # a row's floor times exactly the matrix products its GFLOP/s counts
        from torch_ref.catalog import CATALOG

        grid = dict(N=3, T=4, D=5, H=6, V=11)
        timed = [c for c in CATALOG.values() if c.bench is not None and c.bench.gemms]
        self.assertEqual(sorted(c.name for c in timed),
                         sorted(c.name for c in CATALOG.values() if c.bench is not None
                                and c.name.split("_")[0] in ("rnn", "lstm", "gru")))
        self.assertLessEqual({"rnn", "lstm", "gru", "lstm_stacked"}, {c.name for c in timed})
        for component in timed:
            sizes = component.bench.sizes(grid)
            products = component.bench.gemms(sizes)
            self.assertEqual(sum(2 * m * k * n * count for m, k, n, count in products),
                             component.bench.flops(sizes), component.name)

    def test_the_floor_runs_every_product(self):
        calls = []
        with mock.patch.object(bench.np, "matmul", lambda a, b, out: calls.append(
                (a.shape, b.shape, out.shape))):
            bench._gemm_floor("x", "float32", {}, ((2, 3, 4, 2), (5, 1, 2, 1)))()
        self.assertEqual(calls, [((2, 3), (3, 4), (2, 4))] * 2 + [((5, 1), (1, 2), (5, 2))])


class TestAgreement(unittest.TestCase):
    def runs(self, grads):
        from torch_ref.catalog import Run

        x = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
        return Run({"out": x}, {"dx": x.T.copy()}), Run({"out": x.copy()}, grads(x))

    def test_equal_runs_agree(self):
        ok = bench.agreement(*self.runs(lambda x: {"dx": x.T.copy()}), "float64")
        self.assertTrue(ok["ok"], ok)

    def test_a_perturbed_gradient_is_named(self):
        verdict = bench.agreement(*self.runs(lambda x: {"dx": x.T * (1 + 1e-6)}), "float64")
        self.assertFalse(verdict["ok"])
        self.assertEqual(verdict["tensor"], "dx")
        self.assertTrue(math.isclose(verdict["rel_err"], 1e-6 / (1 + 1e-6), rel_tol=1e-6))

    def test_missing_tensor_disagrees(self):
        verdict = bench.agreement(*self.runs(lambda x: {}), "float64")
        self.assertFalse(verdict["ok"])
        self.assertIn("dx", verdict["message"])


class TestWithoutThreadpoolctl(unittest.TestCase):
    """Without threadpoolctl the header falls back to NumPy's build configuration."""

    def test_settings_and_warning(self):
        before = torch.get_num_threads()
        with mock.patch.dict(sys.modules, {"threadpoolctl": None}), ExitStack() as stack:
            warnings = bench.limit_threads(stack, 1)
            self.assertEqual(torch.get_num_threads(), 1)
            info = bench.thread_settings()
        self.assertEqual(torch.get_num_threads(), before)
        self.assertEqual(len(warnings), 1)
        self.assertIn("OPENBLAS_NUM_THREADS=1", warnings[0])
        self.assertIsNone(info["numpy_blas_threads"])
        self.assertIn("threadpoolctl not installed", info["numpy_blas_source"])
        self.assertNotEqual(info["numpy_blas"], "")


class TestArguments(unittest.TestCase):
    @parameterized.expand([("three numbers", "3,4,5"), ("zero", "3,4,0,6"), ("words", "a,b,c,d")])
    def test_bad_size_is_a_usage_error(self, _, size):
        with contextlib.redirect_stderr(io.StringIO()) as err, self.assertRaises(SystemExit):
            main(["bench", "--sizes", size])
        self.assertIn("N,T,D,H", err.getvalue())

    def test_unknown_component_in_build(self):
        with self.assertRaisesRegex(ValueError, "unknown components.*'gru_cell'"):
            bench.build(components=("gru_cell",))


class TestLanguageModelTraining(unittest.TestCase):
    def test_bench_lm_trains_both_sides_alike(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main(["bench-lm", "--cell", "gru", "--epochs", "1", "--embed", "3",
                         "--hidden", "4", "--timesteps", "5", "--batch", "2"])
        self.assertEqual(code, 0, out.getvalue())
        agreement = next(line for line in out.getvalue().splitlines()
                         if line.startswith("loss agreement"))
        first_epoch = float(agreement.split("difference ")[1].split(" in epoch 1")[0])
        self.assertLess(first_epoch, 1e-10)
