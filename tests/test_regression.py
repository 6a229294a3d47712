"""Regression fixtures: today's NumPy results against fixtures/regression (no torch needed).

Besides the comparison itself this proves the tolerance has both properties it
needs: noise of a few units in the last place passes, a 1e-6 relative change
(float64) or 1e-4 (float32) fails; and that broken fixture files fail by name.
"""
import argparse
import contextlib
import functools
import io
import json
import tempfile
import unittest
from pathlib import Path

import numpy as np
import pytest
from parameterized import parameterized

from torch_ref import tolerances
from torch_ref.compare import fixtures_cli, regression

CATALOG = regression.catalog()

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "regression"
COMPONENTS = [(name,) for name in CATALOG]
REAL_CHANGE = tolerances.REAL_CHANGE

pytestmark = pytest.mark.regression


def _is_result(key: str) -> bool:
    """Outputs and gradients, not the stored inputs and upstream gradients."""
    return "::input:" not in key and "::upstream:" not in key


@functools.lru_cache(maxsize=None)
def _frozen(name):
    return regression.load(FIXTURES, name)


def _changed(name, change):
    """``name``'s frozen arrays with ``change(key, array)`` applied, and its manifest."""
    arrays, manifest = _frozen(name)
    return {k: change(k, a) for k, a in arrays.items()}, manifest


def _check_changed(name, change):
    """Drifts of today's results against ``name``'s fixture with ``change`` applied."""
    return regression.compare_with(CATALOG[name], *_changed(name, change))


class FixtureCopy(unittest.TestCase):
    """Tests that write a copy of a component's fixture in a temporary directory."""

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)

    def copy_fixture(self, name, change=lambda key, a: a):
        """Write ``name``'s fixture to the temporary directory with ``change`` applied."""
        regression.write(self.dir, name, *_changed(name, change))


class MatchesFixtures(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _options(self, request):
        self.force_regen = request.config.getoption("force_regen")

    @parameterized.expand(COMPONENTS)
    def test_component(self, name):
        component = CATALOG[name]
        try:
            drifts = regression.check(component, FIXTURES)
            failed = any(d.failed for d in drifts)
            report = regression.summarize(name, drifts)
        except regression.FixtureError as exc:
            failed, report = True, str(exc)
        if failed and self.force_regen:
            _, regen_report = regression.regenerate(component, FIXTURES)
            self.fail(f"--force-regen rewrote the fixture:\n{regen_report}")
        if failed:
            self.fail(f"{report}\n(if the change is intended: "
                      f"python -m torch_ref fixtures --regen --only {name})")

    def test_every_fixture_file_belongs_to_a_component(self):
        stale = {p.stem for p in FIXTURES.glob("*.npz")} - set(CATALOG)
        self.assertEqual(stale, set(), "fixtures of components no longer in the catalog")


class ToleranceProperties(unittest.TestCase):
    @parameterized.expand(COMPONENTS)
    def test_noise_of_a_few_ulp_passes(self, name):
        # what another BLAS or numpy version does: every element moved by up to
        # 4 ulp of its array's largest magnitude
        rng = np.random.default_rng(0)

        def noise(key, a):
            if not _is_result(key) or a.dtype.kind != "f":
                return a
            ulp = np.spacing(a.dtype.type(np.abs(a).max()))
            return (a + rng.integers(-4, 5, a.shape) * ulp).astype(a.dtype)

        drifts = _check_changed(name, noise)
        self.assertFalse([d.describe() for d in drifts if d.failed])
        self.assertTrue(any(d.status == "within" for d in drifts), "noise was not applied")

    @parameterized.expand(COMPONENTS)
    def test_one_ulp_input_change_carried_through_float64_passes(self, name):
        def nudge(key, a):
            # 0/1 arrays are masks, whose values are exact by definition
            if _is_result(key) or a.dtype != np.float64 or np.isin(a, (0, 1)).all():
                return a
            return np.nextafter(a, np.inf)

        drifts = _check_changed(name, nudge)
        self.assertFalse([d.describe() for d in drifts if d.failed and d.dtype == "float64"])

    @parameterized.expand(COMPONENTS)
    def test_real_change_fails_in_every_array(self, name):
        def scale(key, a):
            if not _is_result(key) or a.dtype.kind != "f":
                return a
            return (a * a.dtype.type(1 + REAL_CHANGE[str(a.dtype)])).astype(a.dtype)

        drifts = {d.key: d for d in _check_changed(name, scale)}
        for key, frozen in _frozen(name)[0].items():
            if _is_result(key) and frozen.dtype.kind == "f" and np.any(frozen):
                self.assertEqual(drifts[key].status, "beyond", drifts[key].describe())

    def test_report_names_the_array_and_the_size_of_the_change(self):
        target = "ordinary/float64/seed1::dWh"

        def one_element(key, a):
            if key != target:
                return a
            a = a.copy()
            a.flat[int(np.argmax(np.abs(a)))] *= 1 + 1e-6
            return a

        drifts = _check_changed("lstm", one_element)
        arrays = _frozen("lstm")[0]
        failed = [d for d in drifts if d.failed]
        self.assertEqual([d.key for d in failed], [target])
        self.assertAlmostEqual(failed[0].max_rel, 1e-6 / (1 + 1e-6), delta=1e-9)
        worst = np.unravel_index(int(np.argmax(np.abs(arrays[target]))), arrays[target].shape)
        self.assertEqual(failed[0].worst_index, tuple(int(i) for i in worst))
        report = regression.summarize("lstm", drifts)
        self.assertIn(target, report)
        self.assertIn("BEYOND tolerance", report)

    def test_changed_dtype_or_shape_fails(self):
        frozen = np.ones((2, 3))
        self.assertEqual(regression.array_drift("k", frozen.astype(np.float32), frozen).status,
                         "dtype")
        self.assertEqual(regression.array_drift("k", frozen[:1], frozen).status, "shape")


class BrokenFixtures(FixtureCopy):
    def assert_fails_naming(self, path, pattern):
        with self.assertRaisesRegex(regression.FixtureError, pattern) as ctx:
            regression.check(CATALOG["mse_loss"], self.dir)
        self.assertIn(str(path), str(ctx.exception))

    def test_missing(self):
        self.assert_fails_naming(self.dir / "mse_loss.npz", "missing")

    def test_truncated(self):
        self.copy_fixture("mse_loss")
        path = self.dir / "mse_loss.npz"
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        self.assert_fails_naming(path, "corrupt or truncated")

    def test_corrupt_bytes(self):
        self.copy_fixture("mse_loss")
        path = self.dir / "mse_loss.npz"
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        self.assert_fails_naming(path, "corrupt or truncated")

    def test_unreadable_archive_with_matching_checksum(self):
        self.copy_fixture("mse_loss")
        path, manifest_path = regression.paths(self.dir, "mse_loss")
        path.write_bytes(b"not a zip archive")
        self._rewrite_checksum(manifest_path, path)
        self.assert_fails_naming(path, "cannot be read")

    def test_pickled_objects_are_refused(self):
        path, manifest_path = regression.paths(self.dir, "mse_loss")
        self.copy_fixture("mse_loss")
        np.savez_compressed(path, bad=np.array([{"a": 1}], dtype=object))
        self._rewrite_checksum(manifest_path, path)
        self.assert_fails_naming(path, "cannot be read")

    def test_corrupt_manifest(self):
        self.copy_fixture("mse_loss")
        path = self.dir / "mse_loss.json"
        path.write_text("{ not json", encoding="utf-8")
        self.assert_fails_naming(path, "corrupt")

    def test_a_checksum_that_is_a_number(self):
        self.copy_fixture("mse_loss")
        path = self.dir / "mse_loss.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["sha256"] = 12345
        path.write_text(json.dumps(manifest), encoding="utf-8")
        self.assert_fails_naming(path, r"is corrupt \(TypeError: 'sha256' must be a hex string, "
                                       r"got 12345\)")

    @staticmethod
    def _rewrite_checksum(manifest_path, npz_path):
        import hashlib

        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["sha256"] = hashlib.sha256(npz_path.read_bytes()).hexdigest()
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


class Command(FixtureCopy):
    def run_command(self, *args):
        parser = argparse.ArgumentParser()
        fixtures_cli.add_arguments(parser)
        parsed = parser.parse_args(["--dir", str(self.dir), "--only", "sigmoid", *args])
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = fixtures_cli.run(parsed)
        return status, out.getvalue()

    def test_regen_writes_then_leaves_identical_files_alone(self):
        status, out = self.run_command("--regen")
        self.assertEqual(status, 0)
        self.assertIn("written", out)
        before = (self.dir / "sigmoid.npz").read_bytes()
        status, out = self.run_command("--regen")
        self.assertIn("sigmoid: unchanged", out)
        self.assertEqual((self.dir / "sigmoid.npz").read_bytes(), before)
        self.assertEqual(self.run_command()[0], 0)

    def test_check_reports_drift_and_regen_prints_what_changed(self):
        key = "ordinary/float32/seed0::out"
        self.copy_fixture("sigmoid", lambda k, a: a * np.float32(1.001) if k == key else a)
        status, out = self.run_command()
        self.assertEqual(status, 1)
        self.assertIn(f"{key}: max abs", out)
        status, out = self.run_command("--regen")
        self.assertEqual(status, 0)
        self.assertIn(key, out)
        self.assertIn("BEYOND tolerance", out)
        self.assertEqual(self.run_command()[0], 0)


class CatalogModules(unittest.TestCase):
    def test_every_module_of_the_catalog_is_imported(self):
        from torch_ref import catalog

        self.assertEqual(catalog.unlisted_modules(), [])
