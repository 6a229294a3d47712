"""The one status vocabulary of every check, function, report and gradebook row.

A tensor comparison is PASS, WARN, FAIL or ERROR. A user function gets one of:

=========  ===========================================================================
PASS       every check passed
WARN       right values from hazardous code (see ``WARNING_KINDS`` of the engine);
           ``--strict`` makes it a failure
FAIL       a wrong value or gradient
ERROR      it raised, hung, crashed its process or answered in the wrong form
MISSING    not defined, or still the template (not implemented)
UNTESTED   could not be checked: what it needs is missing, not implemented or raised
n/a        optional in the course and not defined (or still the optional template)
=========  ===========================================================================

:func:`earns` is the only rule for "this function earns its points"; :func:`passes`
the only rule for "this run succeeds".
"""
from __future__ import annotations

PASS, WARN, FAIL, ERROR = "PASS", "WARN", "FAIL", "ERROR"
MISSING, UNTESTED, NA = "MISSING", "UNTESTED", "n/a"

# every status of a function, in the order reports count them
FUNCTION_STATUSES = (PASS, WARN, FAIL, ERROR, MISSING, UNTESTED, NA)
# statuses that mean "something is wrong with the submission"
BAD = (FAIL, ERROR, MISSING, UNTESTED)


def earns(status: str, strict: bool = False) -> bool:
    """Whether a function with ``status`` earns its points (and does not fail the run):
    PASS, or WARN unless ``strict``. ``n/a`` earns nothing and fails nothing."""
    return status == PASS or (status == WARN and not strict)


def passes(status: str, strict: bool = False) -> bool:
    """Whether ``status`` lets a run exit 0: :func:`earns`, or ``n/a``."""
    return status == NA or earns(status, strict)
