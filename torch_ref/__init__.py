"""PyTorch side of numpy-rnn: weight conversion, reference runs, comparison, verify.

``torch_ref.layout`` holds every fact about how the NumPy layout maps onto
``torch.nn`` modules; ``torch_ref.catalog`` describes each component once;
``torch_ref.compare.engine`` compares two runs tensor by tensor. Importing this package
does not import torch: modules that need it import it themselves.
"""
