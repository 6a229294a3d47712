"""Points, the gradebook, the class summary and its chart.

A rubric gives each user function its points::

    {"default": 1, "points": {"lstm_backward": 3, "sigmoid": 0}}

(JSON, or the same keys in TOML: ``default = 1`` and a ``[points]`` table). A
function earns its points as :func:`torch_ref.status.earns` says (PASS, and WARN
unless ``--strict``); optional functions the module does not define (``n/a``) are
worth nothing unless the rubric names them. The default rubric: one point per
function of the API that is not optional.

Every cell of ``gradebook.csv`` goes through :func:`torch_ref.verify.escape.csv_cell`
and the class summary through :func:`~torch_ref.verify.escape.terminal`: names and
notes come from submissions.
"""
from __future__ import annotations

import csv
import json
import os
from collections import Counter
from dataclasses import dataclass, field

from torch_ref.status import BAD, ERROR, NA, earns
from torch_ref.verify.escape import csv_cell, line, terminal


class RubricError(ValueError):
    """A rubric file that cannot be read or names unknown functions."""


@dataclass
class Rubric:
    """points: user function -> points; default: points of functions not listed."""

    points: dict = field(default_factory=dict)
    default: float = 1.0
    source: str = "default rubric: 1 point per function of the API (optional ones 0)"

    def worth(self, function: str, optional: bool = False) -> float:
        if function in self.points:
            return float(self.points[function])
        return 0.0 if optional else float(self.default)

    def as_dict(self) -> dict:
        """What decides the points (for the digest of a graded submission)."""
        return {"default": float(self.default),
                "points": {k: float(v) for k, v in sorted(self.points.items())}}


def load_rubric(path: str | None, functions) -> Rubric:
    """The rubric in ``path`` (JSON or TOML), checked against the API's ``functions``
    (``[(name, optional)]``); the default rubric when ``path`` is None."""
    if path is None:
        return Rubric()
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise RubricError(f"--rubric {path}: {exc.strerror or exc}") from None
    try:
        if path.endswith(".toml"):
            try:
                import tomllib
            except ImportError:  # Python 3.10
                import tomli as tomllib
            doc = tomllib.loads(raw.decode("utf-8"))
        else:
            doc = json.loads(raw)
    except ImportError:
        raise RubricError(f"--rubric {path}: reading TOML needs Python 3.11 or tomli; "
                          f"use JSON") from None
    except ValueError as exc:
        kind = "TOML" if path.endswith(".toml") else "JSON"
        raise RubricError(f"--rubric {path}: not valid {kind} ({exc})") from None
    if not isinstance(doc, dict) or not set(doc) <= {"points", "default"}:
        raise RubricError(f"--rubric {path}: expected the keys 'points' (function -> "
                          f"points) and 'default'")
    points = doc.get("points", {})
    default = doc.get("default", 1)
    if not isinstance(points, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
            for v in points.values()):
        raise RubricError(f"--rubric {path}: 'points' must map function names to "
                          f"non-negative numbers")
    if not isinstance(default, (int, float)) or isinstance(default, bool) or default < 0:
        raise RubricError(f"--rubric {path}: 'default' must be a non-negative number")
    known = {name for name, _ in functions}
    unknown = sorted(set(points) - known)
    if unknown:
        raise RubricError(f"--rubric {path}: unknown function(s) {', '.join(unknown)}; "
                          f"the API has: {', '.join(sorted(known))}")
    return Rubric(dict(points), float(default), f"rubric {path}")


def score(statuses: dict, functions, rubric: Rubric, strict: bool = False) -> dict:
    """``{"points": {function: earned}, "max": {function: worth}, "total", "max_total"}``
    for ``statuses`` (function -> status) of the API's ``functions``."""
    earned, worth = {}, {}
    for name, optional in functions:
        status = statuses.get(name, ERROR)
        value = rubric.worth(name, optional and status == NA)
        worth[name] = value
        earned[name] = value if earns(status, strict) else 0.0
    return {"points": earned, "max": worth, "total": sum(earned.values()),
            "max_total": sum(worth.values())}


# the gradebook's columns besides the functions' statuses and points
FIRST_COLUMNS = ("submission", "file")
LAST_COLUMNS = ("total", "max_total", "graded", "note")


def write_gradebook(path: str, entries: list, functions) -> None:
    """``gradebook.csv``: one row per submission (its name, the file it came from, the
    status of every function, points, total, whether it was graded and why not);
    ``entries`` as :mod:`torch_ref.verify.grade.job` makes them. Written to a
    temporary file and renamed: a reader never sees half of it."""
    names = [name for name, _ in functions]
    partial = path + ".partial"
    with open(partial, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([*FIRST_COLUMNS, *names, *(f"{n} points" for n in names),
                         *LAST_COLUMNS])
        for entry in entries:
            row = [entry["submission"], os.path.basename(entry["source"]),
                   *(entry["statuses"].get(n, "") for n in names),
                   *(_number(entry["points"].get(n, 0.0)) for n in names),
                   _number(entry["total"]), _number(entry["max_total"]),
                   "yes" if entry["graded"] else "no", entry.get("note", "")]
            writer.writerow([csv_cell(cell) for cell in row])
    os.replace(partial, path)


def _number(value: float) -> str:
    return f"{value:g}"


def class_summary(entries: list, functions) -> dict:
    """What an instructor reads first: of the graded submissions, how many fail each
    function and the commonest hints; how many could not be graded; the scores."""
    names = [name for name, _ in functions]
    failing = {n: Counter() for n in names}
    hints = Counter()
    graded = [e for e in entries if e["graded"]]
    for entry in graded:
        for name, status in entry["statuses"].items():
            if status in BAD and name in failing:
                failing[name][status] += 1
        for hint in set(entry.get("hints", ())):
            hints[hint] += 1
    totals = sorted(e["total"] for e in entries)
    return {"submissions": len(entries), "graded": len(graded),
            "not_graded": [(e["submission"], e.get("note", "")) for e in entries
                           if not e["graded"]],
            "failing": {n: dict(c) for n, c in failing.items()},
            "hints": hints.most_common(10),
            "mean": sum(totals) / len(totals) if totals else 0.0,
            "median": totals[len(totals) // 2] if totals else 0.0,
            "max_total": entries[0]["max_total"] if entries else 0.0,
            "full_marks": sum(1 for e in entries if e["total"] == e["max_total"])}


def format_summary(summary: dict) -> str:
    """The class summary as text, safe to print (names and notes escaped)."""
    n, graded = summary["submissions"], summary["graded"]
    not_graded = summary["not_graded"]
    lines = [f"{n} submission(s); mean {summary['mean']:.2f} / {summary['max_total']:g}, "
             f"median {summary['median']:g}; {summary['full_marks']} with full marks; "
             f"{len(not_graded)} could not be graded", "",
             f"Graded submissions failing each function (of {graded}; "
             f"FAIL / ERROR / MISSING / UNTESTED):"]
    width = max((len(name) for name in summary["failing"]), default=8)
    for name, counts in sorted(summary["failing"].items(),
                               key=lambda item: -sum(item[1].values())):
        total = sum(counts.values())
        detail = ", ".join(f"{counts[s]} {s}" for s in BAD if counts.get(s))
        lines.append(f"  {name.ljust(width)}  {total:3d}/{graded}"
                     + (f"  ({detail})" if detail else ""))
    if summary["hints"]:
        lines += ["", "Most frequent hints (submissions):"]
        lines += [f"  {count:3d}  {hint}" for hint, count in summary["hints"]]
    if not_graded:
        lines += ["", "Could not be graded (0 points; see reports/NAME/report.txt):"]
        lines += [f"  {name}: {line(note)}" for name, note in not_graded]
    return terminal("\n".join(lines))


def plot_summary(path: str, summary: dict) -> bool:
    """A bar chart of failing submissions per function; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = list(summary["failing"])
    statuses = BAD
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(names) + 1.5))
    left = [0] * len(names)
    for status in statuses:
        values = [summary["failing"][n].get(status, 0) for n in names]
        ax.barh(names, values, left=left, label=status)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel(f"graded submissions failing (of {summary['graded']})")
    ax.legend(loc="lower right")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
