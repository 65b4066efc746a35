"""Online SGD of the learner variants (spherical, normalized, preconditioned) and of the unit
scale of a spiked covariance: the exact reduced simulator against the full-d oracle, both
against the derived ODE, the invariants of each step, and the plain step's numbers pinned."""

from __future__ import annotations

import numpy as np
import pytest
from committee_vectors import ERF, vector_model
from scipy import stats
from scipy.special import erf

from featcheck.numerics.claims.rules import Level
from featcheck.numerics.committee.simulators import (
    initial_frame,
    simulate_full,
    simulate_reduced,
)
from featcheck.numerics.ode import compile_system, integrate
from featcheck.theory.committee.model import committee_model
from featcheck.theory.committee.overlap_ode import derive_ode
from featcheck.theory.errors import InputError


def _model(variant, K, M, kappa=(), convention="ba", eta="1", trained=False):
    return vector_model(variant, K, M, kappa, convention=convention, eta=eta, trained=trained)


# (variant, K, M, kappa, convention, trained): every variant with and without a spike, the
# unit scale, and a trained second layer under the normalized student
CASES = [
    ("spherical", 1, 1, (), "ba", False),
    ("spherical", 2, 1, (3.0,), "ba", False),
    ("normalized", 1, 1, (), "ba", False),
    ("normalized", 2, 1, (3.0, -0.5), "ba", True),
    ("preconditioned", 1, 1, (), "ba", False),
    ("preconditioned", 2, 2, (3.0, -0.5), "ba", False),
    ("plain", 1, 1, (3.0,), "unit", False),
    ("normalized", 1, 1, (2.0,), "unit", False),
    ("preconditioned", 2, 1, (3.0,), "unit", False),
]
IDS = ["-".join([c[0], f"K{c[1]}M{c[2]}", f"R{len(c[3])}", c[4]] + ["a"] * c[5]) for c in CASES]

KS_DIM, KS_REPLICAS, KS_TIMES = 10, 2000, [0.5, 1.0]
# large steps in the smallest dimensions, d = K + M + R + 1 (c = eta/d about 1/2): two and
# four steps, where every second-order term of the exact update (c^2 A_k A_l |p|^2 and the
# c^2 B_k B_l tau_kl of the normalized steps, which |p|^2 ~ d dwarfs at larger d) is of
# the size of the first-order ones
BIG_ETA, BIG_REPLICAS, BIG_STEPS = "2", 4000, [2, 4]
ODE_DIMS, ODE_REPLICAS, ODE_TIMES = (2000, 8000), 100, [0.5, 1.0, 2.0]


def _tested(case) -> list[int]:
    """The entries of the ODE state (``SimulationRun.states``) that move: all but the
    diagonal of ``Q`` for the variants that keep it fixed."""
    variant, K, M, kappa, _, trained = case
    diagonal = [i for i, (k, o) in enumerate(zip(*np.triu_indices(K), strict=True)) if k == o]
    size = K * (K + 1) // 2 + K * M + K * len(kappa) + (K if trained else 0)
    # s_k = alpha Q_kk under isotropic data, which the preconditioned learner keeps fixed
    held = variant in ("spherical", "normalized") or (variant == "preconditioned" and not kappa)
    fixed = diagonal if held else []
    return [i for i in range(size) if i not in fixed]


# One family over every KS test and every ODE interval of this file (Bonferroni).
KS_TESTS = sum(len(_tested(c)) for c in CASES) * (len(KS_TIMES) + len(BIG_STEPS))
ODE_TESTS = sum(len(_tested(c)) for c in CASES) * len(ODE_TIMES) * len(ODE_DIMS)
FAMILY = Level(alpha=1e-3, tests=KS_TESTS + ODE_TESTS)


def _case_model(case, eta="1"):
    variant, K, M, kappa, convention, trained = case
    return _model(variant, K, M, kappa, convention, eta=eta, trained=trained)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_reduced_and_full_variant_simulations_have_the_same_law(case):
    """Two-sample KS on every moving overlap at two times in dimension 10, where a step is
    large (c = eta/d = 1/10, and 0.4 for a few steps) and the second-order terms of the exact
    update matter; both simulators are exact at any d >= K + M + R."""
    rows = _tested(case)
    small = case[1] + case[2] + len(case[3]) + 1
    big_times = [steps / small for steps in BIG_STEPS]
    for eta, dim, replicas, times in (
        ("1", KS_DIM, KS_REPLICAS, KS_TIMES),
        (BIG_ETA, small, BIG_REPLICAS, big_times),
    ):
        model = _case_model(case, eta=eta)
        K, M = model.K, model.M
        reduced = simulate_reduced(model, dim=dim, replicas=replicas, times=times, seed=1)
        full = simulate_full(model, dim=dim, replicas=replicas, times=times, seed=2)
        a, b = reduced.states(K, M), full.states(K, M)
        p_values = [
            stats.ks_2samp(a[i, :, j], b[i, :, j]).pvalue for i in rows for j in range(len(times))
        ]
        assert min(p_values) > FAMILY.per_test_alpha, (eta, min(p_values))
        # the overlaps do move between the two times, so the test has something to compare
        assert np.abs(a[rows, :, 1].mean(1) - a[rows, :, 0].mean(1)).max() > 0.02


def _ode_states(model, times) -> np.ndarray:
    ode = derive_ode(model)
    compiled = compile_system(ode.system)
    y0 = np.array([float(v) for v in ode.initial_state])
    trajectory = integrate(
        compiled,
        y0,
        ode.parameter_values,
        max(times),
        t_eval=np.array(times),
        escape_observable=None,
        convergence_tol=None,
    )
    return trajectory.y


def _ode_keeps_sigma_norm(model, states) -> bool:
    """Whether the ODE's ``s_k = alpha (Q_kk + sum_r kappa_r S_kr^2)`` stays at its initial
    value (``states`` laid out as ``SimulationRun.states``)."""
    K, M, R = model.K, model.M, model.R
    kappa = np.array([float(k) for k in model.data.kappa])
    rows, cols = np.triu_indices(K)
    diagonal = states[[i for i in range(len(rows)) if rows[i] == cols[i]]]
    S = states[len(rows) + K * M : len(rows) + K * M + K * R].reshape(K, R, states.shape[1])
    s = diagonal + np.einsum("r,krt->kt", kappa, S**2)
    Q0 = np.array([[float(v) for v in row] for row in model.initial.Q])
    S0 = np.array([[float(v) for v in row] for row in model.initial.S]) if R else np.zeros((K, 0))
    s0 = np.diag(Q0) + (S0**2) @ kappa
    return bool(np.abs(s - s0[:, None]).max() <= 1e-8 * s0.max())


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_reduced_variant_simulation_follows_the_ode(case):
    """The replica mean of every moving overlap is within a t-interval (the file's Bonferroni
    level) plus ``2/d`` of the derived ODE, at d = 2000 and 8000.

    The allowance: the ODE is the d -> infinity limit of the mean increment.  At finite d the
    exact increment differs from it by O(1/d) relative terms (``|x|^2 = alpha (d - n) +
    |x_V|^2`` instead of ``alpha d``), and the increments are smooth functions of overlaps that
    fluctuate by O(d^(-1/2)) (through ``1/sqrt(s_k)``, the renormalisation and the
    activations), which shifts their mean by O(1/d); integrated over t <= 2 at rates of order
    one (eta = 1/2) this stays below about 1/d here (the distances measured at d = 500 are
    within 2/d including the sampling error), so 2/d is a bias allowance, not a tolerance.
    """
    model = _case_model(case, eta="1/2")
    K, M = model.K, model.M
    rows = _tested(case)
    states = _ode_states(model, ODE_TIMES)
    if case[0] == "preconditioned":  # both rescale w_k to keep w_k^T Sigma w_k
        assert _ode_keeps_sigma_norm(model, states)
    target = states[rows]
    quantile = stats.t.ppf(1 - FAMILY.per_test_alpha / 2, ODE_REPLICAS - 1)
    for d in ODE_DIMS:
        run = simulate_reduced(model, dim=d, replicas=ODE_REPLICAS, times=ODE_TIMES, seed=3)
        states = run.states(K, M)[rows]
        mean = states.mean(axis=1)
        half = quantile * states.std(axis=1, ddof=1) / np.sqrt(ODE_REPLICAS)
        gap = np.abs(mean - target)
        assert np.all(gap <= half + 2.0 / d), (d, gap.max(), (gap - half).max())


@pytest.mark.parametrize("variant", ["spherical", "normalized"])
def test_spherical_variants_keep_every_student_on_the_unit_sphere(variant):
    model = _model(variant, 2, 1, (3.0, -0.5))
    times = np.arange(0, 101) / 50  # every step at d = 50
    for run in (
        simulate_reduced(model, dim=50, replicas=20, times=times, seed=4),
        simulate_full(model, dim=50, replicas=20, times=times, seed=4),
    ):
        diagonal = np.diagonal(run.Q, axis1=2, axis2=3)
        assert np.abs(diagonal - 1).max() <= 1e-12
        assert np.abs(run.M[:, -1] - run.M[:, 0]).max() > 0.05  # while the directions move


# Spherical SGD projects the gradient on the tangent space before renormalising.  The
# projection changes a step at second order only, so it shows at large steps in the smallest
# dimension: there the unprojected step's law differs from the projected one's with KS
# p-values of 1e-22 and below at these sizes, and the two simulators must still agree.
PROJECTION_CASES = [(1, 1, ()), (2, 1, (3.0,))]
PROJECTION_REPLICAS = 20000
PROJECTION_LEVEL = Level(alpha=1e-3, tests=len(PROJECTION_CASES) * 5 * len(BIG_STEPS))


def test_full_spherical_step_is_the_projected_gradient_step():
    """One step of the full simulator is ``w <- normalize(w + c delta (x - <w, x> w))`` on the
    very input it drew (same generator), for every replica and both students."""
    model = _model("spherical", 2, 1)
    dim, replicas = 6, 5
    run = simulate_full(model, dim=dim, replicas=replicas, times=[0.0, 1.0 / dim], seed=9)
    W0, U, _ = initial_frame(model, dim)
    x = np.random.default_rng(9).standard_normal((replicas, dim))
    lam, nu = x @ W0.T, x @ U.T
    y = erf(nu[:, 0] / np.sqrt(2))
    yhat = erf(lam / np.sqrt(2)).sum(axis=1)
    delta = np.sqrt(2 / np.pi) * np.exp(-(lam**2) / 2) * (y - yhat)[:, None]
    W = W0[None] + (1.0 / dim) * delta[:, :, None] * (x[:, None, :] - lam[:, :, None] * W0[None])
    W /= np.linalg.norm(W, axis=2, keepdims=True)
    np.testing.assert_allclose(run.Q[:, 1], np.einsum("rkd,rld->rkl", W, W), atol=1e-13)
    np.testing.assert_allclose(run.M[:, 1], np.einsum("rkd,md->rkm", W, U), atol=1e-13)


@pytest.mark.parametrize(("K", "M", "kappa"), PROJECTION_CASES)
def test_reduced_spherical_step_has_the_projected_law(K, M, kappa):
    """KS, reduced against full, of every moving overlap after two and four steps at ``c``
    about 1/2 (``d = K + M + R + 1``), with 20000 replicas each."""
    model = _model("spherical", K, M, kappa, eta=BIG_ETA)
    small = K + M + len(kappa) + 1
    times = [steps / small for steps in BIG_STEPS]
    rows = _tested(("spherical", K, M, kappa, "ba", False))
    a = simulate_reduced(model, dim=small, replicas=PROJECTION_REPLICAS, times=times, seed=3)
    b = simulate_full(model, dim=small, replicas=PROJECTION_REPLICAS, times=times, seed=4)
    sa, sb = a.states(K, M), b.states(K, M)
    p_values = [stats.ks_2samp(sa[i, :, j], sb[i, :, j]).pvalue for i in rows for j in (0, 1)]
    assert len(p_values) <= 5 * len(BIG_STEPS)
    assert min(p_values) > PROJECTION_LEVEL.per_test_alpha, min(p_values)


def _sigma_norms(model, run) -> np.ndarray:
    """``s_k = w_k^T Sigma w_k = alpha (Q_kk + sum_r kappa_r S_kr^2)``, (replicas, times, K)."""
    kappa = np.array([float(k) for k in model.data.kappa])
    s = np.diagonal(run.Q, axis1=2, axis2=3).copy()
    if run.S is not None:
        s += np.einsum("r,ntkr->ntk", kappa, run.S**2)
    return float(model.data.alpha) * s


@pytest.mark.parametrize(
    ("kappa", "convention"), [((), "ba"), ((3.0, -0.5), "ba"), ((3.0,), "unit")]
)
def test_preconditioned_step_keeps_the_sigma_norm(kappa, convention):
    """The preconditioned step is Sigma-orthogonal to w_k (``A_k lambda_k - B_k s_k = 0``), so
    ``s_k = w_k^T Sigma w_k`` would change only by the second-order ``Delta_k^T Sigma
    Delta_k``; the learner then rescales ``w_k`` back to its ``s_k``, which keeps its initial
    value at every step in both simulators (at eta = 1 in d = 50, where without the rescaling
    it grows by several percent over 100 steps), while the directions move."""
    model = _model("preconditioned", 2, 1, kappa, convention)
    times = np.arange(0, 101) / 50  # every step at d = 50
    for run in (
        simulate_reduced(model, dim=50, replicas=20, times=times, seed=5),
        simulate_full(model, dim=50, replicas=20, times=times, seed=5),
    ):
        s = _sigma_norms(model, run)
        assert np.abs(s - s[:, :1]).max() <= 1e-12
        assert np.abs(run.M[:, -1] - run.M[:, 0]).max() > 0.05


def test_plain_variant_numbers_are_pinned():
    """The plain step gives, bit for bit, the numbers recorded here (same seeds): a change of
    these numbers is a change of the simulators that has to be deliberate.

    The full simulator's values are those it gave before the variants existed.  The reduced
    simulator's were recorded again when its kernel started drawing the teacher's fields a
    batch of steps ahead, factoring the Gram matrix in the order (spikes, teacher, students)
    and drawing the chi-square inline: the same law from other random numbers.  The law
    itself is what the reduced-vs-full KS tests and the ODE agreement tests of this file and
    of test_committee_simulators.py and test_committee_spiked_simulators.py check; this test
    only pins the numbers."""
    spiked = _model("plain", 2, 1, (3.0, -0.5))
    trained = committee_model(
        student_activation="relu",
        student_width=2,
        teacher_activation=ERF,
        teacher_width=2,
        Q0=[[0.5, 0.1], [0.1, 0.4]],
        M0=[[0.2, 0.0], [0.05, 0.1]],
        learning_rate="1/2",
        noise="1/10",
        train_second_layer=True,
    )
    recorded = {
        ("spiked", "reduced"): [0.5124338962254054, -0.24222646583034602, 0.7465937562483465],
        ("spiked", "full"): [0.4859167010268272, -0.27829298331317753, 0.7294683989067399],
        ("trained", "reduced"): [0.4187454501437189, 0.09204131648458434, 0.3405209008551798],
        ("trained", "full"): [0.43823152165212653, 0.11698188130248471, 0.4037888394919085],
    }
    recorded_tail = {
        ("spiked", "reduced"): -0.12315499508077939,
        ("trained", "reduced"): 0.9200561511561924,
        ("trained", "full"): 0.8506219048976376,
    }
    for name, model in (("spiked", spiked), ("trained", trained)):
        runs = {
            "reduced": (simulate_reduced(model, dim=40, replicas=3, times=[1.0], seed=5), 2),
            "full": (simulate_full(model, dim=40, replicas=2, times=[1.0], seed=5), 1),
        }
        for kind, (run, replica) in runs.items():
            values = run.states(model.K, model.M)[:, replica, 0]
            assert values[:3].tolist() == recorded[name, kind]
            if (name, kind) in recorded_tail:
                assert values[-1] == recorded_tail[name, kind]


def test_models_the_simulators_cannot_run_are_one_line_input_errors():
    flow = committee_model(
        student_activation=ERF,
        student_width=1,
        teacher_activation=ERF,
        teacher_width=1,
        algorithm="gradient-flow",
        variant="normalized",
        Q0=[[1]],
        M0=[[0.1]],
    )
    for simulate in (simulate_reduced, simulate_full):
        with pytest.raises(InputError) as error:
            simulate(flow, dim=10, replicas=1, times=[1.0])
        assert "\n" not in str(error.value) and "online SGD" in str(error.value)
    with pytest.raises(InputError, match=r"K \+ M \+ R = 4") as error:
        simulate_reduced(_model("preconditioned", 2, 1, (3.0,)), dim=3, replicas=1, times=[1])
    assert "\n" not in str(error.value)
