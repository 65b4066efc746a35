"""Finite-dimensional simulations, one module per family."""
