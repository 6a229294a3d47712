"""PyTorch side of numpy-rnn: weight conversion, reference runs, comparison, verify.

``torch_ref.layout`` holds every fact about how the NumPy layout maps onto
``torch.nn`` modules; ``torch_ref.catalog`` describes each component once;
``torch_ref.compare.engine`` compares two runs tensor by tensor. Importing this package
does not import torch: modules that need it import it themselves.

:func:`verify_module` checks a hand-written module from Python (a notebook): the
report it returns lists every function's status and problem, has ``to_json()`` and
shows as a table in Jupyter.
"""


def verify_module(module, api: str = "auto", **options):
    """Check a hand-written module (a module object, or the path of its file) in this
    process; its :class:`~torch_ref.verify.report.Report`.

    options: ``only``, ``seed``, ``dtypes``, ``timeout`` (seconds per call), ``reuse``,
    ``golden``, ``path`` (the directory a dotted name is imported from). For code you
    do not trust, use ``python -m torch_ref verify --module`` or ``grade``: they run it
    in a confined child process.
    """
    from torch_ref.verify.python_api import verify_module as verify

    return verify(module, api, **options)
