"""One large gradient step in two-layer networks: simulations and numeric helpers.

Model A (Moniri, Lee, Hassani, Dobriban 2024) and model B (Demir and Dogan 2025) keep
their own notations; the exact side is :mod:`featcheck.theory.onestep`.

* :mod:`~featcheck.numerics.onestep.run`: the library behind ``featcheck onestep``
  (:func:`onestep`, :func:`onestep_a`, :func:`onestep_b` and their results);
* :mod:`~featcheck.numerics.onestep.simulate`: one run of either model (step, spectra,
  ridge readouts, surrogate, Hermite-model readout);
* :mod:`~featcheck.numerics.onestep.mixture`: isotropic, spiked and Gaussian-mixture data;
* :mod:`~featcheck.numerics.onestep.gram`: one Gram matrix per feature matrix, for its
  spectra and its ridge solves;
* :mod:`~featcheck.numerics.onestep.spectrum_b`: model B's learned direction and spikes;
* :mod:`~featcheck.numerics.onestep.plots`: figure helpers of the claims (intervals from
  :mod:`featcheck.numerics.claims.rules`).
"""

from featcheck.numerics.onestep.run import OneStepA, OneStepB, onestep, onestep_a, onestep_b

__all__ = ["OneStepA", "OneStepB", "onestep", "onestep_a", "onestep_b"]
