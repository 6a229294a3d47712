"""Text from a submission made harmless where it is shown.

Everything a submission can make the grader print (exception messages, names it
defines, what it printed) passes through one of these before it reaches a terminal,
a CSV cell or an HTML page:

- :func:`terminal`: control characters (escape sequences, carriage returns, backspaces)
  and bidirectional overrides become visible ``\\x1b``-style escapes; newlines and tabs
  stay, so multi-line messages keep their shape;
- :func:`line`: :func:`terminal`, and newlines too (one-line fields);
- :func:`csv_cell`: a cell a spreadsheet will not run as a formula (a leading ``=``,
  ``+``, ``-``, ``@``, tab or carriage return gets a ``'`` before it);
- :func:`html`: :func:`terminal`, then HTML-escaped.
"""
from __future__ import annotations

import html as _html
import re
import unicodedata

# C0/C1 controls but tab and newline; DEL
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _visible(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _bidi_or_invisible(char: str) -> bool:
    # Cf: format characters (bidi overrides and isolates, zero-width joiners ...)
    return unicodedata.category(char) in ("Cf", "Co", "Cs")


def terminal(text) -> str:
    """``text`` with every control, bidi and invisible format character escaped."""
    text = _CONTROL.sub(lambda m: _visible(m.group()), str(text))
    if text.isascii():
        return text
    return "".join(_visible(c) if _bidi_or_invisible(c) else c for c in text)


def line(text) -> str:
    """:func:`terminal` on one line: newlines and tabs escaped too."""
    return terminal(text).replace("\n", "\\n").replace("\t", "\\t")


def csv_cell(value) -> str:
    """A CSV cell that no spreadsheet evaluates, with no control characters."""
    text = str(value)
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return line(text)


def html(text) -> str:
    """Text for an HTML page: escaped for the terminal, then for HTML."""
    return _html.escape(terminal(text))
