"""Numerics of the sample-complexity exponents family.

* :mod:`~featcheck.numerics.exponents.spherical_sgd`: the setting (online spherical SGD
  under a spiked covariance, links, the whitened overlap);
* :mod:`~featcheck.numerics.exponents.overlap_chain`: a configuration as a committee model,
  run by the committee simulators: exactly in the overlaps (``O(1)`` per step in ``d``) or
  in ``R^d`` (the oracle);
* :mod:`~featcheck.numerics.exponents.needed_samples`: ``n*(d)`` from hitting times,
  censoring, exponent and ratio fits with bootstrap intervals;
* :mod:`~featcheck.numerics.exponents.sample_complexity`: sweeps of ``n*(d)`` over a grid of
  dimensions with a scan of step sizes (local processes or Dask), and their curves;
* :mod:`~featcheck.numerics.exponents.cell_cache`: the content-hashed cache of sweep cells;
* :mod:`~featcheck.numerics.exponents.predicted`: :func:`exponent`, the predicted exponent
  at a point as a JSON-ready result;
* :mod:`~featcheck.numerics.exponents.sweep`: :func:`sweep`, a measured exponent against
  its prediction (options from keyword arguments or a TOML file);
* :mod:`~featcheck.numerics.exponents.figures`: the family's figures.
"""
