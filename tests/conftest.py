"""Test configuration: a deterministic hypothesis profile and one BLAS thread per worker.

``pytest -n 2`` runs two worker processes on a two-core machine; a multi-threaded
BLAS in each would oversubscribe the cores and slow linear algebra many times.
"""

import os

# BLAS libraries loaded from now on read this; those already loaded are limited below.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy  # noqa: F401  (numpy and scipy each bring an OpenBLAS)
import scipy.linalg  # noqa: F401
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

threadpool_limits(limits=1, user_api="blas")

settings.register_profile(
    "featcheck",
    derandomize=True,
    deadline=None,
    max_examples=25,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("featcheck")
