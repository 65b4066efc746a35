"""Option values and defaults of the simulations, defined without numpy or scipy.

``featcheck``'s argument parser offers these as choices and defaults; the simulations
import them from here, so each is defined once and building the parser loads none of
the numerical libraries (``numerics.onestep`` imports scipy on its first line,
``numerics.claims`` and ``numerics.exponents.sweep`` import numpy).
"""

from __future__ import annotations

from typing import Any

#: Budgets of ``featcheck verify``: minutes, or the papers' scale.
BUDGETS = ("quick", "full")

#: Windows of the linear-network bounds: the whole run, before and after the time ``T``.
WINDOWS = ("all", "before-T", "after-T")
#: The initialisation of the linear networks' figures, ``(a0, b0)``.
PAPER_INIT = (0.6, -0.8)

#: Data laws of one-step model B (model A's data are isotropic), and the default
#: ridges of models A and B.
DATA = ("isotropic", "spiked", "mixture")
RIDGE_A = 1e-2
RIDGE_B = 1e-4

# featcheck sweep ----------------------------------------------------------------------
#: Learners whose prediction a sweep can be compared with.
SWEEP_LEARNERS = ("online", "spiked-online", "spiked-batch")
VARIANTS = ("plain", "normalized", "preconditioned")
LOSSES = ("correlation", "square")

#: Effective defaults (also the keys a TOML file may set).  ``variant`` None:
#: ``preconditioned`` for the spiked learners, ``plain`` for ``online``; ``threshold``
#: None: 0.9 (strong recovery) for the spiked learners, 0.5 (weak recovery) for ``online``.
DEFAULTS: dict[str, Any] = {
    "learner": "online",
    "variant": None,
    "loss": "correlation",
    "s": [2],
    "r1": 0.0,
    "r2": [0.0],
    "dim": None,
    "dim_grid": None,
    "replicas": 16,
    "max_steps": 10**7,
    "threshold": None,
    "seed": 0,
    "workers": 1,
    "scheduler": None,
    "cache": "featcheck-cache",
    "no_cache": False,
    "output": None,
    "resamples": 999,
}

#: Fewest bootstrap resamples for a 95% interval: with fewer, the percentile interval
#: is a handful of draws (one resample gives an interval of width 0).
MIN_RESAMPLES = 100

# featcheck simulate (committee models) ------------------------------------------------
#: Where a replica starts: the model's initial overlaps, or students uniform on the sphere.
STARTS = ("model", "uniform")
#: What a hitting rule watches: the cosine of ``w_k`` with ``u_1``, or their whitened overlap.
HIT_OVERLAPS = ("u", "whitened")
