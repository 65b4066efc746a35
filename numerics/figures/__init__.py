"""Figures (matplotlib, Agg backend), one module per family."""
