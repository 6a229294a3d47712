"""What went wrong in a call into a submission, in the report's words.

Three things can stop a call: the submission's code raised (a
:class:`~torch_ref.verify.isolation.client.UserError`, rebuilt from the executor's
facts), it answered but not the way its API says (:class:`ApiMismatch`, raised by
an adapter in the grader), or its process died, hung or misbehaved
(:class:`~torch_ref.verify.isolation.client.ExecutorGone`). :func:`explain` turns
any of them into the function to blame, a status and a message; an exception that
is none of these is verify's own fault (:class:`InternalError`), never the
student's.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch_ref.status import ERROR, FAIL
from torch_ref.verify.isolation.client import ExecutorGone, UserError
from torch_ref.verify.load.loader import describe_exception, user_location


class ApiMismatch(Exception):
    """The module answered, but not the way its API says (None, wrong count, no key).

    function: the user function at fault; returned_none: it returned None where its
    API returns values (a template stub, unless it did something else first).
    """

    def __init__(self, function: str, message: str, returned_none: bool = False):
        super().__init__(message)
        self.verify_function = function
        self.returned_none = returned_none


class InternalError(Exception):
    """verify itself failed while checking a function (an adapter's or the engine's
    bug): reported as verify's fault, with its own exit status."""

    def __init__(self, function: str, exc: BaseException):
        import traceback

        where = traceback.extract_tb(exc.__traceback__)
        place = f" at {where[-1].filename}:{where[-1].lineno}" if where else ""
        super().__init__(f"verify could not check {function}: internal error "
                         f"{type(exc).__name__}: {exc}{place}")
        self.verify_function = function
        self.original = exc


@dataclass(frozen=True)
class Explanation:
    """function: the user function to blame; status: FAIL or ERROR; message; stub: the
    function is still the template (returns None, raises NotImplementedError, or
    returns names its template body never sets)."""

    function: str
    status: str
    message: str
    stub: bool = False
    internal: bool = False


def explain(exc: BaseException, fallback: str, sources=None) -> Explanation:
    """The :class:`Explanation` of ``exc`` raised while calling ``fallback`` (the user
    function the grader was calling when nothing more precise is known). ``sources``
    (:class:`~torch_ref.verify.sources.Sources`) tells a template stub's NameError."""
    function = getattr(exc, "verify_function", None) or fallback
    if isinstance(exc, InternalError):
        return Explanation(function, ERROR, str(exc), internal=True)
    if isinstance(exc, ExecutorGone):
        culprit = exc.function or function
        return Explanation(culprit, ERROR, f"{culprit}: {exc.reason}; not called again"
                           if exc.fatal else exc.reason)
    if isinstance(exc, ApiMismatch):
        return Explanation(function, ERROR, str(exc), stub=exc.returned_none)
    if isinstance(exc, UserError):
        return Explanation(function, *_user_error(exc), stub=_left_unimplemented(exc,
                                                                                  sources))
    # none of the submission's doing: an adapter or the engine failed on what it got
    return Explanation(function, ERROR, str(InternalError(function, exc)), internal=True)


def _user_error(exc: UserError) -> tuple:
    if exc.kind == "timeout" or exc.kind == "refused":
        where = exc.where if exc.kind == "timeout" else ""
        return ERROR, exc.message + (f" at {where}" if where and where != "?" else "")
    if exc.kind == "floating-point":
        return FAIL, (f"floating-point error inside {exc.function}: {exc.message} "
                      f"({exc.where}); overflow, invalid operations and division by zero "
                      f"are errors here, as they would poison training")
    if exc.kind == "exit":
        return ERROR, f"called sys.exit({exc.code!r}) ({exc.where})"
    return ERROR, describe_exception(exc)


def _left_unimplemented(exc: UserError, sources) -> bool:
    """A template stub as handed out: it raises NotImplementedError, or a NameError in a
    body that only sets names to None, passes and returns (some handouts' stubs)."""
    if exc.type_name == "NotImplementedError" and exc.kind == "builtin":
        return True
    if exc.type_name == "NameError" and exc.frame is not None and sources is not None:
        return sources.is_stub(exc.frame[0], exc.frame[1])
    return False


def describe(exc: BaseException) -> str:
    """``Type: message (file:line)`` of any exception out of a call."""
    if isinstance(exc, (ApiMismatch, InternalError)):
        return str(exc)
    if isinstance(exc, ExecutorGone):
        return exc.reason
    return describe_exception(exc)


__all__ = ["ApiMismatch", "Explanation", "InternalError", "describe", "explain",
           "user_location"]
