"""Orthant probabilities and piecewise-polynomial Gaussian integrals enclosed in Arb balls.

Independent references: the arcsine laws of centred orthants (two and three fields, exact),
Isserlis/Wick moments of polynomials (exact, sympy), Stein's identity
``E[y_2 1{y_1 > t}] = C_12 phi(t / s_1) / s_1`` (exact), Plackett's four-sign integral by
``mpmath.quad`` at 30 digits, Genz's algorithm (``scipy.stats.multivariate_normal``) and Monte
Carlo with a confidence interval for thresholds away from zero.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import featcheck.numerics.committee  # noqa: F401  (registers the evaluators)
from featcheck.numerics import strategies as fs
from featcheck.numerics.committee.certified import (
    certified_piecewise,
    certified_sign_moment4,
)
from featcheck.numerics.committee.evaluation import gaussian_integral
from featcheck.numerics.committee.orthants import (
    NotCertifiable,
    orthant_probability,
    piecewise_polynomial_mean,
    piecewise_terms,
    sign_moment4_ball,
)
from featcheck.theory.committee.expectations import (
    gaussian_expectation,
    gaussian_integral_class,
    sign_moment4_mp,
    slot_symbols,
)

Y = slot_symbols(4)
H = sp.Heaviside
HALF = sp.Rational(1, 2)


def relu(u):
    return u * H(u)


def covariances(n: int, jitter: float = 0.2):
    """Random positive-definite ``n x n`` covariances ``A A^T / n + jitter I``."""
    return st.lists(st.floats(-1.5, 1.5, allow_nan=False), min_size=n * n, max_size=n * n).map(
        lambda v: np.array(v).reshape(n, n) @ np.array(v).reshape(n, n).T / n + jitter * np.eye(n)
    )


def _correlation(C: np.ndarray) -> np.ndarray:
    s = np.sqrt(np.diag(C))
    return C / np.outer(s, s)


def _entries(C: np.ndarray) -> list[float]:
    return [float(C[i, j]) for i in range(len(C)) for j in range(i, len(C))]


def _contains(ball, x: float, slack: float = 0.0) -> bool:
    return abs(float(ball.mid()) - x) <= float(ball.rad()) + slack


@settings(max_examples=25, deadline=None)
@given(C=covariances(3))
def test_centred_orthants_equal_the_arcsine_laws(C):
    R = _correlation(C)
    two = orthant_probability([0, 0], R[:2, :2].tolist())
    assert _contains(two, 0.25 + math.asin(R[0, 1]) / (2 * math.pi), 1e-15)
    three = orthant_probability([0, 0, 0], C.tolist())
    exact = 0.125 + (math.asin(R[0, 1]) + math.asin(R[0, 2]) + math.asin(R[1, 2])) / (4 * math.pi)
    assert _contains(three, exact, 1e-15)
    assert float(two.rad()) < 1e-12 and float(three.rad()) < 1e-12


THRESHOLDS = st.lists(st.floats(-1.5, 1.5, allow_nan=False), min_size=4, max_size=4)


@settings(max_examples=20, deadline=None)
@given(C=covariances(2), h=THRESHOLDS)
def test_two_field_orthants_against_mpmath(C, h):
    """``P(z_1 > h_1, z_2 > h_2) = int_(h_1/s_1)^inf phi(x) Phibar((h_2/s_2 - r x)/sqrt(1 -
    r^2)) dx`` by ``mpmath.quad`` at 30 digits."""
    ball = orthant_probability(h[:2], C.tolist(), tolerance=1e-13)
    with mpmath.workdps(30):
        s1, s2 = mpmath.sqrt(C[0, 0]), mpmath.sqrt(C[1, 1])
        r = mpmath.mpf(C[0, 1]) / (s1 * s2)
        a, b = h[0] / s1, h[1] / s2

        def inner(x):
            return mpmath.npdf(x) * mpmath.ncdf(-(b - r * x) / mpmath.sqrt(1 - r * r))

        reference = float(mpmath.quad(inner, [a, a + 1, mpmath.inf]))
    assert float(ball.rad()) < 1e-12
    assert _contains(ball, reference, 1e-14)


@settings(max_examples=8, deadline=None)
@given(C=covariances(4), h=THRESHOLDS, n=st.integers(3, 4))
def test_three_and_four_field_orthants_against_monte_carlo(C, h, n):
    """Within five standard errors of a Monte Carlo frequency (fixed seed, 2 million)."""
    C, h = C[:n, :n], np.array(h[:n])
    ball = orthant_probability(h.tolist(), C.tolist(), tolerance=1e-12)
    assert float(ball.rad()) < 1e-10
    z = np.random.default_rng(11).multivariate_normal(np.zeros(n), C, size=2_000_000)
    hits = np.all(z > h, axis=1)
    p = float(ball.mid())
    assert abs(hits.mean() - p) <= 5 * math.sqrt(max(p * (1 - p), 1e-12) / len(hits)) + 1e-12


@settings(max_examples=20, deadline=None)
@given(C=covariances(3), degrees=st.lists(st.integers(0, 3), min_size=3, max_size=3))
def test_polynomials_against_isserlis(C, degrees):
    y = sp.symbols("a b c", real=True)
    monomial = sp.Mul(*(v**d for v, d in zip(y, degrees, strict=True)))
    Cs = sp.Matrix(3, 3, lambda i, j: sp.Rational(C[i, j]))
    exact = float(gaussian_expectation(monomial, y, Cs).value)
    ball = piecewise_polynomial_mean(monomial.subs(dict(zip(y, Y, strict=False))), 3, C.tolist())
    assert _contains(ball, exact, 1e-13 * max(1.0, abs(exact)))


@pytest.mark.parametrize("rho", [0.5, 0.9, 0.99, 0.9999, 0.999999])
def test_stein_identity_and_the_split_rule_at_high_correlation(rho):
    """``E[y_2 1{y_1 > t}] = C_12 phi(t/s_1)/s_1``: the ball contains it, and the split rule
    (graded cuts around the steep step an inner kink makes) is within the certified bound,
    which is small at every correlation (32 plain nodes missed it by 1.5e-2 at 0.99)."""
    C = np.array([[1.3, rho * math.sqrt(1.3 * 0.8)], [rho * math.sqrt(1.3 * 0.8), 0.8]])
    t = -0.5
    s1 = math.sqrt(C[0, 0])
    exact = C[0, 1] * math.exp(-((t / s1) ** 2) / 2) / math.sqrt(2 * math.pi) / s1
    integrand = Y[1] * H(Y[0] + HALF)
    assert _contains(piecewise_polynomial_mean(integrand, 2, C.tolist()), exact, 1e-15)
    cls = gaussian_integral_class(integrand, 2)
    certified = certified_piecewise(cls, *_entries(C))
    assert abs(certified.value - exact) <= certified.bound + 1e-15
    assert certified.bound < 1e-10


@pytest.mark.parametrize("rho", [0.9, 0.99, 0.9999, -0.999])
@pytest.mark.parametrize("slots", [2, 3])
def test_strongly_correlated_kinks_within_a_small_certified_bound(rho, slots):
    """Two kinked fields with correlation ``rho`` (a student near its teacher): the inner
    kink makes a steep step in the outer coordinate, which the graded cuts resolve (without
    them the rule erred by up to 8e-5 over two fields and 4e-6 over three)."""
    integrand = relu(Y[0] + HALF) * H(Y[1] + HALF)
    B = np.array(
        [
            [math.sqrt(1.2), 0.0, 0.0],
            [rho * math.sqrt(0.9), math.sqrt((1 - rho * rho) * 0.9), 0.0],
            [0.3, 0.2, 0.8],
        ]
    )
    C = (B @ B.T)[:slots, :slots]
    if slots == 3:
        integrand = integrand * relu(Y[2] + HALF)
    cls = gaussian_integral_class(integrand, slots)
    assert certified_piecewise(cls, *_entries(C)).bound < 1e-9


@settings(max_examples=10, deadline=None)
@given(C=covariances(4))
def test_four_kinked_fields_against_the_split_rule_and_monte_carlo(C):
    """The eta^2 integrand of a biased-ReLU committee: the certified bound of the split rule
    is small, and a Monte Carlo mean (fixed seed, 4 million samples) is within five standard
    errors of the ball."""
    integrand = H(Y[0] + HALF) * H(Y[1] + HALF) * relu(Y[2] + HALF) * relu(Y[3] + HALF)
    cls = gaussian_integral_class(integrand, 4)
    certified = certified_piecewise(cls, *_entries(C))
    assert certified.bound < 1e-6
    rng = np.random.default_rng(7)
    z = rng.multivariate_normal(np.zeros(4), C, size=4_000_000)
    v = (
        (z[:, 0] > -0.5)
        * (z[:, 1] > -0.5)
        * np.maximum(z[:, 2] + 0.5, 0)
        * np.maximum(z[:, 3] + 0.5, 0)
    )
    exact = piecewise_polynomial_mean(integrand, 4, C.tolist())
    assert abs(v.mean() - float(exact.mid())) <= 5 * v.std() / math.sqrt(len(v))


Y6 = slot_symbols(6)


def _staircase(fields) -> sp.Expr:
    """``z1 + z1 z2 + z1 z2 z3 + ...``: a polynomial link of the given teacher fields."""
    return sum((sp.Mul(*fields[: i + 1]) for i in range(len(fields))), sp.Integer(0))


#: Biased-ReLU integrands of link teachers over five and six fields: steps or ReLUs of the
#: student fields (kinked) times a polynomial link of the teacher fields (no kinks), as in the
#: ODEs of ``K = 2, 3`` students of ``M = 3, 4`` staircase targets.
def _link_integrand(kinked: int, slots: int, power: int) -> sp.Expr:
    steps = [H(Y6[0] + HALF), H(Y6[1] + HALF), relu(Y6[2] + HALF)][:kinked]
    return sp.Mul(*steps) * _staircase(Y6[kinked:slots]) ** power


@settings(max_examples=12, deadline=None)
@given(
    data=st.data(),
    shape=st.sampled_from([(2, 5, 1), (2, 5, 2), (2, 6, 2), (3, 6, 1)]),
)
def test_polynomial_fields_beyond_four_factorise_exactly(data, shape):
    """With the teacher fields independent of the kinked ones, ``E[g(y_h) F(y_s)] =
    E[g(y_h)] E[F(y_s)]``: the five- and six-field ball contains the product of the
    orthant ball over the kinked fields alone and Isserlis/Wick over the polynomial ones, and
    the split rule (cut at the kinks, Gauss-Hermite exact in the polynomial fields) is in
    the ball."""
    kinked, slots, power = shape
    hard = data.draw(covariances(kinked))
    soft = data.draw(covariances(slots - kinked))
    C = np.zeros((slots, slots))
    C[:kinked, :kinked], C[kinked:, kinked:] = hard, soft
    integrand = _link_integrand(kinked, slots, power)
    ball = piecewise_polynomial_mean(integrand, slots, C.tolist())
    g = sp.Mul(*[f for f in sp.Mul.make_args(integrand) if f.has(*Y6[:kinked])])
    left = piecewise_polynomial_mean(g, kinked, hard.tolist())
    fields = list(Y6[kinked:slots])
    exact_soft = sp.Matrix(len(soft), len(soft), lambda i, j: sp.Rational(soft[i, j]))
    right = gaussian_expectation(_staircase(fields) ** power, fields, exact_soft)
    assert right.exact
    product = float(left.mid()) * float(sp.N(right.value, 30))
    assert _contains(ball, product, abs(float(sp.N(right.value, 30))) * float(left.rad()) + 1e-13)
    cls = gaussian_integral_class(integrand, slots)
    assert _contains(ball, float(gaussian_integral(cls, *_entries(C))), 1e-12)


@settings(max_examples=12, deadline=None)
@given(
    C=covariances(6),
    shape=st.sampled_from([(2, 5, 1), (2, 5, 2), (2, 6, 2), (3, 6, 1)]),
)
def test_link_integrals_over_five_and_six_fields_within_the_exact_ball(C, shape):
    """Correlated fields: the split rule agrees with the exact reduction to orthant
    probabilities (an independent algorithm: Stein's lemma and conditioning on the kinks in
    ball arithmetic) to 1e-11, with a certificate below 1e-10."""
    kinked, slots, power = shape
    C = C[:slots, :slots]
    cls = gaussian_integral_class(_link_integrand(kinked, slots, power), slots)
    certified = certified_piecewise(cls, *_entries(C), tolerance=1e-12)
    assert certified.bound < 1e-10
    assert abs(certified.value - float(gaussian_integral(cls, *_entries(C)))) < 1e-11


@settings(max_examples=10, deadline=None)
@given(data=st.data(), slots=st.sampled_from([5, 6]))
def test_random_polynomial_links_over_five_and_six_fields(data, slots):
    """Kinked student fields times a random polynomial of the other fields, a random
    covariance: the split rule (exact Gauss-Hermite in the polynomial fields, whatever
    their degree) within ``1e-11`` of the exact reduction, certified below ``1e-10``."""
    text = data.draw(fs.multi_index_links(indices=slots - 2))
    link = sp.sympify(text, locals={f"z{i + 1}": y for i, y in enumerate(Y6[2:slots])})
    power = data.draw(st.integers(1, 2))
    C = data.draw(covariances(slots))
    integrand = H(Y6[0] + HALF) * relu(Y6[1] + HALF) * link**power
    cls = gaussian_integral_class(integrand, slots)
    certified = certified_piecewise(cls, *_entries(C), tolerance=1e-12)
    assert certified.bound < 1e-10 * max(1.0, abs(certified.value))


def test_tensor_gauss_hermite_misses_a_five_field_link_integral():
    """The rule these integrals had before (tensor Gauss-Hermite, 12 nodes per dimension over
    five fields) is off by more than 1e-3 here, far outside the exact ball, which the split
    rule meets."""
    C = np.array(
        [
            [1.0, 0.3, 0.4, 0.1, 0.0],
            [0.3, 0.8, 0.0, 0.3, 0.1],
            [0.4, 0.0, 1.0, 0.0, 0.0],
            [0.1, 0.3, 0.0, 1.0, 0.0],
            [0.0, 0.1, 0.0, 0.0, 1.0],
        ]
    )
    integrand = _link_integrand(2, 5, 2)
    cls = gaussian_integral_class(integrand, 5)
    ball = piecewise_polynomial_mean(integrand, 5, C.tolist())
    x, w = np.polynomial.hermite_e.hermegauss(12)
    grid = np.stack(np.meshgrid(*[x] * 5, indexing="ij"), -1).reshape(-1, 5)
    weights = np.prod(np.stack(np.meshgrid(*[w] * 5, indexing="ij"), -1).reshape(-1, 5), 1)
    f = sp.lambdify(Y6[:5], integrand, modules=[{"Heaviside": np.heaviside}, "numpy"])
    y = grid @ np.linalg.cholesky(C).T
    hermite = float(f(*y.T) @ weights) / (2 * math.pi) ** 2.5
    assert _contains(ball, float(gaussian_integral(cls, *_entries(C))), 1e-12)
    assert abs(hermite - float(ball.mid())) > 1e-3


def _orthant_ball(h, R, paired: bool):
    from flint import acb

    from featcheck.numerics.committee.orthants import PRECISION, WORK, _precision, _standard_orthant
    from featcheck.numerics.committee.orthants import _Work as Work

    with _precision(PRECISION):
        value = _standard_orthant(
            [acb(x) for x in h], [[acb(x) for x in row] for row in R], 1e-12, Work(WORK), paired
        )
    return value.real


@settings(max_examples=8, deadline=None)
@given(C=covariances(4), h=st.lists(st.floats(-1.5, 1.5), min_size=4, max_size=4))
def test_plackett_from_the_pairs_equals_plackett_from_the_identity(C, h):
    """Two paths of Plackett's identity, from the block-diagonal pairing (the default) and
    from independent fields, give overlapping balls."""
    R = _correlation(C).tolist()
    paired, identity = _orthant_ball(h, R, True), _orthant_ball(h, R, False)
    assert abs(float(paired.mid()) - float(identity.mid())) <= float(paired.rad()) + float(
        identity.rad()
    )
    assert float(paired.rad()) < 1e-10


def test_two_nearly_collinear_pairs_are_certified():
    """Two pairs of fields correlated at ``0.999`` (two students near their teachers), ``0.1``
    between the pairs: Plackett's path from the identity exceeded the work limit; from the
    pairs the ball has radius below ``1e-9``, and Genz's algorithm (seeded, absolute error
    about ``1e-5``) agrees."""
    from scipy.stats import multivariate_normal

    rho, c = 0.999, 0.1
    R = np.array(
        [[1, rho, c, c * rho], [rho, 1, c * rho, c], [c, c * rho, 1, rho], [c * rho, c, rho, 1]]
    )
    h = np.array([-0.5, -0.4, -0.45, -0.55])
    ball = orthant_probability(h.tolist(), R.tolist())
    assert float(ball.rad()) < 1e-9
    genz = multivariate_normal(np.zeros(4), R, seed=1).cdf(-h)  # P(z > h) = P(z < -h)
    assert abs(float(ball.mid()) - genz) < 5e-5


@st.composite
def two_pairs(draw):
    """Four fields in two pairs ``(y_1, y_3)``, ``(y_2, y_4)`` correlated at ``0.9`` to
    ``0.999`` (two students near their teachers), up to ``0.2`` across, variances 0.25 to 4."""
    r = [draw(st.floats(0.9, 0.999)) * draw(st.sampled_from([1, -1])) for _ in range(2)]
    cross = [draw(st.floats(-0.2, 0.2)) for _ in range(4)]
    R = np.eye(4)
    R[0, 2] = R[2, 0] = r[0]
    R[1, 3] = R[3, 1] = r[1]
    for (i, j), c in zip([(0, 1), (0, 3), (2, 1), (2, 3)], cross, strict=True):
        R[i, j] = R[j, i] = c
    assume(np.linalg.eigvalsh(R)[0] > 1e-4)
    sigma = np.array([draw(st.floats(0.5, 2.0)) for _ in range(4)])
    return R * np.outer(sigma, sigma)


FOUR_KINKED = H(Y[0] + HALF) * H(Y[1] + HALF) * relu(Y[2] + HALF) * relu(Y[3] + HALF)


@settings(max_examples=6, deadline=None)
@given(C=two_pairs())
def test_two_correlated_pairs_of_kinked_fields_within_the_exact_ball(C):
    """Near a ``K = M = 2`` teacher the rule integrates each pair in its sum and difference
    (cut where the pair's kinks cross): within ``1e-11`` of the exact value."""
    cls = gaussian_integral_class(FOUR_KINKED, 4)
    certified = certified_piecewise(cls, *_entries(C), tolerance=1e-12)
    assert certified.bound < 1e-11


def test_near_a_teacher_the_pairs_fix_a_steep_step():
    """``Q = I``, ``M = (1 - 10^-3) I``: the echelon root of the fields themselves (the rule
    without the pairs) misses the exact value by more than ``1e-8``; the pairs' rule meets
    it to ``1e-13``."""
    from featcheck.numerics.committee.evaluation import (
        _field_order,
        echelon_root,
        integrand_function,
        split_rule,
    )
    from featcheck.theory.committee.expectations import field_degrees, field_kinks

    rho = 1 - 1e-3
    C = np.array([[1, 0, rho, 0], [0, 1, 0, rho], [rho, 0, 1, 0], [0, rho, 0, 1.0]])
    cls = gaussian_integral_class(FOUR_KINKED, 4)
    ball = piecewise_polynomial_mean(FOUR_KINKED, 4, C.tolist())
    assert _contains(ball, float(gaussian_integral(cls, *_entries(C))), 1e-13)
    kinks, degrees = field_kinks(cls.integrand, 4), field_degrees(cls.integrand, 4)
    order = _field_order(degrees, kinks, True)
    L = echelon_root(C[np.ix_(order, order)])
    points, weights = split_rule(L, [kinks[k] for k in order], 24, degrees[order[-1]])
    y = (points @ L.T)[:, np.argsort(order)]
    echelon = float(integrand_function(cls)(*y.T) @ weights)
    assert abs(echelon - float(ball.mid())) > 1e-8


def test_the_certificate_rejects_a_wrong_value():
    """Tensor Gauss-Hermite across the steps (20 nodes) is off by 2.8e-3 here: the exact
    ball excludes it, so a certificate of that value could not be small."""
    integrand = H(Y[0] + HALF) * H(Y[1] + HALF) * relu(Y[2] + HALF) * relu(Y[3] + HALF)
    C = np.array(
        [
            [0.5, 0.01, 0.01, 0.0],
            [0.01, 0.4, 0.0, 0.01],
            [0.01, 0.0, 1.0, 0.0],
            [0.0, 0.01, 0.0, 1.0],
        ]
    )
    cls = gaussian_integral_class(integrand, 4)
    exact = piecewise_polynomial_mean(integrand, 4, C.tolist())
    split = float(gaussian_integral(cls, *_entries(C)))
    x, w = np.polynomial.hermite_e.hermegauss(20)
    L = np.linalg.cholesky(C)
    grid = np.stack(np.meshgrid(*[x] * 4, indexing="ij"), -1).reshape(-1, 4) @ L.T
    weights = np.prod(np.stack(np.meshgrid(*[w] * 4, indexing="ij"), -1).reshape(-1, 4), 1)
    f = sp.lambdify(Y, integrand, modules=[{"Heaviside": np.heaviside}, "numpy"])
    hermite = float(f(*grid.T) @ weights) / (2 * math.pi) ** 2
    assert _contains(exact, split, 1e-12)
    assert abs(hermite - float(exact.mid())) > 100 * float(exact.rad()) + 1e-4


@settings(max_examples=10, deadline=None)
@given(C=covariances(4, jitter=0.3))
def test_sign_moment_ball_against_mpmath_and_the_ode_rule(C):
    R = _correlation(C)
    r = [float(R[i, j]) for i in range(4) for j in range(i + 1, 4)]
    ball = sign_moment4_ball(r)
    with mpmath.workdps(30):
        reference = float(sign_moment4_mp([mpmath.mpf(v) for v in r]))
    assert _contains(ball, reference, 1e-12)
    certified = certified_sign_moment4(*r)
    assert certified.bound < 1e-8


def test_a_student_at_its_teacher_is_merged_and_certified():
    """Collinear fields (``C_12^2 = C_11 C_22``) are substituted: at a biased-ReLU teacher the
    expectations are those of one field."""
    integrand = relu(Y[0] + HALF) * relu(Y[1] + HALF)
    C = [[0.64, 0.8], [0.8, 1.0]]  # y_1 = 0.8 y_2
    ball = piecewise_polynomial_mean(integrand, 2, C)
    reference = piecewise_polynomial_mean(
        relu(sp.Rational(4, 5) * Y[0] + HALF) * relu(Y[0] + HALF), 1, [[1.0]]
    )
    assert _contains(ball, float(reference.mid()), float(reference.rad()))
    cls = gaussian_integral_class(integrand, 2)
    certified = certified_piecewise(cls, *_entries(np.array(C)))
    assert certified.bound < 1e-12


def test_refusals():
    with pytest.raises(NotCertifiable):
        piecewise_terms(sp.tanh(Y[0]) * H(Y[1]), 2)
    with pytest.raises(NotCertifiable):
        piecewise_terms(H(Y[0] + Y[1]), 2)
    with pytest.raises(NotCertifiable):
        orthant_probability([0] * 5, np.eye(5).tolist())
    with pytest.raises(NotCertifiable):  # kinks in five fields
        piecewise_terms(sp.Mul(*[H(y + HALF) for y in Y6[:5]]), 5)
    with pytest.raises(NotCertifiable):  # y_2 = y_1 + y_3: singular, not collinear
        piecewise_polynomial_mean(H(Y[0]) * H(Y[1]) * H(Y[2]), 3, [[1, 1, 0], [1, 2, 1], [0, 1, 1]])
    with pytest.raises(NotCertifiable):  # a step at zero of a field that is zero
        piecewise_polynomial_mean(H(Y[0]) * Y[1] ** 2, 2, [[0.0, 0.0], [0.0, 1.0]])
