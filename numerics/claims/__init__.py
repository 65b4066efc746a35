"""Registered claims, one module per paper.  :func:`load` imports them all."""

from __future__ import annotations

import importlib

from featcheck.numerics.claims.base import REGISTRY, Claim

CLAIM_MODULES = (
    "featcheck.numerics.claims.hermite",
    "featcheck.numerics.claims.linear",
    "featcheck.numerics.claims.onestep_moniri2024",
    "featcheck.numerics.claims.onestep_demir_dogan2025",
    "featcheck.numerics.claims.exponents",
    "featcheck.numerics.claims.spiked",
)


def load() -> dict[str, Claim]:
    """Import every claim module and return the registry (id -> claim)."""
    for name in CLAIM_MODULES:
        importlib.import_module(name)
    return REGISTRY


def select(patterns: list[str]) -> list[Claim]:
    """Claims whose id equals a pattern or starts with ``pattern.``; all when empty."""
    from featcheck.theory.errors import InputError

    registry = load()
    if not patterns:
        return list(registry.values())
    chosen: list[Claim] = []
    for pattern in patterns:
        matches = [
            c
            for c in registry.values()
            if c.id == pattern or c.id.startswith(pattern.rstrip(".") + ".")
        ]
        if not matches:
            raise InputError(
                f"no claim matches {pattern!r}; known ids start with: "
                + ", ".join(sorted({c.id.split(".")[0] for c in registry.values()}))
            )
        chosen += [c for c in matches if c not in chosen]
    return chosen
