"""Validation of the inputs shared by the spiked simulations (one-line errors, exit 2)."""

from __future__ import annotations

import numpy as np

from featcheck.theory.dynamics.spiked import check_flow
from featcheck.theory.errors import DomainError, InputError
from featcheck.theory.models import check_alignment, check_dimension, check_kappa


def check_model(d: int, kappa: float, c: float, flow: str) -> None:
    """Raise unless ``d >= 3``, ``kappa >= 0``, ``|c| <= 1`` and ``flow`` is known."""
    check_dimension(d)
    check_kappa(kappa)
    check_alignment(c)
    check_flow(flow)


def check_positive(name: str, value: float) -> None:
    """Raise unless ``value`` is a finite positive number."""
    if not np.isfinite(value) or value <= 0:
        raise DomainError(f"{name} must be positive, got {value}")


def check_count(name: str, value: int) -> None:
    """Raise unless ``value`` is a positive whole number."""
    if int(value) != value or value <= 0:
        raise DomainError(f"{name} must be a positive whole number, got {value}")


def check_seed(seed: int) -> None:
    """Raise unless ``seed`` is a non-negative integer (what numpy's generators accept)."""
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise InputError(f"the seed must be a non-negative integer, got {seed}")
