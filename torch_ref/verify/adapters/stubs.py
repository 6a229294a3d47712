"""Template stubs as courses hand them out: what "not implemented yet" looks like.

A course's template gives each function a body that does nothing (``next_h, cache =
None, None`` / ``pass`` / ``return next_h, cache``) and sometimes a few lines of its own
around it (``c0 = torch.zeros_like(h0)`` "provided for you"). :func:`is_template` tells
such a body from a student's work by its syntax tree, read by the grader from the
submission's source, never run: the lines the course gives are compared as trees, so
a reformatted line still counts as the course's.
"""
from __future__ import annotations

import ast
import functools

from torch_ref.verify.sources import is_stub_body


@functools.lru_cache(maxsize=256)
def _dumps(snippets: tuple) -> frozenset:
    found = set()
    for snippet in snippets:
        for stmt in ast.parse(snippet).body:
            found.add(ast.dump(stmt))
    return frozenset(found)


def is_template(node, given: tuple = ()) -> bool:
    """Whether the function ``node`` (an ``ast.FunctionDef``) is still its template's stub:
    its body does nothing (:func:`~torch_ref.verify.sources.is_stub_body`) once the
    statements the course gives (``given``: source snippets) are left out."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    known = _dumps(tuple(given))
    body = [stmt for stmt in node.body if ast.dump(stmt) not in known]
    if not body:
        return True
    stripped = ast.FunctionDef(name=node.name, args=node.args, body=body,
                               decorator_list=[], returns=None, type_comment=None)
    return is_stub_body(stripped)


def same_code(node, source: str) -> bool:
    """Whether the function ``node`` has the body of the function in ``source`` (each
    without its docstring), compared as syntax trees: formatting, comments and
    docstrings aside, the very same code."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    (other,) = ast.parse(source).body
    return _body_dump(node) == _body_dump(other)


def _body_dump(node) -> str:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return "\n".join(ast.dump(stmt) for stmt in body)
