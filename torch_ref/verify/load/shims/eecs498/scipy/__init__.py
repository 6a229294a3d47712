"""Stand-in for SciPy where it is not installed: the course's a4_helper imports
``scipy.ndimage.filters.gaussian_filter1d`` at the top for image smoothing, which the
recurrent layers checked here never use."""
