"""Stand-in for scipy.ndimage (see scipy/__init__.py)."""
from scipy.ndimage.filters import gaussian_filter1d  # noqa: F401
