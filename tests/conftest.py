"""Shared test configuration: hypothesis profiles, ``--force-regen`` and markers.

Hypothesis profiles (choose with ``--hypothesis-profile=NAME``): ``ci`` (the
default) 300 examples per fuzzed component, the same sequence on every run;
``quick`` 25; ``thorough`` 5,000, random.
"""
import os

# submissions under test, never tests of ours: collecting them would import their
# packages (a course's own tests/test_gru.py imports blg561) into the test process
collect_ignore_glob = ["student_corpus/*", "reference_solutions/*"]

# The tests multiply tiny matrices: extra BLAS/OpenMP threads only contend with each
# other and with pytest-xdist workers (torch runs ~25x slower with 2 threads on 2 busy
# cores). Set before numpy or torch is imported; an explicit setting wins.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# ... and in case a plugin imported numpy before this file: limit the loaded BLAS too
from numpy_rnn.cli.threads import apply_threads  # noqa: E402

apply_threads(None)

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # hypothesis is a test extra; without it the fuzz tests skip
    settings = None

if settings is not None:
    _COMMON = dict(deadline=None, print_blob=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    # derandomize: every run draws the same examples, so the suite never fails by chance
    settings.register_profile("ci", max_examples=300, derandomize=True, database=None,
                              **_COMMON)
    settings.register_profile("quick", max_examples=25, **_COMMON)
    settings.register_profile("thorough", max_examples=5000, **_COMMON)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser, pluginmanager):
    # pytest-regressions, when installed, defines the same option with the same meaning
    if not pluginmanager.hasplugin("regressions"):
        parser.getgroup("regressions").addoption(
            "--force-regen", action="store_true", default=False,
            help="rewrite regression fixtures that changed (the test still fails once)")


def pytest_configure(config):
    config.addinivalue_line("markers", "fuzz: property-based fuzzing against torch (slow)")
    config.addinivalue_line("markers", "regression: comparison with fixtures/regression")
    config.addinivalue_line("markers", "slow: long checks, skipped unless -m slow or "
                                       "NUMPY_RNN_SLOW_TESTS=1")
