"""Numerics of the teacher-student committee models: the compiled overlap ODEs, the exact
reduced simulator of online SGD, the full-dimensional simulator, and their summaries.

Importing the package registers the numpy evaluators of the theory's numeric symbols
(:mod:`featcheck.numerics.committee.evaluation`).
"""

from featcheck.numerics.committee import evaluation  # noqa: F401  (registers the evaluators)
