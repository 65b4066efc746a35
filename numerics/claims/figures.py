"""Small matplotlib helpers for claim figures (Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def new_figure(width: float = 6.0, height: float = 4.0):
    """A figure and axes of the given size in inches."""
    return plt.subplots(figsize=(width, height), layout="constrained")


def save(fig, path: Path | None) -> Path | None:
    """Save and close ``fig``; returns the path, or None when no path was given."""
    if path is None:
        plt.close(fig)
        return None
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
