"""Importing a module under test and calling into it: ``torch_ref.verify.load.loader``.

NumPy only: runs without torch.
"""
import sys
import tempfile
import textwrap
import time
import unittest
from pathlib import Path

from parameterized import parameterized

from torch_ref.verify.load.loader import (
    CallGuard,
    FunctionTimeout,
    ModuleLoadError,
    describe_exception,
    dotted_name_of,
    load_module,
    unload,
)
from torch_ref.verify.target import module_in_folder  # noqa: E402


class _Files(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.root = Path(self._tmp.name)

    def tearDown(self):
        self._tmp.cleanup()

    def write(self, relative: str, source: str = "") -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        return path

    def package(self, name: str = "DL", value: int = 1) -> Path:
        """``name/layer/recurrent_layers.py`` importing a sibling relatively."""
        self.write(f"{name}/__init__.py")
        self.write(f"{name}/layer/__init__.py")
        self.write(f"{name}/layer/layers_with_weights.py", f"VALUE = {value}\n")
        return self.write(f"{name}/layer/recurrent_layers.py",
                          "from .layers_with_weights import VALUE\n")


class FindingTheModule(_Files):
    def test_package_root_and_dotted_name(self):
        path = self.package()
        self.assertEqual(dotted_name_of(path),
                         (str(self.root.resolve()), "DL.layer.recurrent_layers"))

    def test_plain_file(self):
        path = self.write("hw/rnn_layers.py")
        self.assertEqual(dotted_name_of(path), (str((self.root / "hw").resolve()), "rnn_layers"))

    def test_a_repository_folder_with_an_init_file_is_not_taken_for_a_package(self):
        self.write("my-repo__1a2b/__init__.py")
        path = self.write("my-repo__1a2b/gru.py", "import numpy\n")
        self.assertEqual(dotted_name_of(path),
                         (str((self.root / "my-repo__1a2b").resolve()), "gru"))
        relative = self.write("my-repo__1a2b/cell.py", "from . import gru\n")
        with self.assertRaisesRegex(ModuleLoadError, "not a valid Python module name"):
            dotted_name_of(relative)

    def test_file_name_that_is_not_a_module_name(self):
        with self.assertRaisesRegex(ModuleLoadError, "not a valid Python module name"):
            dotted_name_of(self.write("rnn-layers.py"))

    def test_relative_import_inside_a_package(self):
        loaded = load_module(str(self.package(value=7)))
        try:
            self.assertEqual(loaded.name, "DL.layer.recurrent_layers")
            self.assertEqual(loaded.module.VALUE, 7)
        finally:
            unload(loaded)
        self.assertNotIn("DL", sys.modules)
        self.assertNotIn(loaded.root, sys.path)

    def test_dotted_name_with_path(self):
        self.package(value=3)
        loaded = load_module("DL.layer.recurrent_layers", path=str(self.root))
        try:
            self.assertEqual(loaded.module.VALUE, 3)
        finally:
            unload(loaded)

    def test_same_package_name_from_another_directory_replaces_the_first(self):
        first = load_module(str(self.package(value=1)))
        other = tempfile.TemporaryDirectory()
        try:
            path = Path(other.name) / "DL" / "layer"
            path.mkdir(parents=True)
            (path.parent / "__init__.py").write_text("")
            (path / "__init__.py").write_text("")
            (path / "layers_with_weights.py").write_text("VALUE = 2\n")
            (path / "recurrent_layers.py").write_text("from .layers_with_weights import VALUE\n")
            second = load_module(str(path / "recurrent_layers.py"))
            self.assertEqual(second.module.VALUE, 2)
            unload(second)
        finally:
            unload(first)
            other.cleanup()

    def test_directory_with_a_conventional_file(self):
        self.write("submission/rnn_layers.py", "X = 5\n")
        loaded = load_module(str(self.root / "submission"),
                             conventional_files=("functional.py", "rnn_layers.py"))
        try:
            self.assertEqual(loaded.module.X, 5)
        finally:
            unload(loaded)


class ImportFailures(_Files):
    def test_syntax_error_shows_file_line_and_caret(self):
        path = self.write("bad.py", "def f(x):\n    return (x +\n\nY = 1\n")
        with self.assertRaises(ModuleLoadError) as raised:
            load_module(str(path))
        message = str(raised.exception)
        self.assertRegex(message, rf"^{path}:\d+: SyntaxError")
        self.assertNotIn("Traceback", message)

    def test_indentation_error(self):
        path = self.write("bad_indent.py", "def f():\nreturn 1\n")
        with self.assertRaisesRegex(ModuleLoadError, rf"{path}:2: IndentationError"):
            load_module(str(path))

    def test_exception_at_import_names_the_users_line(self):
        path = self.write("raises.py", "import numpy\n\nraise RuntimeError('no data')\n")
        with self.assertRaisesRegex(ModuleLoadError,
                                    rf"RuntimeError: no data \({path}:3\)"):
            load_module(str(path))
        self.assertNotIn("raises", sys.modules)

    def test_hang_at_import_is_stopped(self):
        path = self.write("hangs.py", "while True:\n    pass\n")
        with CallGuard(0.2) as guard:
            with self.assertRaisesRegex(ModuleLoadError, "did not finish within 0.2 s"):
                load_module(str(path), guard=guard)

    @parameterized.expand([("numpy",), ("torch_ref",)])
    def test_names_taken_by_installed_modules_are_refused(self, name):
        self.write(f"{name}/__init__.py")
        with self.assertRaisesRegex(ModuleLoadError, name):
            load_module(str(self.root / name / "__init__.py"))

    def test_missing_file(self):
        with self.assertRaisesRegex(ModuleLoadError, "no such file"):
            load_module(str(self.root / "absent.py"))


class Calls(unittest.TestCase):
    def test_time_limit_stops_a_loop_and_remembers_it(self):
        def spin():
            while True:
                try:
                    while True:
                        pass
                except Exception:  # a user's blanket except does not swallow the stop
                    pass

        with CallGuard(0.2) as guard:
            start = time.perf_counter()
            with self.assertRaises(FunctionTimeout) as raised:
                guard.run("spin", spin)
            self.assertLess(time.perf_counter() - start, 5)
            self.assertEqual(raised.exception.verify_function, "spin")
            start = time.perf_counter()
            with self.assertRaisesRegex(FunctionTimeout, "not called again"):
                guard.run("spin", spin)
            self.assertLess(time.perf_counter() - start, 0.1)

    def test_exceptions_name_the_user_function_and_line(self):
        def user_code():
            return [][1]

        with CallGuard(5) as guard:
            try:  # not assertRaises: it drops the traceback the location comes from
                guard.run("rnn_forward", user_code)
            except IndexError as exc:
                raised = exc
        self.assertEqual(raised.verify_function, "rnn_forward")
        self.assertRegex(describe_exception(raised),
                         r"^IndexError: list index out of range \(.*test_verify_loader.py:\d+\)$")

    def test_output_is_captured(self):
        with CallGuard(None) as guard:
            self.assertEqual(guard.run("f", lambda: print("hello") or 3), 3)
        self.assertEqual(guard.output.getvalue(), "hello\n")


class DirectoryTargets(_Files):
    """A folder given as --module: its conventional file, else its only module or notebook."""

    def test_a_conventional_file_comes_first(self):
        self.write("work/other.py")
        notebook = self.write("work/course.ipynb", "{}")
        self.assertEqual(module_in_folder(str(self.root / "work"), ("course.ipynb",)),
                         str(notebook))

    @parameterized.expand([("module", "rnn.py"), ("notebook", "rnn.ipynb")])
    def test_the_only_module_or_notebook_is_chosen(self, _, name):
        self.write("work/__init__.py")
        chosen = self.write(f"work/{name}")
        self.assertEqual(module_in_folder(str(self.root / "work"), ("rnn_layers.py",)),
                         str(chosen))

    def test_several_candidates_are_listed(self):
        self.write("work/a.py")
        self.write("work/b.py")
        with self.assertRaisesRegex(ModuleLoadError, r"holds a\.py, b\.py"):
            module_in_folder(str(self.root / "work"), ("rnn_layers.py",))

    def test_a_conventional_file_below_is_found_the_shallowest_first(self):
        self.write("work/notes.py")
        deep = self.write("work/a/b/cs231n/rnn_layers.py")
        shallow = self.write("work/assignment3/cs231n/rnn_layers.py")
        self.assertEqual(module_in_folder(str(self.root / "work"), ("rnn_layers.py",)),
                         str(shallow))
        self.assertNotEqual(shallow, deep)

    def test_a_name_with_more_of_its_path_wins_over_a_bare_one_at_the_same_depth(self):
        self.write("work/lib/mlp/layer_utils.py")
        rnn = self.write("work/lib/rnn/layer_utils.py")
        self.assertEqual(module_in_folder(str(self.root / "work"),
                                          ("layer_utils.py", "lib/rnn/layer_utils.py")),
                         str(rnn))
