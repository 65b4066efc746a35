r"""Model B (Demir and Dogan): the gradient's spike and the spikes of the updated features.

Notation of the paper: dimension ``n``, ``m`` samples, width ``k``; first layer
``F`` (``k x n``, entries ``N(0, 1/tr)``), ``w ~ N(0, I_k)/sqrt(k)``, residual
``r = y - w^T sigma(F x)/sqrt(k)`` on the first batch, step ``F_1 = F + eta D``
with ``D = (1/m) [(r (w/sqrt(k))^T) o sigma'(X F^T)]^T X`` (minus the gradient).

* Gradient: ``D = mu_1(sigma) (w/sqrt(k)) c_hat^T + Delta``, ``c_hat = X^T r / m``;
  ``||Delta||_op`` is smaller by ``~ sqrt(log k / k)``, so the top singular value
  is ``~ |mu_1| ||w|| ||c_hat|| / sqrt(k)`` and the top right singular vector is
  ``c_hat/||c_hat||``.
* Learned direction (regression, zero-mean components): ``c_hat -> c* = E[x y] =
  sum_c rho_c Sigma_c xi E[sigma*(u_c) u_c] / v_c`` (``u_c = xi . x ~ N(0, v_c)``,
  ``v_c = xi^T Sigma_c xi``), and ``E||c_hat||^2 = E[y^2 ||x||^2]/m + (1 - 1/m)||c*||^2``
  with ``E[y^2 ||x||^2 | c] = E[y^2 u^2] ||Sigma_c xi||^2 / v_c^2 + E[y^2] (tr Sigma_c -
  ||Sigma_c xi||^2 / v_c)`` (regress ``x`` on ``u``); so
  ``<c_hat/||c_hat||, c*/||c*||> -> ||c*|| / sqrt(E||c_hat||^2)``.  For classification
  with zero-mean components ``c* = 0``: the gradient learns no direction at first order.
* Feature spikes: :func:`featcheck.theory.onestep.predict_spikes_b`; the degree-``j`` spread
  term of component ``c`` has left vector ``1_c o g_c^{o j}`` (``g_c`` the standardised
  spike coordinate), the step term ``(X c_hat)^{o j}``.  Those monomials (centred,
  unit) are the probes; an outlier is a singular value of the centred updated
  features above the deflated bulk edge (all probes of degree ``<= 6`` and the mean
  projected out) by ``4 min(m, k)^(-2/3)`` relative, as in model A.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import quad

from featcheck.numerics.onestep.gram import Gram
from featcheck.numerics.onestep.mixture import Mixture
from featcheck.theory.errors import DomainError
from featcheck.theory.functions import FunctionLike, as_function

PROBE_DEGREE = 6
EDGE_MARGIN = 4.0


def target_moments(
    target: FunctionLike, variance: float, noise: float
) -> tuple[float, float, float]:
    """``E[sigma*(u) u]``, ``E[y^2]``, ``E[y^2 u^2]`` for ``u ~ N(0, variance)``, ``y = sigma*(u) +
    noise eps`` (QUADPACK against the Gaussian density, split at the switching points)."""
    f = as_function(target)
    sd = float(np.sqrt(variance))
    fn = f.np
    points = [-np.inf, *sorted(float(p) / sd for p in f.breakpoints), np.inf]
    density = 1 / np.sqrt(2 * np.pi)

    def expect(g) -> float:
        return sum(
            quad(lambda z: g(z) * np.exp(-z * z / 2) * density, a, b, epsabs=1e-13)[0]
            for a, b in itertools.pairwise(points)
        )

    first = expect(lambda z: float(fn(sd * z)) * sd * z)
    second = expect(lambda z: float(fn(sd * z)) ** 2)
    fourth = expect(lambda z: float(fn(sd * z)) ** 2 * variance * z * z)
    return first, second + noise**2, fourth + noise**2 * variance


@dataclass(frozen=True)
class PopulationGradient:
    """``c* = E[x y]`` and ``E[y^2 ||x||^2]`` for the data law and target (model B)."""

    direction: np.ndarray  # c*
    y2_x2: float  # E[y^2 ||x||^2]

    def norm_squared(self, m: int) -> float:
        """``E||c_hat||^2`` for ``m`` samples (with ``r = y``)."""
        return self.y2_x2 / m + (1 - 1 / m) * float(self.direction @ self.direction)

    def overlap(self, m: int) -> float:
        """Predicted ``<c_hat/||c_hat||, c*/||c*||>`` (0 when ``c* = 0``)."""
        norm = float(np.linalg.norm(self.direction))
        return norm / float(np.sqrt(self.norm_squared(m))) if norm > 0 else 0.0


def population_gradient(
    mixture: Mixture, xi: np.ndarray | None, target: FunctionLike, noise: float
) -> PopulationGradient:
    """Regression (``xi`` given) or ``+-1`` labels by component (``xi = None``, two components)."""
    if any(c.mean is not None for c in mixture.components):
        raise DomainError("the learned-direction prediction assumes zero-mean components")
    direction = np.zeros(mixture.dim)
    y2_x2 = 0.0
    for c in mixture.components:
        if xi is None:
            y2_x2 += c.weight * c.trace  # y^2 = 1, E[x | c] = 0
            continue
        a = c.covariance_apply(xi)
        v = float(xi @ a)
        na = float(a @ a)
        first, second, fourth = target_moments(target, v, noise)
        direction += c.weight * a * first / v
        y2_x2 += c.weight * (fourth * na / v**2 + second * (c.trace - na / v))
    return PopulationGradient(direction, y2_x2)


def monomial_probes(u: np.ndarray, rows: np.ndarray | None, degrees) -> np.ndarray:
    """Columns ``1_rows o u^{o j}``, centred and of unit norm."""
    cols = []
    for j in degrees:
        col = u**j
        if rows is not None:
            col = np.where(rows, col, 0.0)
        cols.append(col)
    out = np.stack(cols, axis=1)
    out -= out.mean(axis=0)
    return out / np.linalg.norm(out, axis=0)


def spread_groups(mixture: Mixture, labels: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """One ``(rows, unit spike direction)`` per distinct rank-one spike direction.

    Components whose directions coincide up to sign share one group (their spike
    terms add up to one rank-one term).
    """
    groups: list[tuple[np.ndarray, np.ndarray]] = []
    for index, c in enumerate(mixture.components):
        if c.spikes.size == 0 or not np.any(c.spikes > 0):
            continue
        if c.spikes.size != 1:
            raise DomainError("the spectral analysis of model B handles rank-one spikes only")
        gamma = c.directions[:, 0]
        rows = labels == index
        for k, (other_rows, other) in enumerate(groups):
            if abs(abs(float(gamma @ other)) - 1) < 1e-9:
                groups[k] = (other_rows | rows, other)
                break
        else:
            groups.append((rows, gamma))
    return groups


def standardised_coordinate(
    mixture: Mixture, labels: np.ndarray, x: np.ndarray, gamma: np.ndarray
) -> np.ndarray:
    """``x . gamma / sqrt(gamma^T Sigma_c gamma)`` on the rows of each component ``c``."""
    u = x @ gamma
    for index, c in enumerate(mixture.components):
        rows = labels == index
        u[rows] /= np.sqrt(float(gamma @ c.covariance_apply(gamma)))
    return u


@dataclass
class SpectrumB:
    """Spectral analysis of one model-B run (see the module docstring)."""

    singular_values: np.ndarray | None = None  # top of the centred updated features
    initial_singular_values: np.ndarray | None = None  # top of the centred initial features
    bulk_edge_initial: float | None = None  # deflated initial features
    bulk_edge_updated: float | None = None  # deflated updated features
    threshold: float | None = None
    outliers: int | None = None
    initial_outliers: int | None = None
    alignments: list[dict] = field(default_factory=list)  # probe alignment with the outliers
    gradient: dict = field(default_factory=dict)


def _outlier_alignment(vectors: np.ndarray, outliers: int, probe: np.ndarray) -> float:
    if outliers == 0:
        return 0.0
    return float(np.linalg.norm(vectors[:, :outliers].T @ probe))


def spectrum_b(
    initial: np.ndarray,
    updated: Gram,
    probes: dict[tuple[str, int, int], np.ndarray],
    top: int,
    rng: np.random.Generator,
) -> SpectrumB:
    """Outliers of the centred features over the deflated bulk edge, before and after the step.

    ``probes`` maps ``(mechanism, group, degree)`` to a centred unit column; ``updated``
    must not be factored yet.
    """
    m = initial.shape[0]
    mean = np.full((m, 1), 1 / np.sqrt(m))
    columns = np.stack(list(probes.values()), axis=1) if probes else np.zeros((m, 0))
    deflation = np.hstack([mean, np.linalg.qr(columns)[0]]) if columns.shape[1] else mean
    margin = 1 + EDGE_MARGIN * min(initial.shape) ** (-2 / 3)

    def analyse(gram: Gram):
        values, vectors = gram.top(top, rng, basis=mean, vectors=True)
        edge = float(gram.top(1, rng, basis=deflation)[0][0])
        return values, vectors, edge, int(np.sum(values > edge * margin))

    s0, u0, edge0, outliers0 = analyse(Gram(initial))
    s1, u1, edge1, outliers1 = analyse(updated)
    alignments = [
        {
            "mechanism": mechanism,
            "group": group,
            "degree": degree,
            "updated": _outlier_alignment(u1, outliers1, probe),
            "initial": _outlier_alignment(u0, outliers0, probe),
        }
        for (mechanism, group, degree), probe in probes.items()
    ]
    return SpectrumB(s1, s0, edge0, edge1, edge1 * margin, outliers1, outliers0, alignments)
