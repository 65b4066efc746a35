"""Exact mathematics of featcheck: Hermite analysis, Gaussian identities, flows, exponents.

This package uses sympy and mpmath only; it never imports :mod:`featcheck.numerics`.
"""
