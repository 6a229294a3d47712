"""What a sandboxed child may read: an allow-list, shared by both confinement levels.

:func:`allow_list` names every tree the child needs and nothing else:

- the interpreter and its standard library (``sys.base_prefix``; the virtual
  environment's ``pyvenv.cfg`` and interpreter), the system's shared libraries
  (``/usr/lib``, ``/lib*``) and the dynamic loader's files in ``/etc``;
- every site-packages directory of this interpreter, entry by entry, minus the
  grader's own packages (``numpy_rnn``, ``torch_ref``, their metadata and editable
  hooks) and minus ``torch`` (and ``torchgen``, ``functorch``) unless the course
  computes in torch; every other site-packages or dist-packages directory inside an
  allowed tree is hidden;
- the files of the grader the child imports (``child_files``: files or trees, chosen
  by the caller) and their cached bytecode;
- a few system files: ``/etc/localtime``, CPU facts under ``/sys`` (torch reads them).

Bubblewrap binds exactly these (read-only); the fallback gives Landlock the same list.
Nothing else of the machine exists for the child: not the project's ``numpy_rnn``,
``torch_ref/catalog``, ``torch_ref/compare``, ``fixtures``, ``tests`` or ``.git``, not
other users' files, not other submissions.

A tree the sandbox user cannot reach (a Python under ``/root`` when the grader is
root and the child runs as an unprivileged uid) is given to the child as a *mirror*:
a tree of hard links (copies across file systems) in a root-owned cache folder that
the sandbox user can traverse. Each file keeps its own permissions, so the child
reads exactly what the tree's permissions grant everybody; only the closed folders
above the tree no longer stand in the way. Bubblewrap binds the mirror at the
original path; the fallback runs from the mirror.
"""
from __future__ import annotations

import glob
import hashlib
import importlib.util
import json
import os
import re
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass, field

GRADER_PACKAGES = ("numpy_rnn", "torch_ref")
TORCH_PACKAGES = ("torch", "torchgen", "functorch")
# never exposed, whatever the caller asks (relative to the project checkout)
NEVER = ("numpy_rnn", "torch_ref/catalog", "torch_ref/compare", "torch_ref/bench",
         "torch_ref/verify/adapters", "torch_ref/verify/grade", "fixtures", "tests", ".git")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d")
SYSTEM_LIBRARIES = ("/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32", "/usr/local/lib",
                    "/lib", "/lib64", "/lib32", "/libx32")
CPU_FACTS = ("/sys/devices/system/cpu",)
_SITE_PATTERNS = ("python3*/site-packages", "python3*/dist-packages", "python3/dist-packages",
                  "lib*/python3*/site-packages", "lib*/python3*/dist-packages",
                  "lib/python3/dist-packages", "local/lib*/python3*/site-packages",
                  "local/lib*/python3*/dist-packages", "Lib/site-packages")


@dataclass(frozen=True)
class Tree:
    """A tree the child may read: ``source`` on this machine, seen at ``dest``.

    include: paths relative to ``source`` that are exposed (None: all of it);
    exclude: relative paths hidden inside it (only with ``include`` None)."""

    source: str
    dest: str
    include: tuple | None = None
    exclude: tuple = ()

    def paths(self) -> list:
        """``(source path, dest path)`` of each exposed part."""
        if self.include is None:
            return [(self.source, self.dest)]
        return [(os.path.join(self.source, p), os.path.join(self.dest, p))
                for p in self.include]


@dataclass
class AllowList:
    """The trees (read-only), the links to recreate (``/lib -> usr/lib``), the
    interpreter and the site directories, as the child sees them."""

    trees: list = field(default_factory=list)
    symlinks: list = field(default_factory=list)   # (target, path)
    executable: str = ""
    site_dirs: list = field(default_factory=list)
    project_root: str = ""
    moved: dict = field(default_factory=dict)  # tree source -> (its mirror, parts or None)

    def rules(self) -> list:
        """``(path on this machine, "read" or "list")`` for Landlock: every exposed path
        readable, every folder above an exposed part listable (Python's import system
        lists the folders it imports from), hidden parts left out."""
        out: list = []
        for tree in self.trees:
            if tree.include is None and tree.exclude:
                excluded = tuple(os.path.join(tree.source, e) for e in tree.exclude)
                _readable_except(tree.source, excluded, out.append)
                continue
            for source, _ in tree.paths():
                out.append((source, "read"))
            if tree.include is not None:
                folders = {tree.source}
                for relative in tree.include:
                    parent = os.path.dirname(relative)
                    while parent:
                        folders.add(os.path.join(tree.source, parent))
                        parent = os.path.dirname(parent)
                out.extend((f, "list") for f in sorted(folders))
        return out


def _readable_except(root: str, excluded: tuple, add) -> None:
    """``add((path, "read"))`` for ``root`` or, when an excluded path lies inside it,
    ``add((root, "list"))`` and the same for each of its entries but the excluded ones
    (descending only along excluded paths)."""
    if root in excluded:
        return
    inside = [e for e in excluded if e.startswith(root.rstrip("/") + "/")]
    if not inside:
        add((root, "read"))
        return
    add((root, "list"))
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return
    for entry in entries:
        path = os.path.join(root, entry)
        if os.path.islink(path):
            continue  # reached through its target when that is allowed
        _readable_except(path, excluded, add)


def package_of(entry: str) -> str:
    """The import name a site-packages entry belongs to (``torch-2.13.0.dist-info`` ->
    ``torch``; ``__editable__.numpy_rnn-0.1.0.pth`` -> ``numpy_rnn``)."""
    name = entry
    for prefix in ("__editable___", "__editable__."):
        if name.startswith(prefix):  # ``__editable___numpy_rnn_0_1_0_finder.py``
            name = re.split(r"[-_.][0-9]", name[len(prefix):])[0]
    for suffix in (".dist-info", ".egg-info", ".egg-link", ".libs", ".pth", ".py", ".pyc"):
        if name.endswith(suffix):
            name = name[:-len(suffix)]
    name = name.split("-")[0].split(".")[0]
    return name.lower().replace("-", "_")


def site_dirs() -> list:
    """This interpreter's site directories (real paths, existing, in ``sys.path`` order)."""
    import site

    found = []
    candidates = list(sys.path)
    try:
        candidates += site.getsitepackages()
    except AttributeError:
        pass
    for path in candidates:
        if path and os.path.basename(path.rstrip("/")) in ("site-packages", "dist-packages") \
                and os.path.isdir(path):
            real = os.path.realpath(path)
            if real not in found:
                found.append(real)
    return found


def project_root() -> str:
    """The folder holding the ``torch_ref`` package (a checkout or a site directory)."""
    spec = importlib.util.find_spec("torch_ref")
    return os.path.dirname(os.path.realpath(list(spec.submodule_search_locations)[0]))


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _site_dirs_in(root: str, known: list) -> list:
    found = {d for d in known if _inside(d, root) and d != root}
    for pattern in _SITE_PATTERNS:
        found.update(os.path.realpath(p) for p in glob.glob(os.path.join(root, pattern))
                     if os.path.isdir(p))
    return sorted(p for p in found if _inside(p, root) and p != root)


def _with_bytecode(root: str, relative: str) -> list:
    """``relative`` and, for a Python file, its cached bytecode when present."""
    out = [relative]
    if relative.endswith(".py"):
        cached = importlib.util.cache_from_source(os.path.join(root, relative))
        if os.path.isfile(cached):
            out.append(os.path.relpath(cached, root))
    return out


def allow_list(child_files=(), allow_torch: bool = False, hidden=()) -> AllowList:
    """The allow-list for a child that imports ``child_files`` (paths of the grader's
    files or trees, absolute or relative to the project root). ``hidden``: more paths
    never exposed (the grader's output folder)."""
    allowed = AllowList()
    sites = site_dirs()
    hidden_packages = GRADER_PACKAGES + (() if allow_torch else TORCH_PACKAGES)
    root = project_root()
    reference = tuple(os.path.join(root, n) for n in NEVER)
    never = reference + tuple(os.path.realpath(h) for h in hidden if h)

    def tree(path, skip=()):
        real = os.path.realpath(path)
        if not os.path.exists(real):
            return
        exclude = set(skip)
        exclude.update(os.path.relpath(s, real) for s in _site_dirs_in(real, sites)
                       if s not in allowed.site_dirs)
        exclude.update(os.path.relpath(n, real) for n in never if _inside(n, real)
                       and n != real and os.path.lexists(n))
        allowed.trees.append(Tree(real, real, None, tuple(sorted(exclude))))

    # site-packages: whole, minus the grader's packages (and torch) and what is never
    # shown; the trees holding them are masked below
    for site in sites:
        try:
            entries = sorted(os.listdir(site))
        except OSError:
            continue
        allowed.site_dirs.append(site)
        tree(site, [e for e in entries if package_of(e) in hidden_packages])
    # the system: shared libraries, the loader's files, CPU facts
    for path in SYSTEM_LIBRARIES:
        if os.path.islink(path):
            allowed.symlinks.append((os.readlink(path), path))
        elif os.path.isdir(path):
            tree(path)
    etc = tuple(os.path.relpath(p, "/etc") for p in SYSTEM_FILES if os.path.exists(p))
    allowed.trees.append(Tree("/etc", "/etc", etc))
    for path in CPU_FACTS:
        tree(path)
    # the interpreter, its standard library and its virtual environment
    base = os.path.realpath(sys.base_prefix)
    if not any(_inside(base, t.source) for t in allowed.trees):
        tree(base)
    allowed.executable = os.path.abspath(sys.executable)
    if os.path.realpath(sys.prefix) != base:
        venv = os.path.abspath(sys.prefix)
        config = os.path.join(venv, "pyvenv.cfg")
        if os.path.isfile(config):
            allowed.trees.append(Tree(config, config))
        allowed.trees.append(Tree(os.path.realpath(sys.executable), allowed.executable))
    # the grader's own files the child imports
    files = []
    for path in child_files:
        full = os.path.realpath(os.path.join(root, path))
        if not _inside(full, root):
            raise ValueError(f"child file {path} is outside the project ({root})")
        relative = os.path.relpath(full, root)
        if any(_inside(full, n) or _inside(n, full) for n in reference):
            raise ValueError(f"child file {path} would expose what the child may never read")
        if os.path.isdir(full):
            for here, dirs, names in os.walk(full):
                dirs[:] = [d for d in dirs if d != "__pycache__"]
                for name in names:
                    if not name.endswith((".pyc", ".pyo")):
                        files += _with_bytecode(root, os.path.relpath(os.path.join(here, name),
                                                                      root))
        elif os.path.isfile(full):
            files += _with_bytecode(root, relative)
    if files:
        allowed.trees.append(Tree(root, root, tuple(dict.fromkeys(files))))
    allowed.project_root = root
    return allowed


# ---- reaching the trees as another user ---------------------------------------------

def reachable(path: str) -> bool:
    """Whether a user who owns nothing here can reach ``path`` (every folder above it
    searchable by others) and read it (readable by others)."""
    path = os.path.realpath(path)
    parts = path.split("/")
    for i in range(1, len(parts)):
        folder = "/".join(parts[:i]) or "/"
        try:
            mode = os.stat(folder).st_mode
        except OSError:
            return False
        if not mode & stat.S_IXOTH:
            return False
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return bool(mode & stat.S_IROTH)


def mirror_folder() -> str:
    """A root-owned cache folder that others can traverse (created when missing)."""
    for base in ("/var/tmp", tempfile.gettempdir()):
        if not os.path.isdir(base):
            continue
        folder = os.path.join(base, f"torch_ref-sandbox-mirror-{os.geteuid()}")
        try:
            os.mkdir(folder, 0o755)
        except FileExistsError:
            pass
        except OSError:
            continue
        info = os.lstat(folder)
        if (stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
                and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
            os.chmod(folder, 0o755)
            return folder
    raise OSError("no folder for a mirror of the Python installation the sandbox user "
                  "can reach (/var/tmp or the temporary folder)")


def _stamp(source: str, include) -> str:
    parts = [source, json.dumps(include)]
    for relative in include if include is not None else ("",):
        try:
            info = os.stat(os.path.join(source, relative))
            parts.append(f"{relative}:{info.st_ino}:{info.st_mtime_ns}:{info.st_size}")
        except OSError:
            parts.append(f"{relative}:-")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def _link_tree(source: str, target: str, skip: tuple) -> None:
    """Hard links (copies across file systems) of ``source`` under ``target``, folder
    modes kept, ``skip`` (absolute paths) left out."""
    info = os.lstat(source)
    if source in skip:
        return
    if stat.S_ISLNK(info.st_mode):
        os.symlink(os.readlink(source), target)
    elif stat.S_ISDIR(info.st_mode):
        os.mkdir(target, 0o700)
        for entry in os.listdir(source):
            _link_tree(os.path.join(source, entry), os.path.join(target, entry), skip)
        os.chmod(target, stat.S_IMODE(info.st_mode))
    elif stat.S_ISREG(info.st_mode):
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)


def mirror(tree: Tree) -> Tree:
    """``tree`` as a mirror the sandbox user can reach (see the module's docstring);
    built once and kept while the tree does not change."""
    folder = mirror_folder()
    name = os.path.basename(tree.source.rstrip("/")) or "root"
    key = _stamp(tree.source, tree.include) + "-" + hashlib.sha256(
        json.dumps(tree.exclude).encode()).hexdigest()[:8]
    target = os.path.join(folder, f"{name}-{key}")
    if not os.path.exists(target):
        building = tempfile.mkdtemp(prefix=".building-", dir=folder)
        try:
            os.chmod(building, 0o755)
            copy = os.path.join(building, name)
            skip = tuple(os.path.join(tree.source, e) for e in tree.exclude)
            if tree.include is None:
                _link_tree(tree.source, copy, skip)
            else:
                os.mkdir(copy, 0o755)
                for relative in tree.include:
                    source = os.path.join(tree.source, relative)
                    if not os.path.lexists(source):
                        continue
                    parent = os.path.dirname(os.path.join(copy, relative))
                    os.makedirs(parent, 0o755, exist_ok=True)
                    _link_tree(source, os.path.join(copy, relative), skip)
            try:
                os.rename(copy, target)
            except OSError:
                if not os.path.isdir(target):  # another grader built it meanwhile
                    raise
        finally:
            shutil.rmtree(building, ignore_errors=True)
    # the mirror holds exactly what was exposed: nothing left to exclude; a tree given
    # file by file is bound by its top-level entries (other trees may lie beside them)
    if tree.include is None:
        return Tree(target, tree.dest)
    tops = tuple(dict.fromkeys(p.split("/")[0] for p in tree.include
                               if os.path.lexists(os.path.join(tree.source, p))))
    return Tree(target, tree.dest, tops)


def for_user(allowed: AllowList, stage=()) -> AllowList:
    """``allowed`` with every tree a user who owns nothing cannot reach mirrored (as
    root) and the trees given file by file whose source is in ``stage`` (the
    project's files, ``/etc``) mirrored too: bubblewrap then binds each of them at once
    (each bind costs start-up time), Landlock allows the mirror (the folders of the
    project no longer need to be listable)."""
    out = AllowList(symlinks=list(allowed.symlinks), executable=allowed.executable,
                    site_dirs=list(allowed.site_dirs), project_root=allowed.project_root)
    moved = {}
    for tree in allowed.trees:
        sources = [src for src, _ in tree.paths()]
        staged = tree.source in stage and tree.include is not None
        if not staged and (os.geteuid() != 0 or all(
                reachable(s) or not os.path.lexists(s) for s in sources)):
            out.trees.append(tree)
            continue
        copy = mirror(tree)
        moved[tree.source] = (copy.source, copy.include)
        out.trees.append(copy)
    out.moved = moved
    return out


def moved_path(allowed: AllowList, path: str) -> str:
    """Where ``path`` (inside an allowed tree) is read from after :func:`for_user`."""
    for source, (copy, tops) in sorted(allowed.moved.items(), key=lambda kv: -len(kv[0])):
        if not _inside(path, source):
            continue
        relative = os.path.relpath(path, source)
        if tops is None or relative == "." or relative.split("/")[0] in tops:
            return copy + path[len(source):]
    return path
