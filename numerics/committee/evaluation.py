"""Numpy evaluation of the numeric symbols of the committee theory.

``featcheck.theory.committee`` keeps three kinds of symbols that have no closed form:

* :class:`~featcheck.theory.committee.expectations.SignMoment4` ``E[prod_{i<=4} sign(u_i)]``:
  Plackett's integral over ``s`` in ``[0, 1]`` (see its docstring), here by Gauss-Legendre
  with ``PLACKETT_NODES`` nodes after the change of variable ``s = 1 - (1 - v)^2``, which
  removes the square-root growth of the integrand near ``s = 1`` when a correlation is close
  to one;
* :class:`~featcheck.theory.committee.expectations.GaussianIntegral` ``E[f(y)]``,
  ``y ~ N(0, C)``: a tensor rule in the whitened variables (``y = L z``, ``L L^T = C`` from
  the eigendecomposition, so a singular ``C`` is fine): Gauss-Hermite with
  :data:`HERMITE_NODES` nodes per dimension for an entire integrand; for one whose strip of
  analyticity is bounded by poles (``tanh``, ``sigmoid``, ``softplus``), in each coordinate the
  trapezoid or Gauss-Hermite, whichever is cheaper for the target error (:func:`strip_rule`);
  when the only non-smooth parts are steps
  ``H(a y_k + c)`` of single fields (a ReLU with a bias) with at most three hard fields, or
  four with one in which the integrand is polynomial, a nested Gauss-Legendre rule in the
  coordinates of a Cholesky factor, each coordinate cut where a field crosses its kink
  (:func:`split_rule`; two strongly correlated pairs of kinked fields in each pair's sum
  and difference, :func:`_paired_root`), the last coordinate integrated exactly when the
  integrand is a
  polynomial in it on each piece (:func:`truncated_rule`); with either rule, the fields in
  which the integrand is a polynomial without kinks (a polynomial link's teacher fields)
  come last in a Cholesky factor and are integrated exactly by Gauss-Hermite
  (:func:`polynomial_tail`, ``tail`` of :func:`split_rule`); its derivatives by central
  differences;
* :class:`~featcheck.theory.committee.overlap_ode.JacobianEntry`: central differences of
  the right-hand side, the whole Jacobian at once per state (cached for the last state).

Importing this module registers these evaluators with the theory (sympy's ``lambdify``
finds them through ``_imp_``).  :func:`quadrature_error` estimates the error of a
:class:`GaussianIntegral` by the difference of the rules with ``N`` and ``N/2`` nodes per
dimension (``3N/4`` per piece for the split rule, three quarters of the accuracy for the strip
rule); the error of Gauss-Hermite quadrature
falls fast with ``N`` for an analytic
integrand, so this difference, essentially the error of the coarser rule, over-estimates it
(``tanh`` at variance 4: error ``2e-7`` at ``N = 160``, estimate ``5e-5``).  It is an estimate,
not a bound: an integrand with kinks converges slowly and the estimate says so.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import sympy as sp
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss
from scipy import special

from featcheck.theory.committee.expectations import (
    field_degrees,
    hard_fields,
    legendre_coordinates,
    register_numeric_backend,
    slot_symbols,
    split_kinks,
)
from featcheck.theory.committee.majorants import NotCertifiable, strip_analysis
from featcheck.theory.errors import InputError

PLACKETT_NODES = 48
#: Gauss-Hermite nodes per dimension, by dimension (the rule has nodes**dimension points).
HERMITE_NODES = {1: 160, 2: 80, 3: 36, 4: 20, 5: 12, 6: 8}
#: Steps of single fields (:func:`~featcheck.theory.committee.expectations.split_kinks`):
#: Gauss-Legendre nodes per piece, by the number of coordinates integrated by Gauss-Legendre,
#: and the range of each such coordinate (the Gaussian mass beyond is 2e-19; a long piece
#: that contains the mode gets more, :data:`NODES_PER_LENGTH`).
SPLIT_NODES = {1: 32, 2: 32, 3: 24}
SPLIT_RANGE = 9.0
#: Points of a tensor rule evaluated at once (bounds the temporary arrays).
CHUNK = 1 << 18
MODULES = [{"erf": special.erf, "erfc": special.erfc, "Heaviside": np.heaviside}, "numpy"]
PAIRS = [(i, j) for i in range(4) for j in range(i + 1, 4)]


# ----------------------------------------------------------------------------
# Four signs: Plackett's integral


@lru_cache(maxsize=4)
def _plackett_rule(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = leggauss(nodes)
    v = (x + 1) / 2
    s = 1 - (1 - v) ** 2
    return s, w / 2 * 2 * (1 - v)  # ds = 2 (1 - v) dv, dv = dx/2


def sign_moment4(*correlations, nodes: int = PLACKETT_NODES) -> np.ndarray:
    """``E[sign(u1) sign(u2) sign(u3) sign(u4)]`` for unit-variance ``u`` with correlations
    ``r12, r13, r14, r23, r24, r34`` (arrays broadcast together)."""
    r = np.broadcast_arrays(*[np.asarray(c, dtype=float) for c in correlations])
    shape = r[0].shape
    r = np.stack([c.reshape(-1) for c in r], axis=-1)  # (k, 6)
    s, w = _plackett_rule(nodes)
    R = np.broadcast_to(np.eye(4), (len(r), len(s), 4, 4)).copy()
    for p, (i, j) in enumerate(PAIRS):
        R[:, :, i, j] = R[:, :, j, i] = r[:, None, p] * s[None, :]
    inverse = np.linalg.inv(R)
    total = np.zeros((len(r), len(s)))
    for p, (i, j) in enumerate(PAIRS):
        k, o = (v for v in range(4) if v not in (i, j))
        partial = -inverse[..., k, o] / np.sqrt(inverse[..., k, k] * inverse[..., o, o])
        partial = np.clip(partial, -1.0, 1.0)
        total += r[:, None, p] * np.arcsin(partial) / np.sqrt(1 - (s[None, :] * r[:, None, p]) ** 2)
    values = 4 / np.pi**2 * (total @ w)
    return values.reshape(shape) if shape else values[0]


# ----------------------------------------------------------------------------
# Gaussian integrals by tensor Gauss-Hermite quadrature


@lru_cache(maxsize=64)
def _gauss_hermite(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss-Hermite nodes and weights for the standard normal density (the
    same rule as :func:`featcheck.numerics.quadrature.gauss_hermite_rule`, whose module would
    add scipy.stats to this one's import)."""
    x, w = hermegauss(nodes)
    return x, w / np.sqrt(2 * np.pi)


@lru_cache(maxsize=16)
def _hermite_rule(dimension: int, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = _gauss_hermite(nodes)
    points = np.array(list(itertools.product(x, repeat=dimension)))
    weights = np.prod(np.array(list(itertools.product(w, repeat=dimension))), axis=1)
    return points, weights


@lru_cache(maxsize=512)
def integrand_function(cls: type):
    """The numpy function ``f(y_1, ..., y_m)`` of a :class:`GaussianIntegral` class's integrand."""
    return sp.lambdify(slot_symbols(cls.slots), cls.integrand, modules=MODULES, cse=True)


def covariance_stack(cls: type, entries) -> tuple[np.ndarray, tuple[int, ...]]:
    m = cls.slots
    values = np.broadcast_arrays(*[np.asarray(e, dtype=float) for e in entries])
    shape = values[0].shape
    C = np.empty((int(np.prod(shape, dtype=int)), m, m))
    index = 0
    for i in range(m):
        for j in range(i, m):
            C[:, i, j] = C[:, j, i] = values[index].reshape(-1)
            index += 1
    return C, shape


def whitening_roots(C: np.ndarray) -> np.ndarray:
    """``L = V sqrt(D)`` with ``L L^T = C`` for each covariance of the stack ``C`` (``C = V D
    V^T``; a singular ``C`` is fine, negative rounding in ``D`` is clipped)."""
    eigenvalues, vectors = np.linalg.eigh(C)
    return vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))[:, None, :]


def tensor_sums(function, L: np.ndarray, x, w) -> np.ndarray:
    """``sum_i w_i function(L z_i)`` over the tensor rule with one-dimensional nodes ``x`` and
    weights ``w`` in ``L.shape[1]`` dimensions (one array for every coordinate, or a list of
    arrays, one per coordinate); ``function`` maps fields ``y`` of shape ``(points, m)`` to
    rows of shape ``(r, points)`` and the result has shape ``(r,)``.

    The fields of the grid of the coordinates after the first, ``L[:, 1:] z_rest``, are formed
    once; a block of first-coordinate nodes then adds ``L[:, 0] z_1`` to them, the blocks
    holding about :data:`CHUNK` points, so the rule may be larger than memory."""
    n = L.shape[1]
    xs = list(x) if isinstance(x, list | tuple) else [x] * n
    ws = list(w) if isinstance(w, list | tuple) else [w] * n
    rest = np.zeros((1, L.shape[0]))
    rest_weights = np.ones(1)
    for j in range(n - 1, 0, -1):
        rest = (xs[j][:, None, None] * L[:, j] + rest[None]).reshape(-1, L.shape[0])
        rest_weights = np.multiply.outer(ws[j], rest_weights).reshape(-1)
    block = max(1, CHUNK // len(rest_weights))
    total = None
    for start in range(0, len(xs[0]), block):
        first, first_weights = xs[0][start : start + block], ws[0][start : start + block]
        y = (first[:, None, None] * L[:, 0] + rest[None]).reshape(-1, L.shape[0])
        weights = np.multiply.outer(first_weights, rest_weights).reshape(-1)
        rows = np.atleast_2d(function(y)) @ weights
        total = rows if total is None else total + rows
    return total


# ----------------------------------------------------------------------------
# Integrands analytic in a strip: trapezoid in wide coordinates, Gauss-Hermite in thin ones

#: ``ln(1/epsilon)`` for the target error ``epsilon`` of :func:`strip_rule`, the fraction of
#: each coordinate's admissible strip the step is chosen for, the truncation ``|xi_j| <= R``
#: (the Gaussian mass beyond is ``2e-19`` per coordinate), the largest step (at ``h = 0.6``
#: the rule's own aliasing of ``z^6 phi(z)`` is ``1e-18``) and the fewest and most
#: Gauss-Hermite nodes.
STRIP_ACCURACY = {1: 36.0, 2: 34.0, 3: 30.0, 4: 27.0}
STRIP_FRACTION = 0.7
STRIP_RANGE = 9.0
STRIP_MAX_STEP = 0.6
STRIP_MIN_NODES = 6
STRIP_GAUSS_HERMITE_NODES = 64
#: Points of :func:`strip_rule` at most, by dimension; beyond, the target is relaxed (down to
#: ``exp(-STRIP_LEAST_ACCURACY)``, then the nodes per coordinate are capped).
STRIP_LEAST_ACCURACY = 8.0
STRIP_POINTS = {1: 1 << 10, 2: 1 << 14, 3: 1 << 17, 4: 1 << 19}


def strip_widths(cls: type, L: np.ndarray) -> np.ndarray | None:
    """For an integrand analytic in a strip but not entire, the half-width ``a_j`` of the strip
    ``|Im xi_j| < a_j`` in which ``f(L xi)`` is analytic in coordinate ``j`` alone (the others
    real), from the constraints ``sum_k c_k |Im y_k| < v`` of
    :func:`~featcheck.theory.committee.majorants.strip_analysis`: ``a_j = min v / sum_k c_k
    |L_kj|``.  None for an entire integrand (no constraint), one without a strip, and over
    more than four coordinates (the rule would need more points than tensor Gauss-Hermite's
    ``12^5`` and ``8^6``, which stay; with a :func:`polynomial_tail`, ``L`` holds the columns
    of the hard coordinates only)."""
    if L.shape[1] not in STRIP_ACCURACY:
        return None
    analysis = _strip_analysis(cls)
    if analysis is None or not analysis.limits:
        return None
    widths = np.full(L.shape[1], np.inf)
    for limit in analysis.limits:
        reach = np.asarray(limit.weights, dtype=float) @ np.abs(L)
        with np.errstate(divide="ignore"):
            widths = np.minimum(widths, np.where(reach > 0, limit.bound / reach, np.inf))
    return widths


@lru_cache(maxsize=512)
def _strip_analysis(cls: type):
    """The strip analysis of ``cls``'s integrand, or None when it has no strip."""
    try:
        return strip_analysis(cls.integrand, cls.slots)
    except NotCertifiable:
        return None


def _coordinate_plan(width: float, accuracy: float, most: int | None = None) -> tuple:
    """The cheaper one-dimensional rule for ``int g(xi) phi(xi) d xi`` with ``g`` analytic in
    ``|Im xi| < width``, as ``("trapezoid", K, h)`` (nodes ``h k``, ``|k| <= K``) or
    ``("gauss-hermite", n)``: the trapezoid with step ``h = 2 pi theta width / accuracy``
    (error ``~ exp(-2 pi theta width / h)``, Trefethen and Weideman 2014) or Gauss-Hermite
    with the fewest ``n`` such that ``n! / (theta width)^(2n) <= exp(-accuracy)`` (the
    remainder ``n!/(2n)! g^(2n)`` with ``|g^(2n)| <~ (2n)!/width^(2n)``).  ``most`` caps the
    trapezoid's nodes."""
    a = STRIP_FRACTION * width
    h = min(STRIP_MAX_STEP, 2 * math.pi * a / accuracy)
    if most is not None:
        h = max(h, 2 * STRIP_RANGE / (most - 1))
    K = int(STRIP_RANGE // h)
    trapezoid_nodes = 2 * K + 1
    n = STRIP_MIN_NODES
    if math.isfinite(a):
        log_a = math.log(a)
        cheaper = min(trapezoid_nodes, STRIP_GAUSS_HERMITE_NODES + 1)
        while n < cheaper and math.lgamma(n + 1) - 2 * n * log_a > -accuracy:
            n += 1
    if n < trapezoid_nodes and n <= STRIP_GAUSS_HERMITE_NODES:
        return ("gauss-hermite", n)
    return ("trapezoid", K, h)


def _plan_size(plan: tuple) -> int:
    return plan[1] if plan[0] == "gauss-hermite" else 2 * plan[1] + 1


def _coordinate_rule(plan: tuple) -> tuple[np.ndarray, np.ndarray, str]:
    """Nodes, weights and description of a :func:`_coordinate_plan`."""
    if plan[0] == "gauss-hermite":
        return *_gauss_hermite(plan[1]), f"{plan[1]} Gauss-Hermite"
    _, K, h = plan
    x = h * np.arange(-K, K + 1)
    return x, h * np.exp(-x * x / 2) * _INVERSE_ROOT_2PI, f"{2 * K + 1} trapezoid (step {h:.3g})"


def strip_rule(widths: np.ndarray, accuracy: float | None = None) -> tuple[list, list, list]:
    """Per-coordinate rules (nodes, weights, description) for ``E[f(L xi)]``, ``xi ~ N(0, I)``,
    with ``f(L xi)`` analytic in the strips ``widths`` (:func:`strip_widths`).

    Tensor Gauss-Hermite converges only like ``exp(-2 a sqrt(n))`` for such an integrand: 36
    nodes per dimension miss ``E[tanh(y_1)^2 tanh(y_2)^3 tanh(y_3)]`` near a teacher by
    ``7e-6``.  The trapezoid converges like ``exp(-2 pi a / h)`` and Gauss-Hermite is best
    where the strip is wide (a coordinate that a near-singular covariance makes thin), so
    each coordinate gets the cheaper of the two for the target ``exp(-accuracy)``.  The
    steps change continuously with the covariance and the node counts only where both rules
    meet the target, so the value is smooth in the covariance to about the target; over
    :data:`STRIP_POINTS` points the target is relaxed until the rule fits."""
    m = len(widths)
    limit = STRIP_POINTS[m]
    accuracy = accuracy or STRIP_ACCURACY[m]
    while True:
        plans = [_coordinate_plan(float(a), accuracy) for a in widths]
        if math.prod(map(_plan_size, plans)) > limit and accuracy <= STRIP_LEAST_ACCURACY:
            # a very wide covariance: at most limit^(1/m) nodes in every coordinate
            most = int(limit ** (1 / m))
            plans = [_coordinate_plan(float(a), accuracy, most) for a in widths]
        if math.prod(map(_plan_size, plans)) <= limit:
            rules = [_coordinate_rule(plan) for plan in plans]
            return tuple(list(column) for column in zip(*rules, strict=True))
        accuracy *= 0.95


# ----------------------------------------------------------------------------
# Steps of single fields: nested Gauss-Legendre split at the kinks


def echelon_root(C: np.ndarray) -> np.ndarray:
    """Lower-triangular ``L`` with ``L L^T = C`` for a positive semi-definite ``C``: Cholesky,
    a column set to zero where the remaining variance is below ``1e-12`` of the largest
    diagonal entry (a field that is a combination of earlier ones then depends on earlier
    coordinates only)."""
    m = len(C)
    L = np.zeros((m, m))
    scale = max(float(np.max(np.diag(C))), 1e-300)
    for k in range(m):
        d = C[k, k] - L[k, :k] @ L[k, :k]
        if d <= 1e-12 * scale:
            continue
        L[k, k] = np.sqrt(d)
        for i in range(k + 1, m):
            L[i, k] = (C[i, k] - L[i, :k] @ L[k, :k]) / L[k, k]
    return L


@lru_cache(maxsize=8)
def _legendre(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    return leggauss(nodes)


def split_rule(
    L: np.ndarray,
    kinks,
    nodes: int,
    inner_degree: int | None = None,
    tail: tuple[int, int] = (0, 0),
) -> tuple[np.ndarray, np.ndarray]:
    """Points ``z`` and weights of ``E[f(L z)]``, ``z ~ N(0, I)``, integrating coordinate by
    coordinate over ``[-SPLIT_RANGE, SPLIT_RANGE]`` with ``nodes`` Gauss-Legendre nodes per
    piece, each coordinate cut where a field whose last non-zero entry of ``L`` is in that
    column crosses one of its ``kinks`` (the cut depends on the outer coordinates).  On each
    piece the integrand is smooth, so the rule converges fast where a tensor Gauss-Hermite
    rule across a step converges only like a power of the number of nodes.

    With ``inner_degree = D``, the caller promises that ``f`` is, on each piece of the last
    coordinate, a polynomial of degree at most ``D`` in it; that coordinate is then integrated
    over the whole line (no truncation) by the interpolatory rule of :func:`truncated_rule`,
    exact for such polynomials, with ``D + 1`` points per piece.

    With ``tail = (s, n)``, the caller promises that the last ``s`` fields have no kinks and
    that ``f`` is a polynomial of total degree at most ``2 n - 1`` in them (a polynomial
    link's teacher fields); their coordinates, on which no other field depends (``L`` is
    lower triangular), are integrated exactly by ``n``-node Gauss-Hermite, and the last
    coordinate before them is the one ``inner_degree`` speaks of.  ``L`` may have more rows
    than columns: a row is a linear form whose ``kinks`` are cut like a field's
    (:func:`_paired_root` cuts where two kinks cross that way)."""
    m = L.shape[1]
    soft, tail_nodes = tail
    used = [bool(np.any(L[:, j] != 0)) for j in range(m)]
    last = [max((j for j in range(m) if L[k, j] != 0), default=-1) for k in range(len(L))]
    columns = [j for j in range(m) if used[j] and j < m - soft]
    points = np.zeros((1, m))
    weights = np.ones(1)
    for j in columns:
        cuts = [
            (t - points[:, :j] @ L[k, :j]) / L[k, j]
            for k in range(len(L))
            if last[k] == j
            for t in kinks[k]
        ]
        graded = (
            _transition_cuts(L, kinks, last, j, points)
            if len(columns) <= TRANSITION_COORDINATES
            else []
        )
        cuts += graded
        exact = inner_degree is not None and j == columns[-1]
        edge = np.inf if exact else SPLIT_RANGE
        ends = np.full((len(points), 1), edge)
        bounds = np.sort(
            np.clip(np.hstack([-ends, *(c[:, None] for c in cuts), ends]), -edge, edge), axis=1
        )
        if exact:
            z, piece_weights = truncated_rule(bounds[:, :-1], bounds[:, 1:], inner_degree)
            parent = np.repeat(np.arange(len(points)), z.shape[1] * z.shape[2])
            z, piece_weights = z.reshape(-1), piece_weights.reshape(-1)
        else:
            parent, z, piece_weights = _legendre_pieces(
                bounds, nodes, SHORT_NODES if graded else nodes
            )
        points = points[parent]
        points[:, j] = z
        weights = weights[parent] * piece_weights
    x, w = _gauss_hermite(max(tail_nodes, 1))
    for j in (j for j in range(m - soft, m) if used[j]):
        count = len(points)
        points = np.repeat(points, len(x), axis=0)
        points[:, j] = np.tile(x, count)
        weights = np.repeat(weights, len(x)) * np.tile(w, count)
    return points, weights


#: A piece with the mode ``0`` inside gets at least ``NODES_PER_LENGTH`` Gauss-Legendre nodes
#: per unit of length (rounded up to a multiple of 8): over such pieces ``n`` nodes integrate
#: ``z^p phi(z)`` (``p <= 6``) to 1e-11 up to length ``n / 3`` at ``n = 18``, 2e-13 at 24,
#: 2e-14 at 32, against 2e-10 (24 nodes, length 9.6) and 2.4e-6 (all of ``[-9, 9]``, the one
#: piece of a coordinate whose kinks fall outside the range).
NODES_PER_LENGTH = 3.0


#: In a coordinate cut by a graded mesh (:func:`_transition_cuts`, which resolves every steep
#: step in it), pieces of half-length at most ``SHORT`` get ``SHORT_NODES`` Gauss-Legendre
#: nodes: the integrand varies on them on the scale of the piece or slower (the mesh is
#: self-similar).  Against the exact values of :mod:`~featcheck.numerics.committee.orthants`
#: over two and three fields strongly correlated (residual variances down to ``1e-7``) the
#: errors are those of 24 nodes, at half the cost; 8 nodes give errors up to 1e-12.
SHORT = 0.5
SHORT_NODES = 12


def _legendre_pieces(bounds: np.ndarray, nodes: int, short_nodes: int) -> tuple[np.ndarray, ...]:
    """Gauss-Legendre nodes on the pieces ``[bounds[p, i], bounds[p, i + 1]]`` of each point
    ``p`` times the standard normal density: ``(parent, z, weight)``, one entry per node,
    ``nodes`` per piece, ``short_nodes`` on pieces of half-length at most :data:`SHORT`, more
    on a long piece that contains the mode (:data:`NODES_PER_LENGTH`), none on empty ones."""
    lo, hi = bounds[:, :-1], bounds[:, 1:]
    half, centre = (hi - lo) / 2, (hi + lo) / 2
    count = np.where(half > SHORT, nodes, short_nodes)
    mode = (lo < 0) & (hi > 0)
    count[mode] = np.maximum(count[mode], 8 * np.ceil(NODES_PER_LENGTH * half[mode] / 4))
    count[half <= 0] = 0
    out = []
    for n in np.unique(count[count > 0]):
        rows, cols = np.nonzero(count == n)
        x, w = _legendre(int(n))
        h = half[rows, cols][:, None]
        z = centre[rows, cols][:, None] + h * x
        out.append((np.repeat(rows, n), z.reshape(-1), (h * w * np.exp(-z * z / 2)).reshape(-1)))
    parent, z, weight = (np.concatenate(parts) for parts in zip(*out, strict=True))
    return parent, z, weight * _INVERSE_ROOT_2PI


#: A kink of a field whose last coordinate is inner to coordinate ``j`` makes the inner
#: integral a smooth step in ``xi_j`` of width ``|L_kl / L_kj|``; below this width the
#: coordinate is cut at the step's centre and at distances ``width * 2^i`` from it, a graded
#: mesh on which Gauss-Legendre resolves the step.  Only for integrals over at most
#: ``TRANSITION_COORDINATES`` coordinates: over four the pieces multiply (21 s for one
#: integral at correlations 0.98).
TRANSITION_WIDTH = 1.0
TRANSITION_COORDINATES = 3


def _transition_cuts(L, kinks, last, j: int, points: np.ndarray) -> list[np.ndarray]:
    """Graded cuts of coordinate ``j`` around the steps that inner kinks make in it (kinked
    fields strongly correlated with an outer one: over two and three such fields at
    correlations up to ``1 - 1e-3`` the rule without them erred by up to ``8e-5``)."""
    out = []
    for k, inner in enumerate(last):
        if inner <= j or L[k, j] == 0:
            continue
        width = abs(L[k, inner] / L[k, j])
        if width >= TRANSITION_WIDTH:
            continue
        levels = math.ceil(math.log2(TRANSITION_WIDTH / width))
        offsets = width * 2.0 ** np.arange(levels + 1)
        for t in kinks[k]:
            centre = (t - points[:, :j] @ L[k, :j]) / L[k, j]
            out.append(centre)
            out += [centre + sign * o for o in offsets for sign in (-1.0, 1.0)]
    return out


#: Pieces narrower than this (half-width) get their moments by Gauss-Legendre
#: (:data:`NARROW_NODES` nodes) instead of the recursion, whose division by ``h^k`` would
#: amplify rounding.
NARROW = 0.125
NARROW_NODES = 16
#: Interpolation nodes of :func:`truncated_rule` lie in this range where the piece allows (a
#: polynomial is fixed by its values anywhere; near the Gaussian mass, rounding in the values
#: is amplified least).
INTERPOLATION_RANGE = 4.0


@lru_cache(maxsize=16)
def _interpolation(degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Chebyshev nodes ``t_i`` on ``[-1, 1]`` and the inverse of their Vandermonde matrix."""
    q = degree + 1
    t = np.cos(np.pi * (2 * np.arange(q) + 1) / (2 * q))
    return t, np.linalg.inv(np.vander(t, q, increasing=True))


def truncated_rule(lo: np.ndarray, hi: np.ndarray, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``z_i`` and weights ``w_i`` (shape ``lo.shape + (degree + 1,)``) with
    ``sum_i w_i p(z_i) = int_lo^hi p(z) phi(z) dz`` for every polynomial ``p`` of degree at
    most ``degree`` (``phi`` the standard normal density; ``lo`` may be ``-inf``, ``hi``
    ``+inf``).

    The nodes are ``z_i = c + h t_i`` at Chebyshev nodes ``t_i`` of the part of the piece in
    ``[-INTERPOLATION_RANGE, INTERPOLATION_RANGE]``; with
    ``p(c + h t) = sum_k b_k t^k``, ``b = V^{-1} p(z)``, the integral is ``sum_k b_k J_k``,
    ``J_k = N_k / h^k``, ``N_k = int_lo^hi (u - c)^k phi(u) du``.  Integrating
    ``d/du[(u - c)^(k-1) phi(u)] = ((k - 1)(u - c)^(k-2) - (u - c)^k - c (u - c)^(k-1)) phi(u)``
    over the piece gives ``N_k = (k - 1) N_{k-2} - c N_{k-1} - [(u - c)^(k-1) phi(u)]_lo^hi``,
    from ``N_0 = Phi(hi) - Phi(lo)`` (absolute accuracy is what the sum needs) and
    ``N_1 = phi(lo) - phi(hi) - c N_0``.  Pieces narrower than ``2 NARROW`` take ``J_k`` from
    Gauss-Legendre instead (the recursion's division by ``h^k`` would amplify rounding)."""
    lo = np.clip(lo, -40.0, 40.0)  # the Gaussian mass beyond is below 1e-300
    hi = np.clip(hi, -40.0, 40.0)
    t, inverse = _interpolation(degree)
    half = (hi - lo) / 2
    wide = half >= NARROW
    # interpolation interval [a, b]: the piece within [-INTERPOLATION_RANGE,
    # INTERPOLATION_RANGE], where most of the mass is, at least 2 NARROW wide
    a = np.minimum(np.maximum(lo, -INTERPOLATION_RANGE), hi - 2 * NARROW)
    b = np.maximum(np.minimum(hi, INTERPOLATION_RANGE), a + 2 * NARROW)
    c = np.where(wide, (a + b) / 2, (lo + hi) / 2)
    h = np.where(wide, (b - a) / 2, half)
    J = np.empty((*c.shape, degree + 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        p_lo = np.exp(-lo * lo / 2) * _INVERSE_ROOT_2PI
        p_hi = np.exp(-hi * hi / 2) * _INVERSE_ROOT_2PI
        previous = special.ndtr(hi) - special.ndtr(lo)
        J[..., 0] = previous
        if degree >= 1:
            current = p_lo - p_hi - c * previous
            J[..., 1] = current / h
            for k in range(2, degree + 1):
                boundary = (hi - c) ** (k - 1) * p_hi - (lo - c) ** (k - 1) * p_lo
                previous, current = current, (k - 1) * previous - c * current - boundary
                J[..., k] = current / h**k
    if not wide.all():
        narrow = ~wide
        x, w = _legendre(NARROW_NODES)
        cn, hn = c[narrow], h[narrow]
        u = cn[:, None] + hn[:, None] * x
        density = hn[:, None] * w * np.exp(-u * u / 2) * _INVERSE_ROOT_2PI
        J[narrow] = density @ (x[:, None] ** np.arange(degree + 1))
    return c[..., None] + h[..., None] * t, J @ inverse


_INVERSE_ROOT_2PI = 1 / math.sqrt(2 * math.pi)


def gaussian_integral(
    cls: type, *entries, nodes: int | None = None, accuracy: float | None = None
) -> np.ndarray:
    """``E[cls.integrand(y)]`` for ``y ~ N(0, C)``, ``C`` given by its upper-triangle entries:
    tensor Gauss-Hermite in the whitened fields, :func:`strip_rule` (target
    ``exp(-accuracy)``) for an integrand analytic in a strip but not entire unless ``nodes``
    asks for Gauss-Hermite with that many nodes, or, for steps of single fields
    (:func:`~featcheck.theory.committee.expectations.split_kinks`), :func:`split_rule`
    (``nodes`` then counts the Gauss-Legendre nodes per piece); fields in which the integrand
    is a polynomial without kinks are integrated exactly by Gauss-Hermite (:func:`tensor_rule`
    with a :func:`polynomial_tail`, or the ``tail`` of :func:`split_rule`)."""
    m = cls.slots
    if m not in HERMITE_NODES:
        raise InputError(
            f"a Gaussian integral over {m} fields has no closed form here and is too large "
            "for tensor quadrature (at most 6 fields)"
        )
    kinks = split_kinks(cls.integrand, m)
    if kinks is not None:
        return _split_integral(cls, kinks, entries, nodes)
    C, shape = covariance_stack(cls, entries)
    f = integrand_function(cls)
    out = np.empty(len(C))
    tail = polynomial_tail(cls)
    if tail is not None:
        for n, covariance in enumerate(C):
            L = tail_root(covariance, tail)
            out[n] = _strip_integral(f, L, *tensor_rule(cls, L, nodes, accuracy)[:2])
        return out.reshape(shape) if shape else out[0]
    points, weights = _hermite_rule(m, nodes or HERMITE_NODES[m])
    roots = whitening_roots(C)
    for n, L in enumerate(roots):
        widths = None if nodes else strip_widths(cls, L)
        if widths is not None:
            out[n] = _strip_integral(f, L, *strip_rule(widths, accuracy)[:2])
            continue
        total = 0.0
        for start in range(0, len(points), CHUNK):
            y = points[start : start + CHUNK] @ L.T
            with np.errstate(all="ignore"):
                values = np.broadcast_to(f(*y.T), (len(y),))
            total += float(values @ weights[start : start + CHUNK])
        out[n] = total
    return out.reshape(shape) if shape else out[0]


def tensor_rule(
    cls: type, L: np.ndarray, nodes: int | None = None, accuracy: float | None = None
) -> tuple[list, list, str]:
    """The one-dimensional rules (nodes and weights per coordinate) with which
    :func:`gaussian_integral` evaluates ``E[f(L xi)]`` for an integrand without kinks, and
    their description: :func:`strip_rule` for an integrand analytic in a strip but not entire
    (unless ``nodes`` is given), else tensor Gauss-Hermite with ``nodes`` (default
    :data:`HERMITE_NODES`) per dimension.  With a :func:`polynomial_tail` (``L`` then from
    :func:`tail_root`), these rules cover the hard coordinates and the others get
    Gauss-Hermite exact for the integrand's degree in them."""
    tail = polynomial_tail(cls)
    m = tail.hard if tail is not None else cls.slots
    widths = None if nodes else strip_widths(cls, L[:, :m])
    if widths is None:
        n = nodes or HERMITE_NODES[m]
        x, w = _gauss_hermite(n)
        xs, ws, text = [x] * m, [w] * m, f"tensor Gauss-Hermite, {n} nodes per dimension"
    else:
        xs, ws, labels = strip_rule(widths, accuracy)
        text = f"strip rule, nodes per coordinate: {', '.join(labels)}"
    if tail is None:
        return xs, ws, text
    x, w = _gauss_hermite(tail.nodes)
    soft = cls.slots - m
    xs, ws = xs + [x] * soft, ws + [w] * soft
    return xs, ws, f"{text}; {soft} polynomial fields: {tail.nodes} Gauss-Hermite (exact)"


class PolynomialTail(NamedTuple):
    """The layout of an integrand without kinks that is a polynomial in some fields and not
    in the others (the ``hard`` ones): ``order`` lists the slots, hard ones first; ``nodes``
    Gauss-Hermite nodes are exact for the total degree ``D`` in the others
    (``floor(D/2) + 1``)."""

    order: tuple[int, ...]
    hard: int
    nodes: int


@lru_cache(maxsize=512)
def polynomial_tail(cls: type) -> PolynomialTail | None:
    """The :class:`PolynomialTail` of ``cls``'s integrand (a smooth student times a
    polynomial link of the teacher fields), or None: steps or other non-smooth parts, no
    polynomial field, none other, or more than four hard fields.

    In the echelon root of the covariance in this order (:func:`tail_root`) no hard field
    depends on the coordinates of the polynomial ones, so for fixed hard coordinates the
    integrand is a polynomial of degree at most ``D`` in those coordinates and ``nodes``
    Gauss-Hermite nodes each integrate it exactly; the hard coordinates get the rule of an
    integral over ``hard`` fields."""
    if cls.integrand.atoms(sp.Heaviside, sp.Abs, sp.sign, sp.Max, sp.Min, sp.DiracDelta):
        return None
    hard, soft, nodes = _polynomial_fields(cls)
    if not 1 <= len(hard) <= 4 or not soft:
        return None
    return PolynomialTail((*hard, *soft), len(hard), nodes)


def _polynomial_fields(cls: type) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """``(hard, soft, n)``: the hard slots, the others (in which the integrand is a polynomial
    without kinks) and the Gauss-Hermite nodes ``n = floor(D/2) + 1`` exact for the total
    degree ``D <= sum`` of the others' degrees."""
    hard = hard_fields(cls.integrand, cls.slots)
    degrees = field_degrees(cls.integrand, cls.slots)
    soft = tuple(k for k in range(cls.slots) if k not in hard)
    return hard, soft, sum(degrees[k] for k in soft) // 2 + 1


def tail_root(C: np.ndarray, tail: PolynomialTail) -> np.ndarray:
    """``L`` with ``L L^T = C`` whose rows are the fields in slot order and whose columns are
    the coordinates of the echelon root in the :class:`PolynomialTail`'s order (hard fields
    depend on the first ``tail.hard`` columns only)."""
    order = list(tail.order)
    return echelon_root(C[np.ix_(order, order)])[np.argsort(order)]


def _strip_integral(f, L: np.ndarray, xs: list, ws: list) -> float:
    def values(y: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.broadcast_to(f(*y.T), (len(y),))

    return float(tensor_sums(values, L, xs, ws)[0])


def split_nodes(cls: type) -> int:
    """Gauss-Legendre nodes per piece of the split rule for ``cls``: by the number of
    coordinates integrated by Gauss-Legendre, one per hard field
    (:func:`~featcheck.theory.committee.expectations.hard_fields`), one fewer when the
    integrand is a polynomial in one of them."""
    return SPLIT_NODES[max(1, legendre_coordinates(cls.integrand, cls.slots))]


#: Kinked fields correlated beyond this (in absolute value) make steep transitions in one
#: another's coordinates (:func:`_field_order`).
STEEP_CORRELATION = 0.9


def _steep(C: np.ndarray, kinks) -> bool:
    """True when two fields with kinks are correlated beyond :data:`STEEP_CORRELATION`."""
    kinked = [k for k in range(len(C)) if kinks[k]]
    s = np.sqrt(np.clip(np.diag(C)[kinked], 1e-300, None))
    R = np.abs(C[np.ix_(kinked, kinked)]) / np.outer(s, s)
    np.fill_diagonal(R, 0.0)
    return bool(R.size) and float(R.max()) > STEEP_CORRELATION


def _field_order(degrees: tuple[int | None, ...], kinks, steep: bool) -> list[int]:
    """Slots in the order of the echelon root: fields that are not polynomial first, then
    polynomial fields with kinks, then those without, lowest degree last.  A field without
    kinks makes no transition in the outer coordinates, so it is the best last (exact)
    coordinate.

    A kink of an inner field strongly correlated with an outer one makes a transition in the
    outer coordinate as narrow as the inner field's residual: a step when the inner field
    enters through a step (degree 0), only a bend when through a ReLU (degree 1).  With
    ``steep`` (:func:`_steep`) kinked fields therefore go from the lowest degree (outer) to
    the highest: near a ``K = M = 2`` biased-ReLU teacher, ``M = (1 - eps) I``, the certified
    right-hand-side error fell from 5e-7 to 4e-10 at ``eps = 1e-2`` and from 1.3e-4 to 5e-7
    at ``eps = 1e-4``.  Otherwise the highest degree goes outer, which leaves fewer points
    in the exact last coordinate (1.7 times fewer over four fields, where both orders agree
    with the exact values to 4e-15 at random covariances)."""

    def key(k: int) -> tuple[int, int, int]:
        d = degrees[k]
        if d is None:
            return (0, 0, 0)
        if kinks[k]:
            return (1, 0, d if steep else -d)
        return (1, 1, -d)

    return sorted(range(len(degrees)), key=key)


def _split_integral(cls: type, kinks, entries, nodes: int | None) -> np.ndarray:
    C, shape = covariance_stack(cls, entries)
    f = integrand_function(cls)
    degrees = field_degrees(cls.integrand, cls.slots)
    orders = {}
    for steep in (False, True):
        order = _field_order(degrees, kinks, steep)
        orders[steep] = order, np.argsort(order)
    nodes = nodes or split_nodes(cls)
    _, soft_fields, tail_nodes = _polynomial_fields(cls)  # last in either order
    soft = len(soft_fields)
    tail = (soft, tail_nodes)
    out = np.empty(len(C))
    for n, covariance in enumerate(C):
        paired = _paired_root(covariance, kinks, degrees)
        if paired is not None:
            rows, cuts, inner = paired
            points, weights = split_rule(rows, cuts, nodes, inner)
            y = points @ rows[: cls.slots].T
        else:
            order, back = orders[_steep(covariance, kinks)]
            L = echelon_root(covariance[np.ix_(order, order)])
            inner = _inner_degree(L, [degrees[k] for k in order], soft)
            points, weights = split_rule(L, [kinks[k] for k in order], nodes, inner, tail)
            y = (points @ L.T)[:, back]
        with np.errstate(all="ignore"):
            values = np.broadcast_to(f(*y.T), (len(y),))
        out[n] = float(values @ weights)
    return out.reshape(shape) if shape else out[0]


def _paired_root(C: np.ndarray, kinks, degrees) -> tuple | None:
    """A root for four kinked fields that form two pairs correlated beyond
    :data:`STEEP_CORRELATION` (two students near their teachers): ``(rows, kinks, degree)``
    for :func:`split_rule`, or None.

    With ``x_k = y_k / sigma_k`` and ``s`` the sign of a pair's correlation, each pair
    ``(a, b)`` becomes its difference ``v = x_a - s x_b`` and its sum ``u = x_a + s x_b``;
    the coordinates are those of the echelon root of ``(v_1, v_2, u_1, u_2)``, differences
    outer.  Both fields of a pair, ``y_a = sigma_a (u + v)/2`` and
    ``y_b = s sigma_b (u - v)/2``, then have their kinks in the same coordinate (their
    sum's), which the rule cuts exactly; the inner integral is smooth in the outer
    coordinates except where the two cuts cross, at ``v = t_a/sigma_a - s t_b/sigma_b``,
    which the rule cuts too (the rows after the fields, ``v_1`` and ``v_2``, carry those
    crossings as kinks).  In the echelon root of the fields themselves, one field of a pair
    has its kink in an inner coordinate of residual scale ``sqrt(1 - rho^2)``: a steep step
    in the outer coordinate, which Gauss-Legendre resolves only with a graded mesh (at a
    ``K = M = 2`` biased-ReLU teacher, ``M = (1 - eps) I``, the right-hand side of ``Q_12``
    was off by ``2e-7`` at ``eps = 1e-3`` without one)."""
    if len(C) != 4 or any(not kinks[k] or degrees[k] is None for k in range(4)):
        return None
    sigma = np.sqrt(np.diag(C))
    if np.any(sigma <= 0):
        return None
    R = C / np.outer(sigma, sigma)
    pairs = max(
        ([(0, 1), (2, 3)], [(0, 2), (1, 3)], [(0, 3), (1, 2)]),
        key=lambda p: min(abs(R[i, j]) for i, j in p),
    )
    if min(abs(R[i, j]) for i, j in pairs) <= STEEP_CORRELATION:
        return None
    T = np.zeros((4, 4))
    crossings = []
    for r, (a, b) in enumerate(pairs):
        s = math.copysign(1.0, R[a, b])
        T[r, a], T[r, b] = 1 / sigma[a], -s / sigma[b]
        T[r + 2, a], T[r + 2, b] = 1 / sigma[a], s / sigma[b]
        crossings.append(
            tuple(sorted({ta / sigma[a] - s * tb / sigma[b] for ta in kinks[a] for tb in kinks[b]}))
        )
    root = echelon_root(T @ C @ T.T)
    if root[3, 3] == 0:  # u_2 a combination of the others: the last coordinate is not u_2's
        return None
    rows = np.vstack([np.linalg.solve(T, root), root[:2]])
    last = pairs[1]
    return rows, [*kinks[:4], *crossings], degrees[last[0]] + degrees[last[1]]


def _inner_degree(L: np.ndarray, degrees: list[int | None], soft: int = 0) -> int | None:
    """The degree of the integrand in the last coordinate of the echelon root ``L`` before the
    ``soft`` trailing ones: the sum of the degrees of the fields that depend on it, None if
    one is not polynomial."""
    m = len(L)
    columns = [j for j in range(m - soft) if L[j, j] != 0]
    if not columns:
        return None
    fields = [k for k in range(m) if L[k, columns[-1]] != 0]
    if any(degrees[k] is None for k in fields):
        return None
    return sum(degrees[k] for k in fields)


def quadrature_error(cls: type, *entries, nodes: int | None = None) -> np.ndarray:
    """``|Q_N - Q_N'|``: an estimate of the error of :func:`gaussian_integral` with
    ``nodes = N`` (default :data:`HERMITE_NODES`), essentially the error of the coarser rule:
    ``N' = N/2`` for Gauss-Hermite, :func:`strip_rule` at three quarters of its accuracy
    ``ln(1/epsilon)`` (an integrand analytic in a strip, ``nodes`` not given), ``N' = 3N/4``
    nodes per piece for the split rule
    (:data:`SPLIT_NODES`; halving them would report the error of a rule far worse than the
    one used: 16 Gauss-Legendre nodes on a piece of ``[-9, 9]`` miss a Gaussian by ``~1e-5``,
    24 by ``~1e-9``, 32 by ``~1e-15``)."""
    split = split_kinks(cls.integrand, cls.slots) is not None
    tail = polynomial_tail(cls)
    dimension = tail.hard if tail is not None else cls.slots
    if not split and nodes is None and _has_strip(cls):
        fine = gaussian_integral(cls, *entries)
        coarse = gaussian_integral(cls, *entries, accuracy=0.75 * STRIP_ACCURACY[dimension])
        return np.abs(fine - coarse)
    n = nodes or (split_nodes(cls) if split else HERMITE_NODES[dimension])
    fine = gaussian_integral(cls, *entries, nodes=n)
    coarse = gaussian_integral(cls, *entries, nodes=(3 * n) // 4 if split else n // 2)
    return np.abs(fine - coarse)


def _has_strip(cls: type) -> bool:
    """Whether :func:`gaussian_integral` uses :func:`strip_rule` for ``cls`` (by default)."""
    tail = polynomial_tail(cls)
    if tail is None:
        return strip_widths(cls, np.eye(cls.slots)) is not None
    return strip_widths(cls, np.eye(cls.slots)[:, list(tail.order[: tail.hard])]) is not None


def _integral_derivative(cls: type, *entries) -> np.ndarray:
    """``d/dC_entry`` of the parent integral by central differences."""
    values = [np.asarray(e, dtype=float) for e in entries]
    scale = np.maximum(1.0, np.abs(values[cls.entry]))
    h = 1e-5 * scale
    up = list(values)
    down = list(values)
    up[cls.entry] = values[cls.entry] + h
    down[cls.entry] = values[cls.entry] - h
    return (gaussian_integral(cls.parent, *up) - gaussian_integral(cls.parent, *down)) / (2 * h)


# ----------------------------------------------------------------------------
# The Jacobian of a right-hand side, by central differences


class _CentralDifferences:
    """All ``d rhs_r / d y_s`` at a state, computed together and kept for the last state."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.n = len(cls.rhs)
        self._rhs = None
        self._last: tuple[bytes, np.ndarray] | None = None

    def rhs(self, arguments: list[np.ndarray]) -> np.ndarray:
        if self._rhs is None:
            self._rhs = sp.lambdify(
                self.cls.arguments, list(self.cls.rhs), modules=MODULES, cse=True
            )
        values = self._rhs(*arguments)
        shape = np.broadcast(*arguments).shape
        return np.array([np.broadcast_to(np.asarray(v, dtype=float), shape) for v in values])

    def jacobian(self, arguments: list[np.ndarray]) -> np.ndarray:
        key = b"".join(a.tobytes() for a in arguments)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        n = self.n
        shape = np.broadcast(*arguments).shape
        out = np.empty((n, n, *shape))
        for s in range(n):
            h = 1e-6 * np.maximum(1.0, np.abs(arguments[s]))
            up = list(arguments)
            down = list(arguments)
            up[s] = arguments[s] + h
            down[s] = arguments[s] - h
            out[:, s] = (self.rhs(up) - self.rhs(down)) / (2 * h)
        self._last = (key, out)
        return out

    def __call__(self, r, s, *arguments):
        values = [np.asarray(a, dtype=float) for a in arguments]
        return self.jacobian(values)[int(r), int(s)]


def _sign_moment_backend(cls: type):
    return sign_moment4


def _integral_backend(cls: type):
    def call(*entries):
        return gaussian_integral(cls, *entries)

    return call


def _integral_derivative_backend(cls: type):
    def call(*entries):
        return _integral_derivative(cls, *entries)

    return call


register_numeric_backend("sign-moment-4", _sign_moment_backend)
register_numeric_backend("gaussian-integral", _integral_backend)
register_numeric_backend("gaussian-integral-derivative", _integral_derivative_backend)
register_numeric_backend("jacobian-entry", _CentralDifferences)
