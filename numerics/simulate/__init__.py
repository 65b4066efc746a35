"""Finite-size Monte Carlo simulators, one module per family."""
