"""Hostile children against the sandbox itself, at every confinement level that runs here.

Each attack is a small script run as the child of a
:class:`~torch_ref.verify.isolation.sandbox.Sandbox` (not through ``verify``): it waits
for one request, attacks, and answers what it managed. Each test asserts that the
attack failed and that nothing of the sandbox is left afterwards (processes, its
folder, System V IPC objects). The levels: ``bubblewrap`` (skipped where user
namespaces are refused) and ``fallback`` (forced). Run as root, the child is an
unprivileged uid; :func:`test_the_attacks_fail_for_a_normal_user_too` runs this file
again as ``nobody`` (slow; it needs a Python other users can read).
"""
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from torch_ref.verify.isolation import allowlist, sandbox
from torch_ref.verify.isolation.sandbox import ChildFailure, Limits, Sandbox

REPO = Path(__file__).resolve().parent.parent
ROOT = os.geteuid() == 0
KEY = 0x5EED0000 + os.getpid() % 0xFFFF  # System V IPC key of these attacks

PRELUDE = '''
import ctypes, errno, json, os, struct, sys, time
CONFIG = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)

def request():
    """Wait for the grader's request (the start signal)."""
    data = b""
    while len(data) < 12:
        chunk = os.read(CONFIG["fd_in"], 1 << 16)
        if not chunk:
            os._exit(0)
        data += chunk

def reply(**values):
    head = json.dumps(dict(values, blobs=[])).encode()
    os.write(CONFIG["fd_out"], struct.pack("<QI", 4 + len(head), len(head)) + head)

def attempt(function):
    try:
        function()
        return "done"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    except Exception as exc:
        return type(exc).__name__

def name(token):
    libc.prctl(15, token.encode()[:15], 0, 0, 0)   # PR_SET_NAME: findable in /proc
'''


def _bubblewrap_missing():
    try:
        level, _, why = sandbox.level("bubblewrap", 65534 if ROOT else None)
    except sandbox.SandboxUnavailable as exc:
        return str(exc)
    return None if level == "bubblewrap" else why


@pytest.fixture(params=["bubblewrap", "fallback"])
def level(request):
    if request.param == "bubblewrap":
        why = _bubblewrap_missing()
        if why:
            pytest.skip(f"bubblewrap cannot run here: {why}")
    return request.param


def _processes_named(token: str) -> list:
    found = []
    for comm in Path("/proc").glob("[0-9]*/task/[0-9]*/comm"):
        try:
            if comm.read_text().strip() == token[:15]:
                found.append(comm)
        except OSError:
            pass
    return found


def _processes_mentioning(text: str) -> list:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            status = (cmdline.parent / "status").read_text()
            if text.encode() in cmdline.read_bytes() and "State:\tZ" not in status:
                found.append(cmdline)
        except OSError:
            pass
    return found


def _ipc_with_key(key: int) -> list:
    found = []
    for kind in ("shm", "msg", "sem"):
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
        except OSError:
            continue
        found += [(kind, line) for line in lines if line.split() and
                  int(line.split()[0]) & 0xFFFFFFFF == key]
    return found


class Attack:
    """One child running ``body`` (after :data:`PRELUDE`) at ``level``."""

    def __init__(self, tmp_path, level, body, limits=None, **config):
        self.token = "sbx" + uuid.uuid4().hex[:10]
        submission = tmp_path / f"submission-{self.token}"
        submission.mkdir()
        (submission / "attack.py").write_text(PRELUDE + textwrap.dedent(body))
        limits = limits or Limits(timeout=10, memory=1 << 30)
        self.box = Sandbox(dataclasses.replace(limits, confinement=level), str(submission),
                           entry="torch_ref.verify.isolation.confine:run_script",
                           child_config=dict(config, script="attack.py", token=self.token),
                           preload=())

    def __enter__(self):
        self.box.start()
        self.host, self.world = self.box.host, self.box.world
        return self

    def run(self, limit=20.0, cpu=None):
        """The child's answer, or the ChildFailure that ended it."""
        try:
            return self.box.request({"op": "go"}, limit=limit, cpu=cpu)[0]
        except ChildFailure as exc:
            return exc

    def __exit__(self, *exc):
        self.box.close()
        assert not os.path.exists(self.host), "the sandbox's folder is left"
        assert _processes_named(self.token) == [], "a process of the sandbox is left"
        # (the launcher's configuration names its world; other graders on this machine
        # may list the folder among theirs)
        left = _processes_mentioning(json.dumps({"world": self.world})[1:-1])
        assert left == [], ("a process of the sandbox is left",
                            [[ln for ln in (p.parent / "status").read_text().splitlines()
                              if ln.split(":")[0] in ("Pid", "PPid", "Uid", "State", "Umask")]
                             + [p.read_bytes()[:300]] for p in left])
        assert _ipc_with_key(KEY) == [], "System V IPC objects are left"


def test_the_level_is_named_with_what_it_does_not_cover(tmp_path, level):
    with Attack(tmp_path, level, "request(); reply(uid=os.getuid())") as attack:
        answer = attack.run()
        confinement = attack.box.confinement
    assert confinement.level == level and confinement.name.startswith(level)
    assert confinement.does_not_cover.startswith("does not cover")
    if level == "fallback":
        assert "seccomp" in confinement.name and "Landlock" in confinement.name
    if ROOT:
        assert answer["uid"] != 0 and f"uid {answer['uid']}" in confinement.name


def _shared_folder() -> str:
    """A folder everybody may traverse (pytest's own is private to its user)."""
    folder = tempfile.mkdtemp(prefix="sbx-shared-")
    os.chmod(folder, 0o755)
    return folder


def test_other_users_files_and_the_graders_files_cannot_be_read(tmp_path, level):
    shared = _shared_folder()
    home_canary = os.path.join(os.path.expanduser("~"), f".sbx-canary-{os.getpid()}")
    try:
        Path(home_canary).write_text("the grader's secret")  # the grader's own 0600 file
        os.chmod(home_canary, 0o600)
        canary = os.path.join(shared, "canary")       # another user's 0600 file
        Path(canary).write_text("secret")
        os.chmod(canary, 0o600)
        if ROOT:
            os.chown(canary, 12345, 12345)
        sibling = os.path.join(shared, "other-submission")  # readable by everybody
        os.mkdir(sibling, 0o755)
        Path(sibling, "rnn_layers.py").write_text("ANSWER = 42\n")
        os.chmod(os.path.join(sibling, "rnn_layers.py"), 0o644)
        paths = [canary, "/etc/shadow", sibling, os.path.join(sibling, "rnn_layers.py"),
                 str(REPO / "numpy_rnn" / "core" / "rnn.py"), str(REPO / "tests"),
                 str(REPO / "fixtures"), str(REPO / ".git"), str(REPO / "torch_ref" / "catalog"),
                 str(REPO / "torch_ref" / "compare"),
                 home_canary]
        body = """
            request()
            def read(path):
                if os.path.isdir(path):
                    return os.listdir(path)
                with open(path, "rb") as fh:
                    return fh.read(1)
            def write(path):
                with open(path, "w") as fh:
                    fh.write("pwned")
            reply(read={p: attempt(lambda p=p: read(p)) for p in CONFIG["paths"]},
                  own=attempt(lambda: read(os.__file__)),
                  write={p: attempt(lambda p=p: write(p)) for p in CONFIG["writes"]},
                  here=attempt(lambda: write("mine.txt")))
        """
        writes = [os.path.join(sibling, "pwned.txt"), str(REPO / "pwned.txt"), "/tmp/pwned.txt",
                  os.path.join(shared, "pwned.txt")]
        with Attack(tmp_path, level, body, paths=paths, writes=writes) as attack:
            answer = attack.run()
        assert answer["own"] == "done" and answer["here"] == "done", answer
        assert [p for p, how in answer["read"].items() if how == "done"] == [], answer
        assert [p for p, how in answer["write"].items() if how == "done"] == [], answer
        assert not any(os.path.exists(p) for p in writes)
    finally:
        shutil.rmtree(shared)
        if os.path.exists(home_canary):
            os.remove(home_canary)


def test_no_message_leaves_by_network_or_unix_socket(tmp_path, level):
    shared = _shared_folder()
    listeners = []
    try:
        agent_path = os.path.join(shared, "agent.sock")   # an ssh-agent-like socket
        agent = socket.socket(socket.AF_UNIX)
        agent.bind(agent_path)
        os.chmod(agent_path, 0o777)
        agent.listen(4)
        abstract = socket.socket(socket.AF_UNIX)
        abstract.bind("\0" + os.path.basename(shared))
        abstract.listen(4)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        tcp = socket.socket(socket.AF_INET)
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(4)
        listeners = [agent, abstract, udp, tcp]
        for s in listeners:
            s.setblocking(False)
        body = """
            import socket
            request()
            def unix(address):
                s = socket.socket(socket.AF_UNIX)
                s.connect(address)
                s.sendall(b"hello")
            def udp():
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
                    b"hello", ("127.0.0.1", CONFIG["udp"]))
            def tcp():
                socket.create_connection(("127.0.0.1", CONFIG["tcp"]), timeout=2).sendall(b"x")
            def pair():
                socket.socketpair()
            reply(agent=attempt(lambda: unix(CONFIG["agent"])),
                  abstract=attempt(lambda: unix("\\0" + CONFIG["abstract"])),
                  udp=attempt(udp), tcp=attempt(tcp), pair=attempt(pair))
        """
        with Attack(tmp_path, level, body, agent=agent_path, abstract=os.path.basename(shared),
                    udp=udp.getsockname()[1], tcp=tcp.getsockname()[1]) as attack:
            answer = attack.run()
        assert all(how != "done" for how in answer.values() if how != []), answer
        for listener in (agent, abstract, tcp):
            with pytest.raises(BlockingIOError):
                listener.accept()
        with pytest.raises(BlockingIOError):
            udp.recv(100)
    finally:
        for s in listeners:
            s.close()
        shutil.rmtree(shared)


def test_system_v_ipc_is_refused_or_dies_with_the_sandbox(tmp_path, level):
    body = """
        request()
        key = CONFIG["key"]
        reply(shm=libc.shmget(key, 4096, 0o1666), msg=libc.msgget(key, 0o1666),
              sem=libc.semget(key, 1, 0o1666))
    """
    with Attack(tmp_path, level, body, key=KEY) as attack:
        answer = attack.run()
        assert _ipc_with_key(KEY) == [], answer  # never in the grader's IPC namespace
    if level == "fallback":  # no IPC namespace: refused outright
        assert answer == {"shm": -1, "msg": -1, "sem": -1, "blobs": []}


def test_a_setsid_double_fork_does_not_outlive_the_sandbox(tmp_path, level):
    body = """
        request()
        def grandchild():
            pid = os.fork()
            if pid == 0:
                os.setsid()
                if os.fork() == 0:
                    name(CONFIG["token"])
                    time.sleep(120)
                os._exit(0)
            os.waitpid(pid, 0)
        reply(fork=attempt(grandchild))
    """
    with Attack(tmp_path, level, body) as attack:
        answer = attack.run()
        if answer["fork"] == "done":
            time.sleep(0.3)
    if level == "fallback":
        assert answer["fork"] == "EPERM"


def test_a_leader_that_exits_while_a_thread_runs_does_not_outlive_the_sandbox(tmp_path, level):
    body = """
        import threading
        request()
        def loop():
            name(CONFIG["token"])
            while True:
                time.sleep(0.05)
        threading.Thread(target=loop).start()
        time.sleep(0.2)
        reply(started=True)
        libc.pthread_exit(None)   # the main thread (the leader) ends; the thread runs on
    """
    with Attack(tmp_path, level, body) as attack:
        assert attack.run() == {"started": True, "blobs": []}
        time.sleep(0.3)
        assert _processes_named(attack.token), "the attack did not run"


def test_memory_is_capped_across_processes(tmp_path, level):
    body = """
        request()
        readers = []
        for _ in range(3):
            r, w = os.pipe()
            try:
                pid = os.fork()
            except OSError as exc:
                reply(forked=len(readers), error=exc.errno)
                break
            if pid == 0:
                block = bytearray(300 << 20)          # under the limit, each
                for i in range(0, len(block), 4096):
                    block[i] = 1
                os.write(w, b"x")
                time.sleep(60)
                os._exit(0)
            readers.append(r)
        else:
            done = [os.read(r, 1) for r in readers]
            time.sleep(0.5)
            reply(forked=3, allocated=len(done))
    """
    limits = Limits(timeout=30, memory=640 << 20)
    with Attack(tmp_path, level, body, limits) as attack:
        answer = attack.run(limit=30)
    if isinstance(answer, ChildFailure):
        assert "memory" in answer.reason, answer.reason
    else:
        assert answer.get("allocated", 0) * 300 < 640, answer
        assert level == "fallback" and answer["forked"] == 0


def test_disk_is_capped_across_files(tmp_path, level):
    body = """
        request()
        written = 0
        for n in range(20):
            try:
                with open(f"file{n}", "wb") as fh:
                    for _ in range(16):
                        fh.write(b"x" * (1 << 20))
                        written += 1 << 20
            except OSError as exc:
                reply(written=written, error=errno.errorcode[exc.errno])
                break
        else:
            reply(written=written)
    """
    limits = Limits(timeout=30, disk=64 << 20, file_size=16 << 20)
    with Attack(tmp_path, level, body, limits) as attack:
        answer = attack.run(limit=30)
    if isinstance(answer, ChildFailure):
        assert "files" in answer.reason, answer.reason
    else:
        assert answer["written"] <= 64 << 20, answer


def test_processes_are_capped(tmp_path, level):
    body = """
        request()
        started = 0
        for _ in range(100):
            try:
                if os.fork() == 0:
                    name(CONFIG["token"])
                    time.sleep(60)
                    os._exit(0)
                started += 1
            except OSError:
                break
        reply(started=started)
    """
    limits = Limits(timeout=30, processes=16)
    with Attack(tmp_path, level, body, limits) as attack:
        answer = attack.run()
    assert answer["started"] < 16, answer
    if level == "fallback":
        assert answer["started"] == 0


def test_unreadable_folders_are_removed_with_the_sandbox(tmp_path, level):
    body = """
        request()
        os.makedirs("a/b/c")
        open("a/b/c/f", "w").write("x")
        os.chmod("a/b", 0)
        os.chmod("a", 0)
        os.makedirs(os.path.join(CONFIG["submission"], "d/e"))
        os.chmod(os.path.join(CONFIG["submission"], "d"), 0)
        reply(done=True)
    """
    with Attack(tmp_path, level, body) as attack:
        assert attack.run()["done"]
    # __exit__ checks that the sandbox's folder is gone


@pytest.fixture
def usr1_count():
    count = []
    previous = signal.signal(signal.SIGUSR1, lambda *_: count.append(1))
    yield count
    signal.signal(signal.SIGUSR1, previous)


def test_the_grader_cannot_be_signalled_or_traced(tmp_path, level, usr1_count):
    body = """
        import signal
        request()
        grader, group = CONFIG["grader"], CONFIG["group"]
        reply(grader=attempt(lambda: os.kill(grader, signal.SIGUSR1)),
              group=attempt(lambda: os.killpg(group, signal.SIGUSR1)),
              everybody=attempt(lambda: os.kill(-1, signal.SIGUSR1)),
              parent=attempt(lambda: os.kill(os.getppid(), signal.SIGUSR1)),
              ptrace_parent=libc.ptrace(16, os.getppid(), 0, 0),
              ptrace_grader=libc.ptrace(16, grader, 0, 0))
    """
    with Attack(tmp_path, level, body, grader=os.getpid(), group=os.getpgid(0)) as attack:
        answer = attack.run()
        time.sleep(0.2)
    assert usr1_count == [], answer
    assert answer["grader"] != "done" and answer["group"] != "done", answer
    assert answer["ptrace_parent"] == -1 and answer["ptrace_grader"] == -1, answer


def test_printing_progress_lines_does_not_restart_the_timer(tmp_path, level):
    body = """
        request()
        n = 0
        while True:
            n += 1
            print(f"{n} rnn_step_forward", flush=True)
            time.sleep(0.2)
    """
    with Attack(tmp_path, level, body) as attack:
        start = time.monotonic()
        failure = attack.run(limit=1.5)
        seconds = time.monotonic() - start
    assert isinstance(failure, ChildFailure) and failure.reason == "killed after 1.5 s"
    assert seconds < 3.5, seconds


def test_cpu_time_of_every_process_counts(tmp_path, level):
    body = """
        import threading
        request()
        def spin():
            while True:
                pass
        for _ in range(2):
            threading.Thread(target=spin, daemon=True).start()
        time.sleep(30)
    """
    with Attack(tmp_path, level, body) as attack:
        start = time.monotonic()
        failure = attack.run(limit=30, cpu=1)
        seconds = time.monotonic() - start
    assert isinstance(failure, ChildFailure), failure
    assert failure.reason == "killed after using 1 s of CPU", failure.reason
    assert seconds < 10, seconds


def test_start_up_has_its_own_limit_and_a_broken_start_is_reported(tmp_path, level):
    body = "raise SystemExit('no')"
    attack = Attack(tmp_path, level, body)
    attack.box.entry = "torch_ref.verify.isolation.nothing_here:main"
    with pytest.raises(ChildFailure, match="could not start"):
        attack.box.start()
    assert attack.box.process is None


def test_refused_user_namespaces_fall_back_and_say_why(tmp_path, monkeypatch):
    refuse = tmp_path / "bwrap"
    refuse.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\n"
                      "exit 1\n")
    refuse.chmod(0o755)
    monkeypatch.setenv("TORCH_REF_BWRAP", str(refuse))
    monkeypatch.delenv("TORCH_REF_CONFINEMENT", raising=False)
    if ROOT:
        shared = _shared_folder()   # the sandbox uid runs the probe: it must reach it
        shutil.copy(refuse, shared)
        monkeypatch.setenv("TORCH_REF_BWRAP", os.path.join(shared, "bwrap"))
    with pytest.raises(sandbox.SandboxUnavailable, match="No permissions"):
        sandbox.level("bubblewrap", 65534 if ROOT else None)
    with Attack(tmp_path, "auto", "request(); reply(ok=True)") as attack:
        assert attack.run()["ok"]
    assert attack.box.confinement.level == "fallback"
    assert "No permissions" in attack.box.why_not_bubblewrap
    if ROOT:
        shutil.rmtree(shared)


# ---- the same as a normal user ---------------------------------------------------------

def _python_for_everybody():
    candidate = os.environ.get("NUMPY_RNN_USER_PYTHON") or sys.executable
    base = subprocess.run([candidate, "-c", "import sys; print(sys.base_prefix)"],
                          capture_output=True, text=True).stdout.strip()
    if allowlist.reachable(candidate) and base and allowlist.reachable(base):
        return candidate
    return None


@pytest.mark.slow
def test_the_attacks_fail_for_a_normal_user_too(tmp_path, pytestconfig):
    if not ROOT:
        pytest.skip("this run is already a normal user's")
    if not ("slow" in (pytestconfig.getoption("markexpr") or "")
            or os.environ.get("NUMPY_RNN_SLOW_TESTS")):
        pytest.skip("slow: run with -m slow or NUMPY_RNN_SLOW_TESTS=1")
    python = _python_for_everybody()
    if python is None or shutil.which("setpriv") is None:
        pytest.skip("needs setpriv and a Python other users can read (NUMPY_RNN_USER_PYTHON)")
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python, "-m", "pytest",
         "-q", "-p", "no:cacheprovider", "-x", str(Path(__file__)), "-k", "not normal_user"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, HOME="/tmp", PYTHONPATH=str(REPO)))
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
    assert " passed" in done.stdout
    json.dumps(done.stdout)  # plain text


@pytest.mark.parametrize("allow_torch", [False, True], ids=["torch hidden", "torch allowed"])
def test_numpy_nbformat_and_torch_when_allowed_import(tmp_path, level, allow_torch):
    pytest.importorskip("torch")
    body = """
        request()
        import numpy, nbformat
        def torch_sum():
            import torch
            return float(torch.ones(3).sum())
        try:
            total = torch_sum()
        except ImportError as exc:
            total = type(exc).__name__
        reply(numpy=float(numpy.ones(3).sum()), nbformat=nbformat.__name__, torch=total)
    """
    attack = Attack(tmp_path, level, body)
    attack.box.allow_torch = allow_torch
    with attack:
        answer = attack.run(limit=60)
    assert answer["numpy"] == 3.0 and answer["nbformat"] == "nbformat", answer
    assert answer["torch"] == (3.0 if allow_torch else "ModuleNotFoundError"), answer


# ---- the allow-list itself ---------------------------------------------------------------

def _exposes(allowed, path: str) -> bool:
    path = os.path.realpath(path)
    for tree in allowed.trees:
        for source, _ in tree.paths():
            if path == source or path.startswith(source.rstrip("/") + "/"):
                relative = os.path.relpath(path, tree.source)
                if not any(relative == e or relative.startswith(e + "/") for e in tree.exclude):
                    return True
    return False


def test_the_allow_list_never_holds_the_reference_or_the_graders_output(tmp_path):
    from torch_ref.verify.isolation.client import CHILD_FILES

    out = REPO / "grades-out"
    allowed = allowlist.allow_list(sandbox.LAUNCHER_FILES + CHILD_FILES, hidden=(str(out),))
    for never in ("numpy_rnn/__init__.py", "numpy_rnn/core/rnn.py", "numpy_rnn/core/lstm.py",
                  "numpy_rnn/core/validation.py", "torch_ref/catalog/__init__.py",
                  "torch_ref/compare/engine.py", "torch_ref/verify/adapters/base.py",
                  "torch_ref/verify/run.py", "torch_ref/layout.py", "fixtures", "tests", ".git",
                  "grades-out"):
        assert not _exposes(allowed, str(REPO / never)), never
    for needed in ("torch_ref/verify/load/loader.py", "torch_ref/verify/isolation/child.py",
                   "torch_ref/verify/isolation/confine.py"):
        assert _exposes(allowed, str(REPO / needed)), needed
    torch = pytest.importorskip("torch")
    assert not _exposes(allowed, torch.__file__)
    assert _exposes(allowlist.allow_list((), allow_torch=True), torch.__file__)
    for wrong in ("tests", "numpy_rnn", "fixtures/golden", "/etc"):
        with pytest.raises(ValueError):
            allowlist.allow_list((wrong,))


@pytest.mark.parametrize("entry, package", [
    ("torch-2.13.0+cpu.dist-info", "torch"), ("__editable__.numpy_rnn-0.1.0.pth", "numpy_rnn"),
    ("__editable___numpy_rnn_0_1_0_finder.py", "numpy_rnn"), ("numpy", "numpy"),
    ("numpy.libs", "numpy"), ("torch_ref", "torch_ref"), ("typing_extensions.py",
                                                         "typing_extensions")])
def test_site_packages_entries_are_named_by_their_package(entry, package):
    assert allowlist.package_of(entry) == package
