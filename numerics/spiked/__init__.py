"""Numerics of the spiked single-index flows (Mousavi-Hosseini, Wu, Suzuki, Erdogdu 2023).

* :mod:`.flow`: :func:`~featcheck.numerics.spiked.flow.flow`, what ``featcheck flow``
  computes (integration, fixed points, online SGD beside the flow), as a
  :class:`~featcheck.numerics.spiked.flow.FlowResult`;
* :mod:`.scaled_integrals`: numpy evaluation of the Gaussian integrals of a rescaled smooth
  activation, and :func:`~featcheck.numerics.spiked.scaled_integrals.compile_flow`;
* :mod:`.population`: the full-``d`` population flows (exact and with an estimated
  preconditioner);
* :mod:`.training`: online SGD, gradient descent on ``n`` samples, Algorithm 1;
* :mod:`.gradient_oracles`: the population gradient by quadrature and by Monte Carlo;
* :mod:`.pointwise`: the activation and link as numba and numpy functions;
* :mod:`.inputs`: input validation shared by the simulations.

The derivations are in :mod:`featcheck.theory.dynamics.spiked`; the claims in
:mod:`featcheck.numerics.claims.spiked`.
"""
