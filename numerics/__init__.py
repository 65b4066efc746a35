"""Floating-point side of featcheck: oracles, integration, simulation, claims, the command.

Imports :mod:`theory`, never the reverse.
"""

__version__ = "0.1.0"
