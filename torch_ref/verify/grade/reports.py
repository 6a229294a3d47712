"""One submission's report files, ``OUT/reports/NAME/``, and finding finished ones.

- ``report.txt``: the report as ``verify --module`` prints it, then the points;
- ``report.json``: the gradebook entry, the digest of what was graded, the report as
  JSON, each function's detail text (written last, renamed into place: its presence
  with the right digest marks the submission as finished);
- ``results.json``: Gradescope's file (``--gradescope``).

Text from the submission (exception messages, names) is in all of them: ``report.txt``
and ``results.json`` get it through :func:`torch_ref.verify.escape.terminal`, and JSON
escapes control characters itself.
"""
from __future__ import annotations

import json
import os

from torch_ref.verify.escape import terminal
from torch_ref.verify.grade import gradescope

FORMAT = 2  # of report.json; part of every digest


def write(folder: str, entry: dict, text: str, report, details: dict, *, rubric_source: str,
          functions, gradescope_file: bool, strict: bool) -> None:
    """Write the report files of one submission into ``folder`` (replacing any)."""
    os.makedirs(folder, exist_ok=True)
    points = "\n".join(f"  {name}: {entry['points'][name]:g} / {entry['max'][name]:g}"
                       for name, _ in functions if entry["max"].get(name))
    _atomic(os.path.join(folder, "report.txt"),
            terminal(f"{text}\n\npoints ({rubric_source}):\n{points}\n"
                     f"total: {entry['total']:g} / {entry['max_total']:g}\n"))
    if gradescope_file:
        write_gradescope(folder, entry, details, text, strict)
    doc = {"format": FORMAT, "digest": entry.get("digest"), "entry": entry, "text": text,
           "details": details, "report": report}
    _atomic(os.path.join(folder, "report.json"), json.dumps(doc, indent=1))


def write_gradescope(folder: str, entry: dict, details: dict, text: str,
                     strict: bool) -> None:
    _atomic(os.path.join(folder, "results.json"),
            json.dumps(gradescope.results(entry, details, text, strict), indent=1))


def finished(folder: str, digest: str):
    """``(entry, text, details)`` of the report in ``folder`` when it was made from the
    same content and settings (``digest``) and can be reused; else None."""
    try:
        with open(os.path.join(folder, "report.json"), encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not digest \
            or doc.get("digest") != digest:
        return None
    entry, details = doc.get("entry"), doc.get("details")
    if not isinstance(entry, dict) or not isinstance(details, dict) or entry.get("retry") \
            or not isinstance(doc.get("text"), str):
        return None
    return entry, doc["text"], details


def _atomic(path: str, text: str) -> None:
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(partial, path)
