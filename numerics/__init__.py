"""Floating-point side of featcheck: oracles, integration, simulation, claims, the command.

Imports :mod:`featcheck.theory`, never the reverse.
"""
