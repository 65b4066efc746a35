"""Simulations, one module per family of results."""
