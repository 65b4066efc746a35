"""Small matplotlib helpers for claim figures (Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def new_figure(width: float = 6.0, height: float = 4.0):
    """A figure and axes of the given size in inches."""
    return plt.subplots(figsize=(width, height), layout="constrained")


def check_labelled(fig) -> None:
    """Raise ``ValueError`` unless the figure has a title and every plot its axis labels."""
    axes = [
        ax
        for ax in fig.get_axes()
        if ax.get_visible() and ax.has_data() and getattr(ax, "_colorbar", None) is None
    ]
    suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
    for ax in axes:
        missing = [
            name
            for name, text in (("x label", ax.get_xlabel()), ("y label", ax.get_ylabel()))
            if not text.strip()
        ]
        if not (suptitle or ax.get_title().strip()):
            missing.append("title")
        if missing:
            raise ValueError(f"figure without {', '.join(missing)}")


def save(fig, path: Path | None) -> Path | None:
    """Check the labels, save and close ``fig``; returns the path, or None when no path
    was given (the labels are checked either way, so a missing one shows in every run)."""
    try:
        check_labelled(fig)
    except ValueError:
        plt.close(fig)
        raise
    if path is None:
        plt.close(fig)
        return None
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
