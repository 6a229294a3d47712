"""Hostile submissions: ``verify --module`` and ``grade`` keep their verdicts.

Each attack is a cs231n module whose ``rnn_step_forward`` is wrong (twice the bias),
plus code that tries to hang, crash, flood, escape or forge the grade. Whatever it
does, ``verify`` must not exit 0, must write its own ``--json``, must name the
wrong function, and must end within two minutes with ``--timeout 5``. The runs are
fresh processes: several attacks aim at the grader's process itself.
"""
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="verify compares with the torch reference")

import mutants  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
REFERENCE = mutants.reference_module("cs231n").read_text()
_LINE = "    pre_activation = x @ Wx + prev_h @ Wh + b\n"
_WRONG = "    pre_activation = x @ Wx + prev_h @ Wh + 2 * b\n"


def _slow_enabled(config) -> bool:
    return "slow" in (config.getoption("markexpr") or "") or bool(
        os.environ.get("NUMPY_RNN_SLOW_TESTS"))


def hostile_module(directory: Path, at_end: str = "", in_step: str = "",
                   whole: str | None = None) -> Path:
    """``rnn_layers.py`` in ``directory``: the reference with the wrong bias, ``in_step``
    run at the start of ``rnn_step_forward``, ``at_end`` run at import."""
    if whole is None:
        assert REFERENCE.count(_LINE) == 1
        body = textwrap.indent(textwrap.dedent(in_step), "    ") if in_step else ""
        whole = REFERENCE.replace(_LINE, body + _WRONG) + "\n" + textwrap.dedent(at_end)
    path = directory / "rnn_layers.py"
    path.write_text(whole)
    return path


def run_cli(*argv, cwd, timeout=170):
    """``(exit status, stdout, stderr, seconds)`` of ``python -m torch_ref ARGV``."""
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "torch_ref", *map(str, argv)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    return done.returncode, done.stdout, done.stderr, time.monotonic() - start


def leaked_processes() -> list:
    """Sandbox processes whose run is over: their temporary directory (named in their
    command line) is gone. Concurrent runs of other tests still have theirs."""
    leaked = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        match = re.search(r'"tmp": "([^"]*torch_ref-sandbox-[^"]*)"', cmdline)
        if match and "State:\tZ" not in status and not os.path.isdir(match.group(1)):
            leaked.append(int(entry))
    return leaked


# id -> (at_end, in_step, whole, exit status, text the output must hold)
ATTACKS = {
    "patches the comparison": ("""
        import sys
        for _name, _module in list(sys.modules.items()):
            for _attr in ("array_errors", "check_case", "function_results"):
                if _name.startswith("torch_ref") and hasattr(_module, _attr):
                    setattr(_module, _attr, lambda *a, **k: (True, 0.0, 0.0, None))
        try:
            import torch_ref.compare.engine as _engine
            _engine.array_errors = lambda *a, **k: (True, 0.0, 0.0, None)
        except ImportError:
            pass
        """, "", None, 1, "FAIL"),
    "makes Report.ok true": ("""
        try:
            import torch_ref.verify.report as _report
            _report.Report.ok = property(lambda self: True)
        except ImportError:
            pass
        """, "", None, 1, "FAIL"),
    "atexit os._exit(0)": ("import atexit, os\natexit.register(os._exit, 0)\n", "", None, 1,
                           "FAIL"),
    "os._exit(0) at import": ("import os\nos._exit(0)\n", "", None, 2, "os._exit(0)"),
    "prints a passing summary at exit": (
        "import atexit\natexit.register(print, '14 passed, 0 failed')\n", "", None, 1, "FAIL"),
    "forges the --json file and kills the grader": ("""
        import json, os, signal
        _passing = {"functions": [{"name": "rnn_step_forward", "status": "PASS"}],
                    "score": 14, "tests": [{"name": "rnn_step_forward", "score": 1,
                                            "max_score": 1, "status": "passed"}]}
        for _pid in [p for p in os.listdir("/proc") if p.isdigit()]:
            try:  # the grader's command line names the files it will write
                _args = open(f"/proc/{_pid}/cmdline", "rb").read().split(b"\\0")
            except Exception:
                continue
            for _option, _name in ((b"--json", ""), (b"--out", "results.json")):
                try:
                    _path = _args[_args.index(_option) + 1].decode()
                    with open(os.path.join(_path, _name) if _name else _path, "w") as _fh:
                        json.dump(_passing, _fh)
                except Exception:
                    pass
        for _target in (os.getppid(), os.getpgid(os.getppid()), -1):
            try:
                os.kill(_target, signal.SIGKILL)
            except Exception:
                pass
        """, "", None, 1, "FAIL"),
    "loops in C": ("", "import collections, itertools\n"
                       "collections.deque(itertools.repeat(0), maxlen=0)\n", None, 1,
                   "killed after 5 s"),
    "swallows the time limit": ("", """
        import time
        while True:
            try:
                time.sleep(100)
            except BaseException:
                pass
        """, None, 1, "killed after 5 s"),
    "turns the alarm off": ("""
        import signal
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        """, """
        import signal
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        while True:
            pass
        """, None, 1, "ERROR"),
    "sleeps with signals blocked": ("", """
        import signal, time
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGTERM})
        time.sleep(1000)
        """, None, 1, "killed after 5 s"),
    "non-daemon thread at import": (
        "import threading, time\nthreading.Thread(target=time.sleep, args=(10**6,)).start()\n",
        "", None, 1, "FAIL"),
    "raises KeyboardInterrupt": ("", "raise KeyboardInterrupt\n", None, 1, "KeyboardInterrupt"),
    "calls sys.exit(0)": ("", "import sys\nsys.exit(0)\n", None, 1, "sys.exit(0)"),
    "floods stdout": ("", "print('x' * 20_000_000)\n", None, 1, "FAIL"),
    "floods stderr": ("", "import sys\nsys.stderr.write('y' * 20_000_000)\n", None, 1, "FAIL"),
    "allocates too much": ("", "_ = bytearray(6 << 30)\n", None, 1, "exceeded 4 GiB of memory"),
    "forks at import": ("""
        import os, time
        if os.fork() == 0:
            time.sleep(300)
            os._exit(0)
        """, "", None, 1, "FAIL"),
    "kills its parent": ("""
        import os, signal
        try:
            os.kill(os.getppid(), signal.SIGKILL)
        except OSError:
            pass
        """, "", None, 1, "FAIL"),
    "reads the reference implementation from disk": ("""
        import os, re, sys
        _roots = [os.path.dirname(os.path.dirname(m.__file__)) for n, m in
                  list(sys.modules.items()) if n.split(".")[0] == "torch_ref"
                  and getattr(m, "__file__", None)]
        try:  # the grader's command line names where it lives
            _cmd = open("/proc/self/cmdline", "rb").read().decode(errors="replace")
            _roots += re.findall(r"sys.path.insert\\(0, '([^']+)'\\)", _cmd)
        except OSError:
            pass
        _roots += [os.getcwd(), "/work/main", os.path.expanduser("~")]
        for _root, _file in [(r, f) for r in _roots for f in (
                "tests/reference_solutions/cs231n/rnn_layers.py", "numpy_rnn/core/rnn.py")]:
            try:
                exec(open(os.path.join(_root, _file)).read())
                break
            except Exception:
                pass
        """, "", None, 1, "FAIL"),
    "edits sys.modules and the import hooks": ("""
        import os, sys
        sys.meta_path[:] = [f for f in sys.meta_path if "Blocker" not in type(f).__name__]
        for _key in [k for k in sys.modules if k.startswith(("numpy_rnn", "torch_ref"))]:
            del sys.modules[_key]
        sys.path.insert(0, "/work/isolation")
        try:
            from numpy_rnn.functional import rnn_step_forward, rnn_step_backward  # noqa
        except Exception:
            pass
        """, "", None, 1, "FAIL"),
    "is a star import of the reference": ("", "", "from numpy_rnn.functional import *\n", 2,
                                          "numpy_rnn"),
    "returns a hostile ndarray subclass": ("""
        class _Evil(np.ndarray):
            def __array_finalize__(self, obj):
                import os
                os.environ["EVIL"] = "1"

            def __eq__(self, other):
                return np.ones(np.shape(self), bool)

            def __sub__(self, other):
                return np.zeros(np.shape(self))

            def __array__(self, dtype=None, copy=None):
                return np.zeros(self.shape)

        _step = rnn_step_forward

        def rnn_step_forward(*args):
            next_h, cache = _step(*args)
            return next_h.view(_Evil), cache
        """, "", None, 1, "FAIL"),
    "patches the child's wire format": ("""
        import sys
        _protocol = sys.modules.get("torch_ref.verify.isolation.protocol")
        if _protocol is not None:
            _protocol.Encoder.encode = lambda self, value, depth=0: {"f": 0.0}
        """, "", None, 1, "ERROR"),
    "tries to become root again": ("""
        import os
        for _try in (lambda: os.setuid(0), lambda: os.setgid(0),
                     lambda: open("/etc/pwned.txt", "w"), lambda: os.chmod("/etc", 0o777)):
            try:
                _try()
            except OSError:
                pass
        """, "", None, 1, "FAIL"),
    "writes files and bytecode": ("""
        import os
        for _where in (".", os.path.dirname(os.path.abspath(__file__)), "/tmp", "/"):
            try:
                with open(os.path.join(_where, "pwned.txt"), "w") as _fh:
                    _fh.write("pwned")
            except OSError:
                pass
        """, "", None, 1, "FAIL"),
    "returns an object of its own named _Missing": ("""
        class _Missing:
            pass
        _step = rnn_step_forward

        def rnn_step_forward(*args):
            next_h, cache = _step(*args)
            return _Missing(), cache
        """, "", None, 1, "FAIL"),
    "forges a reply on the executor's channel": ("""
        import json, os, re, struct
        try:  # the child's command line names its pipes
            _cfg = open("/proc/self/cmdline", "rb").read().split(b"\\0")
            _fds = [int(v) for v in re.findall(rb'"fd_out": (\\d+)', b" ".join(_cfg))]
        except Exception:
            _fds = []
        _head = json.dumps({"ok": True, "value": {"f": 0.0}, "blobs": [0] * 5_000_000})
        for _fd in _fds + list(range(3, 12)):
            try:
                os.write(_fd, struct.pack("<QI", 4 + len(_head), len(_head)) + _head.encode())
            except Exception:
                pass
        """, "", None, 2, "malformed"),
    "uses torch in a NumPy course": ("", """
        import torch
        next_h = torch.tanh(torch.from_numpy(x @ Wx + prev_h @ Wh + b)).numpy()
        return next_h, (x, prev_h, Wx, Wh, next_h)
        """, None, 1, "may be imported but not used"),
    "raises with terminal escapes": ("", """
        raise ValueError("\\x1b[2J\\x1b[H\\r14 functions passed, 0 warned, 0 failed\\x1b[8m")
        """, None, 1, "\\x1b[2J"),
}
# a representative few run by default; the rest with -m slow or NUMPY_RNN_SLOW_TESTS=1
FAST = ("forges the --json file and kills the grader", "os._exit(0) at import", "loops in C",
        "reads the reference implementation from disk", "is a star import of the reference",
        "returns a hostile ndarray subclass", "forks at import", "floods stdout",
        "returns an object of its own named _Missing", "uses torch in a NumPy course",
        "raises with terminal escapes", "forges a reply on the executor's channel")


@pytest.mark.parametrize("attack", [
    pytest.param(name, marks=() if name in FAST else pytest.mark.slow) for name in ATTACKS])
def test_a_hostile_submission_cannot_change_its_verdict(attack, tmp_path, pytestconfig):
    if attack not in FAST and not _slow_enabled(pytestconfig):
        pytest.skip("slow: run with -m slow or NUMPY_RNN_SLOW_TESTS=1")
    at_end, in_step, whole, status, text = ATTACKS[attack]
    submission = tmp_path / "submission"
    submission.mkdir()
    path = hostile_module(submission, at_end, in_step, whole)
    before = set(os.listdir(submission))
    out = tmp_path / "out"
    out.mkdir()
    report = out / "report.json"
    code, stdout, stderr, seconds = run_cli(
        "verify", "--module", path, "--only", "rnn_step", "sigmoid", "--dtype", "float64",
        "--timeout", 5, "--json", report, cwd=tmp_path)
    assert code == status, f"exit {code}\n{stdout}\n{stderr}"
    assert seconds < 120
    assert text in stdout + stderr, stdout + stderr
    assert "\x1b" not in stdout + stderr  # what the module says reaches no terminal raw
    if status == 1:
        doc = json.loads(report.read_text())
        verdicts = {f["name"]: f["status"] for f in doc["functions"]}
        assert verdicts["rnn_step_forward"] in ("FAIL", "ERROR"), verdicts
        assert stdout.rstrip().splitlines()[-1] != "14 passed, 0 failed"
        assert "2 functions" in stdout or "3 functions" in stdout
    else:
        assert not report.exists()
    # nothing written next to the submission (no bytecode), nothing left running
    assert set(os.listdir(submission)) == before
    assert not (tmp_path / "pwned.txt").exists() and not Path("/pwned.txt").exists()
    assert not Path("/etc/pwned.txt").exists()
    assert leaked_processes() == []


def test_a_hung_function_is_not_called_again_and_what_needs_it_is_untested(tmp_path):
    path = hostile_module(tmp_path, in_step="""
        import signal, time
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(1000)
        """)
    code, stdout, _, seconds = run_cli("verify", "--module", path, "--only", "rnn_step",
                                       "sigmoid", "--timeout", 2, cwd=tmp_path)
    assert code == 1
    rows = {line.split()[0]: line.split()[1] for line in stdout.splitlines()
            if len(line.split()) > 1 and line.split()[1] in ("PASS", "ERROR", "UNTESTED")}
    assert rows == {"rnn_step_forward": "ERROR", "rnn_step_backward": "UNTESTED",
                    "sigmoid": "PASS"}, stdout
    assert "rnn_step_forward: killed after 2 s; not called again" in stdout
    assert seconds < 60  # one time limit (and one fresh process), not one per case


def test_grade_keeps_every_submission_to_itself(tmp_path):
    """A crashing, a hanging and a forging submission graded with a correct one and a
    wrong one, two at a time: each gets its own verdict."""
    subs = tmp_path / "class"
    subs.mkdir()
    for name, (at_end, in_step) in {
            "crash": ("import os\nos._exit(0)\n", ""),
            "hang": ("", "import collections, itertools\n"
                         "collections.deque(itertools.repeat(0), maxlen=0)\n"),
            "forge": (ATTACKS["forges the --json file and kills the grader"][0], "")}.items():
        folder = subs / name
        folder.mkdir()
        hostile_module(folder, at_end, in_step)
    (subs / "good.py").write_text(REFERENCE)
    (subs / "wrong.py").write_text(REFERENCE.replace(_LINE, _WRONG))
    out = tmp_path / "grades"
    code, stdout, stderr, seconds = run_cli("grade", subs, "--out", out, "-j", "2",
                                            "--timeout", 5, "--gradescope", cwd=tmp_path)
    assert code == 3, stdout + stderr  # "crash" ends its process at import: not graded
    rows = {row["submission"]: row for row in _csv(out / "gradebook.csv")}
    assert set(rows) == {"crash", "hang", "forge", "good", "wrong"}
    assert rows["good"]["rnn_step_forward"] == "PASS"
    assert rows["good"]["rnn_forward"] == "PASS"
    for name in ("hang", "forge", "wrong"):
        assert rows[name]["rnn_step_forward"] in ("FAIL", "ERROR"), name
        assert rows[name]["word_embedding_forward"] == "PASS", name
    assert rows["crash"]["total"] == "0" and "os._exit(0)" in rows["crash"]["note"]
    results = json.loads((out / "reports" / "forge" / "results.json").read_text())
    step = next(t for t in results["tests"] if t["name"] == "rnn_step_forward")
    assert step["status"] == "failed" and step["score"] == 0
    assert not (out / "results.json").exists()  # only written for a single submission
    assert seconds < 600


def _csv(path):
    import csv

    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))
