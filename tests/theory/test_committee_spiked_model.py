"""Spiked input covariances in the committee engine: the model, its validation and the ODEs."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from featcheck.theory.committee.model import committee_model, load_model, model_from_toml
from featcheck.theory.committee.overlap_ode import ETA, derive_ode
from featcheck.theory.errors import InputError

SPIKED = """
[data]
covariance = "spiked"
kappa = [3]

[teacher]
activation = "erf(z/sqrt(2))"
width = 1
spike_overlaps = [[0.5]]

[student]
activation = "erf(z/sqrt(2))"
width = 1

[learner]
algorithm = "online-sgd"
learning_rate = 0.5

[initial]
Q = [[0.25]]
M = [[0.0]]
S = [[0.0]]
"""

ISOTROPIC = (
    SPIKED.replace('[data]\ncovariance = "spiked"\nkappa = [3]\n', "")
    .replace("spike_overlaps = [[0.5]]\n", "")
    .replace("S = [[0.0]]\n", "")
)


def test_spiked_spec_is_read_exactly():
    model = model_from_toml(SPIKED, "spiked")
    assert model.data.spiked and model.R == 1 and model.data.kappa == (3,)
    assert model.teacher.spike_overlaps == ((sp.Rational(1, 2),),)
    assert model.initial.S == ((0,),)
    gram = sp.Matrix(model.gram0)
    assert gram.shape == (3, 3) and gram[1, 2] == sp.Rational(1, 2) and gram[2, 2] == 1
    assert "kappa = (3)" in model.describe()


def test_the_bundled_spiked_example_loads():
    assert load_model("spiked-single-index").data.spiked


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("kappa = [3]", "kappa = [-1]", r"kappa\[1\] must be greater than -1"),
        ("kappa = [3]", "kappa = [-2.5]", r"greater than -1"),
        ("kappa = [3]", "kappa = [3, 1]", r"spike_overlaps must be a 1 x 2"),
        ("S = [[0.0]]", "S = [[0.0, 0.0]]", r"\[initial\] S must be a 1 x 1"),
        ("spike_overlaps = [[0.5]]", "spike_overlaps = [[1.5]]", r"\[\[P, T\], \[T\^T, I\]\]"),
        ("S = [[0.0]]", "S = [[0.9]]", r"Gram matrix .* not positive semi-definite"),
        ("M = [[0.0]]", "M = [[0.6]]", r"not positive semi-definite"),
        ('covariance = "spiked"\n', "", r"kappa needs covariance = 'spiked'"),
        ('covariance = "spiked"\nkappa = [3]\n', "", r"spike_overlaps needs \[data\]"),
        ("kappa = [3]", "kappa = [3]\nconvention = 'growing'", r"convention must be one of"),
        ("kappa = [3]", "kappa = [3]\nscale = 2", r"unknown key 'scale'"),
        ("S = [[0.0]]", "", r"\[initial\] S is missing"),
        ("spike_overlaps = [[0.5]]\n", "", r"\[teacher\] spike_overlaps is missing"),
    ],
)
def test_bad_spiked_input_is_one_input_error_line(old, new, message):
    assert old in SPIKED
    with pytest.raises(InputError, match=message) as info:
        model_from_toml(SPIKED.replace(old, new, 1))
    assert "\n" not in str(info.value)


def test_spike_overlaps_of_the_student_need_a_spiked_covariance():
    with pytest.raises(InputError, match=r"\[initial\] S needs"):
        model_from_toml(ISOTROPIC.replace("M = [[0.0]]", "M = [[0.0]]\nS = [[0.1]]"))


def _pair(kappa, T, S, K=1, M=1):
    kwargs = dict(
        student_activation="erf(z/sqrt(2))",
        student_width=K,
        teacher_activation="erf(z/sqrt(2))",
        teacher_width=M,
        learning_rate=0.5,
        Q0=np.eye(K).tolist(),
        M0=np.zeros((K, M)).tolist(),
    )
    return committee_model(**kwargs), committee_model(
        **kwargs, covariance="spiked", kappa=kappa, spike_overlaps=T, S0=S
    )


def _vectors(seed: int, K: int, M: int, R: int):
    """Overlaps of actual vectors: W, U random, Theta orthonormal, in R^(K+M+R+1)."""
    rng = np.random.default_rng(seed)
    n = K + M + R + 1
    W = rng.standard_normal((K, n)) / np.sqrt(n) * rng.uniform(0.3, 2.0)
    U = rng.standard_normal((M, n)) / np.sqrt(n)
    Theta = np.linalg.qr(rng.standard_normal((n, R)))[0].T
    return W, U, Theta


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_at_kappa_zero_the_spiked_ode_is_the_isotropic_one(seed):
    """kappa = 0: the Q and M equations and eps_g are the isotropic ones, at random
    admissible points (S does not enter them)."""
    K, M, R = 2, 1, 1
    iso_model, spiked_model = _pair([0], [[0.3]], [[0.0], [0.0]], K, M)
    iso, spiked = derive_ode(iso_model), derive_ode(spiked_model)
    W, U, Theta = _vectors(seed, K, M, R)
    Q, Mm, S = W @ W.T, W @ U.T, W @ Theta.T
    state = [Q[k, j] for k in range(K) for j in range(k, K)] + list(Mm.ravel())
    values = dict(zip(iso.system.state, state, strict=True))
    values[ETA] = 0.5
    spiked_values = dict(zip(spiked.system.state, state + list(S.ravel()), strict=True))
    spiked_values[ETA] = 0.5
    n = len(iso.system.rhs)
    for a, b in zip(iso.system.rhs, spiked.system.rhs[:n], strict=True):
        x, y = float(a.xreplace(values)), float(b.xreplace(spiked_values))
        assert abs(x - y) <= 1e-12 * max(1.0, abs(x))
    x = float(iso.generalization_error.xreplace(values))
    y = float(spiked.generalization_error.xreplace(spiked_values))
    assert abs(x - y) <= 1e-12 * max(1.0, abs(x))


def test_at_kappa_zero_the_equations_are_symbolically_equal():
    iso_model, spiked_model = _pair([0], [[0.5]], [[0.1]])
    iso, spiked = derive_ode(iso_model), derive_ode(spiked_model)
    n = len(iso.system.rhs)
    pairs = [*zip(iso.system.rhs, spiked.system.rhs[:n], strict=True)]
    pairs.append((iso.generalization_error, spiked.generalization_error))
    for a, b in pairs:
        assert sp.simplify(a - b) == 0


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([1, 2]))
def test_the_spike_equation_is_gaussian_regression_on_the_fields(seed, R):
    """An exact identity the derivation does not use: xi = B y + independent noise with
    B = Cov(xi, y) Cov(y)^-1, y = (lambda, nu), so E[delta xi] = B E[delta y]. With
    gradient flow, dQ/dt = 2 eta E[delta lambda], dM/dt = eta E[delta nu], dS/dt = eta
    E[delta xi] (K = M = 1, one or two spikes)."""
    kappa = [3, -0.5][:R]
    T = [0.5, 0.3][:R]
    model = committee_model(
        student_activation="erf(z/sqrt(2))",
        student_width=1,
        teacher_activation="erf(z/sqrt(2))",
        teacher_width=1,
        algorithm="gradient-flow",
        Q0=[[1]],
        M0=[[0]],
        covariance="spiked",
        kappa=kappa,
        spike_overlaps=[T],
        S0=[[0] * R],
    )
    ode = derive_ode(model)
    rng = np.random.default_rng(seed)
    n = R + 2
    w = rng.standard_normal(n) * rng.uniform(0.3, 1.5)
    Theta = np.eye(n)[:R]
    u = np.zeros(n)
    u[:R] = T
    u[R] = np.sqrt(1 - sum(t**2 for t in T))
    Sigma = np.eye(n) + Theta.T @ np.diag(kappa) @ Theta
    values = dict(zip(ode.system.state, [w @ w, w @ u, *(Theta @ w)], strict=True))
    values[ETA] = 1
    dq, dm, *ds = (float(r.xreplace(values)) for r in ode.system.rhs)
    vectors = np.array([w, u])
    cov_y = vectors @ Sigma @ vectors.T
    cov_xi_y = Theta @ Sigma @ vectors.T
    expected = cov_xi_y @ np.linalg.solve(cov_y, np.array([dq / 2, dm]))
    assert np.allclose(ds, expected, rtol=1e-10, atol=1e-12)


def test_the_exact_jacobian_of_a_spiked_system_is_that_of_its_right_hand_side():
    """The chain rule through the generic covariance entries (checked against central
    differences of the right-hand side at a random admissible point)."""
    _, model = _pair([3], [[0.5]], [[0.1]])
    ode = derive_ode(model)
    jacobian = ode.exact_jacobian()
    arguments = (*ode.system.state, ETA)
    f = sp.lambdify(arguments, list(ode.system.rhs), "mpmath")
    J = sp.lambdify(arguments, jacobian, "mpmath")
    point = [0.8, 0.3, 0.2, 0.5]
    exact = np.array(J(*point).tolist(), dtype=float)
    h = 1e-6
    for j in range(3):
        up, down = list(point), list(point)
        up[j] += h
        down[j] -= h
        column = (np.array(f(*up), dtype=float) - np.array(f(*down), dtype=float)) / (2 * h)
        assert np.allclose(exact[:, j], column, rtol=1e-6, atol=1e-8)


def test_the_teacher_is_a_fixed_point_under_a_spike():
    from featcheck.theory.committee.plateaus import symmetric_subspace, teacher_state

    _, model = _pair([3], [[0.5]], [[0.0]])
    ode = derive_ode(model)
    state = teacher_state(ode)
    assert state is not None and state[-1] == sp.Rational(1, 2)
    values = dict(zip(ode.system.state, state, strict=True))
    values[ETA] = sp.Rational(1, 2)
    for rhs in ode.system.rhs:
        assert abs(sp.N(rhs.xreplace(values), 30)) < 1e-25
    assert symmetric_subspace(ode) is None
