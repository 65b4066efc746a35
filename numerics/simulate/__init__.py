"""Simulations of the models of the theory modules, one module per family."""
