"""The derived overlap ODEs: hand-checkable cases, symmetries, fixed points, exponents."""

from __future__ import annotations

import random

import mpmath
import pytest
import sympy as sp

from featcheck.theory.committee.document import derivation_document
from featcheck.theory.committee.leap import leap_of_support, link_exponents
from featcheck.theory.committee.model import committee_model, link_variables
from featcheck.theory.committee.overlap_ode import ETA, ETA_A, derive_ode
from featcheck.theory.committee.plateaus import (
    c_sym,
    q_sym,
    r_sym,
    symmetric_subspace,
    teacher_state,
)
from featcheck.theory.errors import InputError

ERF = "erf(z/sqrt(2))"


def _linear(**kwargs):
    base = dict(
        student_activation="z",
        student_width=1,
        teacher_activation="z",
        teacher_width=1,
        Q0=[[1]],
        M0=[[0]],
        learning_rate=sp.Rational(1, 3),
    )
    return committee_model(**(base | kwargs))


def test_linear_committee_gives_the_linear_regression_ode():
    """phi = g = z, K = M = 1: delta = nu - lambda + sigma eps, so dM/dt = eta (P - M) and
    dQ/dt = 2 eta (M - Q) + eta^2 (P - 2M + Q + sigma^2)."""
    ode = derive_ode(_linear(noise="1/2", teacher_overlaps=[[2]]))
    Q, M = ode.system.state
    dQ, dM = ode.system.rhs
    assert sp.simplify(dM - ETA * (2 - M)) == 0
    assert sp.simplify(dQ - (2 * ETA * (M - Q) + ETA**2 * (2 - 2 * M + Q + sp.Rational(1, 4)))) == 0
    assert ode.exact
    assert sp.simplify(ode.generalization_error - (2 - 2 * M + Q) / 2) == 0


def test_gradient_flow_drops_exactly_the_eta_squared_terms():
    sgd = derive_ode(_linear())
    flow = derive_ode(_linear(algorithm="gradient-flow"))
    for a, b in zip(sgd.system.rhs, flow.system.rhs, strict=True):
        difference = sp.expand(a - b)
        assert sp.simplify(difference - ETA**2 * sp.diff(difference, ETA, 2) / 2) == 0


def test_trained_second_layer_adds_its_equation():
    ode = derive_ode(_linear(train_second_layer=True, student_second_layer=["1/2"]))
    Q, M, a = ode.system.state
    assert ode.system.parameters == (ETA, ETA_A)
    da = ode.system.rhs[2]
    assert sp.simplify(da - ETA_A * (M - a * Q)) == 0  # E[(nu - a lambda) lambda]
    assert ode.initial_state[2] == sp.Rational(1, 2)


def _saad_solla(K: int, algorithm: str = "online-sgd"):
    return committee_model(
        student_activation=ERF,
        student_width=K,
        teacher_activation=ERF,
        teacher_width=K,
        Q0=(sp.eye(K) / 5).tolist(),
        M0=[[sp.Rational(1, 1000) * (1 + (k + m) % 3) for m in range(K)] for k in range(K)],
        learning_rate=sp.Rational(1, 2),
        algorithm=algorithm,
    )


def _at(expr, values, digits=30):
    with mpmath.workdps(digits):
        return mpmath.mpf(sp.N(expr.xreplace(values), digits))


def test_swapping_the_student_units_permutes_the_equations():
    ode = derive_ode(_saad_solla(2))
    fields = ode.fields
    rng = random.Random(0)
    values = {s: sp.Rational(rng.randint(1, 40), 100) for s in ode.system.state}
    values[fields.q(0, 0)] += 1
    values[fields.q(1, 1)] += 1
    values[ETA] = sp.Rational(1, 2)
    swap = {fields.q(0, 0): fields.q(1, 1), fields.q(1, 1): fields.q(0, 0)}
    swap |= {fields.m(0, m): fields.m(1, m) for m in range(2)}
    swap |= {fields.m(1, m): fields.m(0, m) for m in range(2)}
    rhs = dict(zip(ode.system.state, ode.system.rhs, strict=True))
    swapped_values = {swap.get(s, s): v for s, v in values.items()}
    for s, expr in rhs.items():
        partner = swap.get(s, s)
        assert abs(_at(expr, values) - _at(rhs[partner], swapped_values)) < 1e-25


def test_the_teacher_is_an_exact_fixed_point_with_zero_error():
    ode = derive_ode(_saad_solla(2))
    state = teacher_state(ode)
    values = dict(zip(ode.system.state, state, strict=True)) | {ETA: sp.Rational(1, 2)}
    for expr in ode.system.rhs:
        assert abs(_at(expr, values)) < 1e-25
    assert abs(_at(ode.generalization_error, values)) < 1e-25


@pytest.mark.parametrize("K", [2, 3])
def test_small_learning_rate_symmetric_fixed_point_of_saad_and_solla(K):
    """Gradient flow, T = I: Q = C = 1/(2K - 1), R = 1/sqrt(K (2K - 1)) is a zero of the
    reduced equations with eps_g = (K/pi)(pi/6 - K arcsin(1/(2K)))."""
    ode = derive_ode(_saad_solla(K, "gradient-flow"))
    subspace = symmetric_subspace(ode)
    point = {q_sym: sp.Rational(1, 2 * K - 1), c_sym: sp.Rational(1, 2 * K - 1)}
    point[r_sym] = 1 / sp.sqrt(K * (2 * K - 1))
    point[ETA] = 1
    for expr in subspace.system.rhs:
        assert abs(_at(expr, point)) < 1e-25
    error = subspace.system.observables["generalization_error"]
    expected = K / sp.pi * (sp.pi / 6 - K * sp.asin(sp.Rational(1, 2 * K)))
    assert abs(_at(error - expected, point)) < 1e-25


def test_no_symmetric_subspace_for_unequal_teacher_weights_or_a_link():
    unequal = committee_model(
        student_activation=ERF,
        student_width=2,
        teacher_activation=ERF,
        teacher_width=2,
        teacher_second_layer=[1, 2],
        Q0=[[1, 0], [0, 1]],
        M0=[[0, 0], [0, 0]],
    )
    assert symmetric_subspace(derive_ode(unequal)) is None
    link = committee_model(
        student_activation="z", student_width=1, link="z1*z2", Q0=[[1]], M0=[[0, 0]]
    )
    assert symmetric_subspace(derive_ode(link)) is None
    assert teacher_state(derive_ode(link)) is None


def test_polynomial_link_with_polynomial_student_is_exact():
    model = committee_model(
        student_activation="z + z^2/2",
        student_width=2,
        link="z1 + z1*z2",
        Q0=[[1, 0], [0, 1]],
        M0=[["1/10", 0], [0, "1/10"]],
        learning_rate="1/10",
    )
    ode = derive_ode(model)
    assert ode.exact and all(
        "Wick" in e.method or "parity" in e.method for e in ode.expectations.values()
    )


@pytest.mark.parametrize(
    ("link", "width", "information", "leap"),
    [
        ("z1 + z1*z2", 2, 1, 1),
        ("z1*z2", 2, 2, 2),
        ("he(3, z1)", 1, 3, 3),
        ("z1 + z1*z2 + z1*z2*z3", 3, 1, 1),
        ("z1^2*z2", 2, 1, 2),
        ("z1 + z2*z3", 3, 1, 2),
        ("he(2, z1) + he(2, z1)*he(3, z2)", 2, 2, 3),
    ],
)
def test_information_and_leap_exponents(link, width, information, leap):
    model = committee_model(
        student_activation="z",
        student_width=1,
        link=link,
        teacher_width=width,
        Q0=[[1]],
        M0=[[0] * width],
    )
    exponents = link_exponents(model.teacher.link, width)
    assert exponents.information_exponent == information and exponents.leap == leap
    assert exponents.sample_exponent == max(leap - 1, 1)


def test_leap_minimises_over_orderings():
    # (1,0,0) then (1,1,0) then (1,1,1): steps 1, 1, 1 although (1,1,1) alone is 3
    assert leap_of_support([(1, 1, 1), (1, 1, 0), (1, 0, 0)])[0] == 1
    assert leap_of_support([(0, 0, 0)]) == (None, ())


def test_non_separable_link_is_refused_for_the_leap():
    z1, z2 = link_variables(2)
    with pytest.raises(InputError, match="sum of products"):
        link_exponents(sp.tanh(z1 + z2), 2)


def test_derivation_document_is_deterministic_and_complete():
    model = _saad_solla(2)
    first = derivation_document(model).to_markdown()
    assert first == derivation_document(model).to_markdown()
    for title in (
        "The local fields are jointly Gaussian",
        "One step, exactly",
        "Which expectations",
        "Closed forms",
        "The overlap equations",
        "The symmetric subspace",
        "The teacher is a fixed point",
        "Exponents of the teacher's link",
    ):
        assert title in first
    assert "largest |rhs| at Q = M = P is 0 at 30 digits" in first
    assert r"\begin{document}" in derivation_document(model).to_latex()


def test_models_too_large_to_derive_are_refused_before_any_work():
    K = 5
    model = committee_model(
        student_activation=ERF,
        student_width=K,
        teacher_activation=ERF,
        teacher_width=K,
        Q0=sp.eye(K).tolist(),
        M0=sp.zeros(K, K).tolist(),
    )
    with pytest.raises(InputError, match="the limit is 1000"):
        derive_ode(model)
