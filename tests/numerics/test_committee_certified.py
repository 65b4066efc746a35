"""Certified quadrature: the bounds hold against independent values, and they are small.

Independent references: ``mpmath.quad`` at 30 digits (one field), the closed forms of Saad
and Solla (1995) reduced exactly (``I2``, ``I3``, ``J2``), ``scipy.integrate.dblquad`` with
absolute tolerance ``1e-13`` (two fields).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

import featcheck.numerics.committee  # noqa: F401  (registers the evaluators)
from featcheck.numerics import strategies as fs
from featcheck.numerics.committee.certified import (
    NotCertifiable,
    certified_quadrature,
    certified_trapezoid,
)
from featcheck.numerics.committee.evaluation import gaussian_integral
from featcheck.theory.committee.expectations import (
    GaussianIntegral,
    erf_i2,
    erf_i3,
    erf_j2,
    gaussian_expectation,
    gaussian_integral_class,
    slot_symbols,
)
from featcheck.theory.errors import InputError
from featcheck.theory.functions import ALLOWED_FUNCTIONS

Y = slot_symbols(3)
C3 = sp.Matrix(3, 3, lambda i, j: sp.Symbol(f"C{min(i, j)}{max(i, j)}", real=True))
sigmoid = ALLOWED_FUNCTIONS["sigmoid"]


def g(x):
    return sp.erf(x / sp.sqrt(2))


def dg(x):
    return sp.sqrt(2) * sp.exp(-(x**2) / 2) / sp.sqrt(sp.pi)


ONE_FIELD = [
    lambda s, y: sp.tanh(s * y) ** 2,
    lambda s, y: y * sp.tanh(s * y) * (1 - sp.tanh(s * y) ** 2),
    lambda s, y: (1 - sp.tanh(s * y) ** 2) ** 2 * y**2,
    lambda s, y: sp.expand(sigmoid(s * y) ** 2 * (1 - sigmoid(s * y))),
    lambda s, y: sp.erf(s * y) ** 2 * y,
    lambda s, y: ALLOWED_FUNCTIONS["softplus"](s * y) ** 2,
    lambda s, y: sp.diff(ALLOWED_FUNCTIONS["softplus"](s * y), y) ** 2 * y,
]


def _reference_1d(f_expr, variance: float) -> float:
    f = sp.lambdify(Y[0], f_expr, modules="mpmath")
    sd = mpmath.sqrt(variance)
    with mpmath.workdps(30):
        value = mpmath.quad(
            lambda x: f(sd * x) * mpmath.npdf(x), [-mpmath.inf, -3, 0, 3, mpmath.inf]
        )
    return float(value)


@settings(max_examples=25)
@given(
    index=st.integers(0, len(ONE_FIELD) - 1),
    scale=st.sampled_from([sp.Rational(1, 2), sp.Integer(1), sp.Rational(3, 2)]),
    variance=st.floats(0.05, 9.0),
)
def test_one_field_bounds_hold_and_are_small(index, scale, variance):
    f = sp.expand(ONE_FIELD[index](scale, Y[0]))
    cls = gaussian_integral_class(f, 1)
    reference = _reference_1d(f, variance)
    trapezoid = certified_trapezoid(cls, variance, tolerance=1e-10)
    assert abs(trapezoid.value - reference) <= trapezoid.bound
    assert trapezoid.bound <= 1e-9
    gh = certified_quadrature(cls, variance, tolerance=1e-10)
    assert abs(gh.value - reference) <= gh.bound


def test_the_certificate_sees_a_real_error_of_a_gauss_hermite_rule():
    """At variance 9, 160 Gauss-Hermite nodes miss E[tanh(y)^2] by about 3e-5: the bound
    must cover it (and is then dominated by the rule difference).  The strip rule the ODEs
    use there is accurate to rounding."""
    cls = gaussian_integral_class(sp.tanh(Y[0]) ** 2, 1)
    reference = _reference_1d(sp.tanh(Y[0]) ** 2, 9.0)
    gh = certified_quadrature(cls, 9.0, nodes=160)
    error = abs(gh.value - reference)
    assert error > 1e-6
    assert error <= gh.bound <= 1.01 * error + 1e-9
    strip = certified_quadrature(cls, 9.0, tolerance=1e-12)
    assert strip.method.startswith("strip rule")
    assert abs(strip.value - reference) <= 1e-13
    assert strip.bound <= 1e-11


#: Products of functions with poles (``tanh``, ``sigmoid``, ``softplus``) over three fields,
#: high powers included (their poles are of high order, which slows Gauss-Hermite most).
THREE_FIELDS = [
    sp.tanh(Y[0]) ** 2 * sp.tanh(Y[1]) ** 3 * sp.tanh(Y[2]),
    Y[2] * sp.tanh(Y[0]) * sp.tanh(Y[1]) ** 2,
    sp.expand(sigmoid(Y[0]) * sigmoid(Y[1]) ** 2 * Y[2]),
    ALLOWED_FUNCTIONS["softplus"](Y[0]) * sp.tanh(Y[1]) * sp.tanh(Y[2]) ** 2,
]


@st.composite
def three_field_covariances(draw):
    """Variances up to about two; with ``near`` the third field is the first plus a residual
    of standard deviation ``10^-k`` (a student near its teacher)."""
    C = draw(covariances(3))
    C = C / max(1.0, float(np.max(np.diag(C))) / 2)
    if draw(st.booleans()):
        B = np.eye(3)
        B[2] = [1.0, 0.0, 10.0 ** -draw(st.integers(1, 4))]
        C = B @ C @ B.T
    return C


@settings(max_examples=8, deadline=None)
@given(index=st.integers(0, len(THREE_FIELDS) - 1), cov=three_field_covariances())
def test_the_ode_rule_over_three_fields_is_within_the_certified_trapezoid(index, cov):
    """The value the ODEs use against an independent certified value: within the latter's
    bound plus ``1e-11`` (36 Gauss-Hermite nodes per dimension miss by up to ``1e-4`` here).
    Since it holds on both sides of every change of node count, the rule's value also
    changes continuously with the covariance to that level."""
    cls = gaussian_integral_class(THREE_FIELDS[index], 3)
    entries = [cov[i, j] for i in range(3) for j in range(i, 3)]
    reference = certified_trapezoid(cls, *entries, tolerance=1e-11)
    value = float(gaussian_integral(cls, *entries))
    assert abs(value - reference.value) <= reference.bound + 1e-11


def test_near_a_teacher_the_strip_rule_is_accurate_where_gauss_hermite_is_not():
    """``E[tanh(l1)^2 tanh(l2)^3 tanh(n2)]`` at the state where a ``tanh`` committee
    (``K = M = 2``) stalled with the tensor Gauss-Hermite rule (``Q_11 = Q_22 = 1.0001``,
    ``M_22 = 1.00004``): 36 nodes per dimension miss by ``7.5e-6``."""
    cls = gaussian_integral_class(THREE_FIELDS[0], 3)
    entries = [1.0001008618, -1.97858701e-05, -8.87049476e-06, 1.0001008618, 1.0000432942, 1.0]
    reference = certified_trapezoid(cls, *entries, tolerance=1e-12)
    assert reference.bound <= 1e-11
    old = float(gaussian_integral(cls, *entries, nodes=36))
    assert abs(old - reference.value) > 1e-6
    assert abs(float(gaussian_integral(cls, *entries)) - reference.value) <= reference.bound + 1e-12


@st.composite
def covariances(draw, n: int):
    entries = draw(st.lists(st.integers(-10, 10), min_size=n * n, max_size=n * n))
    L = np.array(entries, dtype=float).reshape(n, n) / 10
    return L @ L.T + 0.4 * np.eye(n)


@settings(max_examples=10)
@given(cov=covariances(3))
def test_erf_closed_forms_within_the_certified_bounds(cov):
    values = {C3[i, j]: sp.Float(cov[i, j], 30) for i in range(3) for j in range(i, 3)}
    cases = [
        (g(Y[0]) * g(Y[1]), erf_i2(C3[:2, :2]), 2),
        (dg(Y[0]) * dg(Y[1]), erf_j2(C3[:2, :2]), 2),
        (dg(Y[0]) * Y[1] * g(Y[2]), erf_i3(C3), 3),
    ]
    for integrand, form, n in cases:
        exact = float(sp.N(form.xreplace(values), 30))
        entries = [cov[i, j] for i in range(n) for j in range(i, n)]
        result = certified_trapezoid(gaussian_integral_class(integrand, n), *entries)
        assert abs(result.value - exact) <= result.bound <= 1e-8


@pytest.mark.parametrize(
    "integrand",
    [
        sp.tanh(Y[0]) * sp.tanh(Y[1]),
        Y[0] * (1 - sp.tanh(Y[0]) ** 2) * sp.tanh(2 * Y[1]),
        sp.expand(sigmoid(Y[0]) * sigmoid(Y[1]) ** 2),
        sp.expand(
            ALLOWED_FUNCTIONS["softplus"](Y[0]) * sp.diff(ALLOWED_FUNCTIONS["softplus"](Y[1]), Y[1])
        ),
        # a polynomial field: trapezoid in the other, exact Gauss-Hermite in it
        Y[1] ** 3 * sp.tanh(Y[0]) ** 2,
        sp.expand(sigmoid(Y[0]) * (Y[1] ** 2 + Y[1])),
    ],
)
@pytest.mark.parametrize("cov", [[[1.0, 0.6], [0.6, 2.0]], [[3.0, -1.5], [-1.5, 1.0]]])
def test_two_fields_against_adaptive_quadrature(integrand, cov):
    cov = np.array(cov)
    L = np.linalg.cholesky(cov)
    f = sp.lambdify(Y[:2], integrand, modules="numpy")

    def density(b, a):
        y = L @ np.array([a, b])
        return float(f(*y)) * math.exp(-(a * a + b * b) / 2) / (2 * math.pi)

    reference, error = integrate.dblquad(density, -12, 12, -12, 12, epsabs=1e-13, epsrel=0)
    cls = gaussian_integral_class(integrand, 2)
    result = certified_trapezoid(cls, cov[0, 0], cov[0, 1], cov[1, 1], tolerance=1e-9)
    assert abs(result.value - reference) <= result.bound + error
    assert result.bound <= 1e-8
    gh = certified_quadrature(cls, cov[0, 0], cov[0, 1], cov[1, 1], tolerance=1e-9)
    assert abs(gh.value - reference) <= gh.bound + error


def test_refusals_and_bad_input():
    relu = gaussian_integral_class(sp.Heaviside(Y[0] + 1) * Y[0], 1)
    with pytest.raises(NotCertifiable):
        certified_trapezoid(relu, 1.0)
    tanh = gaussian_integral_class(sp.tanh(Y[0]) * sp.tanh(Y[1]), 2)
    with pytest.raises(InputError):
        certified_trapezoid(tanh, 1.0, 2.0, 1.0)  # not positive semi-definite
    for tolerance in (0.0, 1e-300, 1.0, math.nan):
        with pytest.raises(InputError):
            certified_trapezoid(tanh, 1.0, 0.0, 1.0, tolerance=tolerance)
    with pytest.raises(InputError):
        certified_trapezoid(tanh, 1.0, 0.0)


# ----------------------------------------------------------------------------
# Certificates of a derived ODE


def _model(activation: str, algorithm: str = "online-sgd", teacher: str | None = None):
    from featcheck.theory.committee.model import committee_model

    return committee_model(
        student_activation=activation,
        student_width=1,
        teacher_activation=teacher or activation,
        teacher_width=1,
        algorithm=algorithm,
        learning_rate=0.5,
        Q0=[[0.7]],
        M0=[[0.2]],
    )


def _reference_integral(cls, entries) -> tuple[float, float]:
    """``E[f(y)]`` by adaptive scipy quadrature in the Cholesky coordinates, with its
    error estimate."""
    m = cls.slots
    C = np.zeros((m, m))
    index = 0
    for i in range(m):
        for j in range(i, m):
            C[i, j] = C[j, i] = entries[index]
            index += 1
    L = np.linalg.cholesky(C)
    f = sp.lambdify(slot_symbols(m), cls.integrand, modules="numpy")
    if m == 1:
        value, error = integrate.quad(
            lambda a: float(f(L[0, 0] * a)) * math.exp(-a * a / 2) / math.sqrt(2 * math.pi),
            -14,
            14,
            epsabs=1e-14,
            epsrel=0,
            limit=200,
        )
        return value, error

    def density(b, a):
        y = L @ np.array([a, b])
        return float(f(*y)) * math.exp(-(a * a + b * b) / 2) / (2 * math.pi)

    return integrate.dblquad(density, -12, 12, -12, 12, epsabs=1e-13, epsrel=0)


def test_state_certificate_bounds_the_right_hand_side_against_adaptive_quadrature():
    from featcheck.numerics.committee.certified import certify_state
    from featcheck.numerics.committee.evaluation import gaussian_integral
    from featcheck.theory.committee.expectations import GaussianIntegral
    from featcheck.theory.committee.overlap_ode import derive_ode

    ode = derive_ode(_model("tanh(z)"))
    state = [0.7, 0.2]
    certificate = certify_state(ode, state, tolerance=1e-9)
    values = {s: sp.Float(v, 20) for s, v in zip(ode.system.state, state, strict=True)}
    values[ode.system.parameters[0]] = sp.Float(0.5, 20)
    for r, named in enumerate(ode.named_rhs):
        expr = ode.evaluate(named).xreplace(values)
        atoms = expr.atoms(GaussianIntegral)
        assert atoms
        quadrature, reference, slack = {}, {}, 0.0
        for atom in atoms:
            entries = [float(a) for a in atom.args]
            quadrature[atom] = sp.Float(float(gaussian_integral(type(atom), *entries)), 20)
            value, error = _reference_integral(type(atom), entries)
            reference[atom] = sp.Float(value, 20)
            coefficient = sp.diff(expr.xreplace({atom: sp.Symbol("x")}), sp.Symbol("x"))
            slack += abs(float(coefficient.xreplace(reference | quadrature))) * error
        gap = abs(float(expr.xreplace(quadrature)) - float(expr.xreplace(reference)))
        assert gap <= certificate.rhs[r] + slack
        assert certificate.rhs[r] < 1e-7
    assert 0 < certificate.generalization_error < 1e-7
    assert certificate.uncertified == ()


def test_kinks_are_certified_by_orthant_probabilities_and_others_say_so():
    """A biased ReLU (polynomial between kinks) is certified at each state against the exact
    reduction to orthant probabilities; a tanh student of a biased-ReLU teacher (a kink and
    no polynomial) has no certificate, and says so."""
    from featcheck.numerics.committee.certified import certify_state
    from featcheck.theory.committee.overlap_ode import derive_ode

    ode = derive_ode(_model("relu(z + 1/2)"))
    certificate = certify_state(ode, [0.7, 0.2])
    assert certificate.uncertified == ()
    assert all(0 < b < 1e-9 for b in certificate.rhs)
    assert 0 < certificate.generalization_error < 1e-9
    methods = {e.method for e in ode.expectations.values() if not e.exact}
    assert methods and all("cut at the kinks" in m and "orthant" in m for m in methods)
    mixed = derive_ode(_model("tanh(z)", teacher="relu(z + 1/2)"))
    certificate = certify_state(mixed, [0.7, 0.2])
    assert any(math.isinf(b) for b in certificate.rhs)
    assert certificate.uncertified and all("Heaviside" in u for u in certificate.uncertified)
    assert any("no certified bound" in e.method for e in mixed.expectations.values())
    tanh = derive_ode(_model("tanh(z)"))
    assert all(
        "certified at each state" in e.method for e in tanh.expectations.values() if not e.exact
    )
    erf = derive_ode(_model("erf(z/sqrt(2))"))
    assert certify_state(erf, [0.7, 0.2]).rhs == (0.0, 0.0)


def test_a_staircase_of_three_indices_with_a_biased_relu_student_is_certified():
    """``F = z1 + z1 z2 + z1 z2 z3`` learned by two biased ReLUs: the ``eta^2`` terms are
    integrals over five fields (two kinked, three polynomial); every one is evaluated by the
    rule cut at the kinks and certified by orthant probabilities."""
    from featcheck.numerics.committee.certified import certify_state
    from featcheck.theory.committee.overlap_ode import derive_ode

    ode = derive_ode(_staircase_model("relu(z + 1/2)"))
    assert max(atom.slots for atom in _atoms(ode)) == 5
    methods = {e.method for e in ode.expectations.values() if not e.exact}
    assert methods and all("cut at the kinks" in m and "orthant" in m for m in methods)
    certificate = certify_state(ode, [float(v) for v in ode.initial_state])
    assert certificate.uncertified == ()
    assert max(certificate.rhs) < 1e-10 and certificate.generalization_error < 1e-10


def _staircase_model(activation: str):
    from featcheck.theory.committee.model import committee_model

    return committee_model(
        student_activation=activation,
        student_width=2,
        link="z1 + z1*z2 + z1*z2*z3",
        learning_rate=0.1,
        Q0=[[0.5, 0.1], [0.1, 0.5]],
        M0=[[0.1, 0.0, 0.05], [0.0, 0.1, 0.0]],
    )


def _atoms(ode) -> set:
    return {
        atom
        for e in ode.expectations.values()
        for atom in sp.sympify(e.value).xreplace(ode.substitutions).atoms(GaussianIntegral)
    }


@settings(max_examples=10, deadline=None)
@given(
    hard=covariances(2),
    soft=covariances(3),
    text=fs.multi_index_links(indices=3),
    power=st.integers(1, 2),
)
def test_polynomial_link_fields_factorise_within_the_certified_bound(hard, soft, text, power):
    """Five fields, a random polynomial link's independent of the students': ``E[g(y_h)
    F(y_s)] = E[g(y_h)] E[F(y_s)]``, the first by the two-field strip rule with its own
    certificate, the second by Isserlis/Wick; the five-field value is within the sum of the
    bounds."""
    y = slot_symbols(5)
    link = sp.sympify(text, locals={f"z{i + 1}": v for i, v in enumerate(y[2:])}) ** power
    g = sp.tanh(y[0]) ** 2 * sp.tanh(y[1]) ** 2
    C = np.zeros((5, 5))
    C[:2, :2], C[2:, 2:] = hard, soft
    cls = gaussian_integral_class(g * link, 5)
    certified = certified_quadrature(cls, *[C[i, j] for i in range(5) for j in range(i, 5)])
    left = certified_quadrature(gaussian_integral_class(g, 2), hard[0, 0], hard[0, 1], hard[1, 1])
    exact_soft = sp.Matrix(3, 3, lambda i, j: sp.Rational(soft[i, j]))
    right = float(sp.N(gaussian_expectation(link, list(y[2:]), exact_soft).value, 30))
    assert certified.bound < 1e-8 * max(1.0, abs(right))
    assert abs(certified.value - left.value * right) <= certified.bound + abs(right) * left.bound


@settings(max_examples=10, deadline=None)
@given(cov=three_field_covariances(), index=st.integers(0, 1))
def test_a_linear_field_against_steins_lemma(cov, index):
    """``E[y_2 g(y_1, y_3)] = C_21 E[d_1 g] + C_23 E[d_3 g]``: the left side by the strip rule
    in ``y_1, y_3`` and one exact Gauss-Hermite node in ``y_2``, the right side by the strip
    rule over three fields without a polynomial one (eigenvector root); both within their
    certified bounds."""
    g = [sp.tanh(Y[0]) ** 3 * sp.tanh(Y[2]) ** 2, sp.expand(sigmoid(Y[0]) * sp.tanh(Y[2]))][index]
    entries = [cov[i, j] for i in range(3) for j in range(i, 3)]
    left = certified_quadrature(gaussian_integral_class(Y[1] * g, 3), *entries, tolerance=1e-11)
    right, bound = 0.0, left.bound
    for k in (0, 2):
        part = certified_quadrature(
            gaussian_integral_class(sp.diff(g, Y[k]), 3), *entries, tolerance=1e-11
        )
        right += cov[1, k] * part.value
        bound += abs(cov[1, k]) * part.bound
    assert left.bound < 1e-9
    assert abs(left.value - right) <= bound + 1e-13


def test_a_staircase_of_three_indices_with_a_tanh_student_is_certified():
    """Two ``tanh`` students of ``F = z1 + z1 z2 + z1 z2 z3``: the five-field integrals get
    the strip rule in the student fields and exact Gauss-Hermite in the link's; the
    right-hand sides are certified below 1e-8 at the initial state, where the tensor
    Gauss-Hermite rule they had (12 nodes per dimension) is off by more than 1e-6 in one of
    them."""
    from featcheck.numerics.committee.certified import certify_state
    from featcheck.numerics.committee.evaluation import _hermite_rule, integrand_function
    from featcheck.theory.committee.overlap_ode import derive_ode

    ode = derive_ode(_staircase_model("tanh(z)"))
    state = [float(v) for v in ode.initial_state]
    certificate = certify_state(ode, state, tolerance=1e-10)
    assert certificate.uncertified == ()
    assert max(certificate.rhs) < 1e-8
    values = {s: sp.Float(v, 20) for s, v in zip(ode.system.state, state, strict=True)}
    values |= {p: sp.Float(ode.parameter_values[p.name], 20) for p in ode.system.parameters}
    worst = 0.0
    for atom in _atoms(ode):
        cls = type(atom)
        if cls.slots < 5:
            continue
        args = [float(sp.N(a.xreplace(values), 20)) for a in atom.args]
        certified = certified_quadrature(cls, *args, tolerance=1e-10)
        assert certified.bound < 1e-9
        C = np.zeros((5, 5))
        C[np.triu_indices(5)] = args
        C = C + np.triu(C, 1).T
        points, weights = _hermite_rule(5, 12)
        fields = points @ np.linalg.cholesky(C).T
        hermite = float(integrand_function(cls)(*fields.T) @ weights)
        worst = max(worst, abs(hermite - certified.value) - certified.bound)
    assert worst > 1e-6


def test_fixed_points_within_the_certified_error_and_not_without_one():
    """A residual above the root finder's tolerance is accepted when the certified
    evaluation error explains it (the tanh teacher, an exact zero, residual ~6e-16), and not
    when the certified error is far below the residual (a biased ReLU near its teacher)."""
    from featcheck.numerics.committee import fixed_points
    from featcheck.numerics.ode import compile_system
    from featcheck.theory.committee.overlap_ode import derive_ode

    for activation, state, expected in (
        ("tanh(z)", [1.0, 1.0], True),
        ("relu(z + 1/2)", [1.0, 0.99], False),
    ):
        ode = derive_ode(_model(activation))
        compiled = compile_system(ode.system)
        p = compiled.parameters(ode.parameter_values)
        residual = float(np.abs(compiled.rhs(np.array(state), p)).max())
        assert 0 < residual < (1e-6 if expected else 1e-1)
        tolerance = residual / 100  # above the tolerance, within the window
        assert fixed_points._accept(ode, compiled, p, np.array(state), tolerance) is expected
    teacher = fixed_points.find_fixed_points(derive_ode(_model("tanh(z)")))[0]
    assert any(f.kind == "teacher" and f.generalization_error == 0.0 for f in teacher)
