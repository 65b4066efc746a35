r"""One large gradient step on the first layer of a two-layer network.

Two papers, two notations; this package keeps them apart and converts only at
the boundary (the derivation document states the dictionary).

**Model A** (Moniri, Lee, Hassani, Dobriban, ICML 2024, arXiv 2310.07891).
``n`` samples, input dimension ``d``, width ``N``, ``psi = n / d``.  Data
``x ~ N(0, I_d)``, target ``y = sigma*(<x, beta*>) + eps`` with ``||beta*|| = 1``
and ``Var eps = sigma_eps^2``.  Network ``F(x) = a^T sigma(W x)``, rows of ``W0``
uniform on the sphere, ``a ~ N(0, I_N / N)``, one step ``W1 = W0 + eta G`` with
``eta = eta0 n^alpha`` and ``G = (1/n) [(y a^T) o sigma'(X W0^T)]^T X`` (the
gradient of the squared loss with the initial output set to zero).

* ``G = mu_1(sigma) a beta_hat^T + (small in operator norm)``, ``beta_hat = X^T y / n``.
* Taylor expansion of ``sigma`` entrywise: the ``k``-th term of the updated
  features is ``(mu_k(sigma)/k!) (eta mu_1(sigma))^k (X beta_hat)^{o k} (a^{o k})^T``
  plus a part negligible in operator norm; its operator norm grows like
  ``eta^k sqrt(n) N^{(1-k)/2}`` against a bulk ``~ sqrt(n)``.  It separates iff
  ``alpha > (k-1)/(2k)``: the spike count is ``l(alpha) = #{k : (k-1)/(2k) < alpha}``,
  restricted to degrees with ``mu_k(sigma) != 0``.
* Overlap ``<beta_hat/||beta_hat||, beta*> -> mu_1(sigma*) /
  sqrt(mu_1(sigma*)^2 + (E[sigma*(Z)^2] + sigma_eps^2)/psi)``.

**Model B** (Demir and Dogan, ICLR 2025, arXiv 2503.00856).  Input dimension ``n``,
``m`` samples, width ``k``; strength ``beta`` and weight ``alpha`` with
``eta = n^(beta alpha)`` and spike size ``n^(beta (1 - alpha))``.  The Hermite
model of degree ``L(beta) = floor(1/(1 - beta))`` replaces ``sigma`` in the
readout by ``sum_{i<=L} h_i He_i(u/b) + s_L eps`` with ``b = sqrt(n / tr)``,
``h_i = E[sigma(b Z) He_i(Z)] / i!`` and ``s_L^2 = E[sigma(b Z)^2] - sum_{i<=L} i! h_i^2``.

Note that ``alpha`` and ``beta`` mean different things in A and B; every public
function here names its model in its docstring.

Modules, along the mathematics:

* :mod:`~featcheck.theory.onestep.coefficients`: exact inputs, whether ``mu_k != 0``;
* :mod:`~featcheck.theory.onestep.spikes_a`: model A spike count, thresholds, strengths;
* :mod:`~featcheck.theory.onestep.overlap_a`: model A gradient overlap with ``beta*``;
* :mod:`~featcheck.theory.onestep.hermite_b`: model B Hermite degree and Hermite model;
* :mod:`~featcheck.theory.onestep.spikes_b`: model B spike exponents by mechanism;
* :mod:`~featcheck.theory.onestep.derivation`: the ``featcheck derive onestep`` document.

Every public name is importable from this package directly.
"""

from featcheck.theory.onestep.coefficients import (
    BOUNDARY_TOLERANCE,
    DegreeStatus,
    coefficient_status,
    exact_rational,
)
from featcheck.theory.onestep.derivation import onestep_derivation
from featcheck.theory.onestep.hermite_b import (
    HermiteModel,
    degree_interval,
    hermite_degree,
    hermite_model,
    rational_scale,
)
from featcheck.theory.onestep.overlap_a import OverlapLimit, gradient_overlap, overlap_symbolic
from featcheck.theory.onestep.spikes_a import (
    SpikePrediction,
    predict_spikes,
    projected_strength,
    spike_count,
    spike_exponent,
    spike_strength,
    spike_threshold,
)
from featcheck.theory.onestep.spikes_b import (
    SpikePredictionB,
    SpikeTermB,
    mixed_exponent,
    predict_spikes_b,
    spread_exponent,
    step_exponent,
)

__all__ = [
    "BOUNDARY_TOLERANCE",
    "DegreeStatus",
    "HermiteModel",
    "OverlapLimit",
    "SpikePrediction",
    "SpikePredictionB",
    "SpikeTermB",
    "coefficient_status",
    "degree_interval",
    "exact_rational",
    "gradient_overlap",
    "hermite_degree",
    "hermite_model",
    "mixed_exponent",
    "onestep_derivation",
    "overlap_symbolic",
    "predict_spikes",
    "predict_spikes_b",
    "projected_strength",
    "rational_scale",
    "spike_count",
    "spike_exponent",
    "spike_strength",
    "spike_threshold",
    "spread_exponent",
    "step_exponent",
]
