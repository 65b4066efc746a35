"""Speed of the spiked-flow integrator and simulators, each beside a baseline of the same run.

* the compiled aligned ODE integrated to ``t = 1e4`` against the same dynamics written by
  hand (``dm/dt = 4 p m^3 (1 - m^2)`` at ``kappa = 0``);
* an online-SGD run, exact in the overlaps, against the same run with the weights in ``R^d``;
* a gradient-descent direction against its two batched mat-vecs.

Times depend on the machine and its load, so none is asserted: each ratio to its baseline
(measured alternately, so both see the same load) goes to ``benchmark.extra_info``.  What is
asserted is correctness: the compiled ODE equals the hand-written one, online SGD is
reproducible and finite, the gradient-descent direction is tangent to the sphere.
"""

import time

import numpy as np
import sympy as sp

from featcheck.numerics.ode import compile_system, integrate
from featcheck.numerics.sampling import SpikedOperator, unit_vector
from featcheck.numerics.spiked.pointwise import vectorised
from featcheck.numerics.spiked.scaled_integrals import compile_flow
from featcheck.numerics.spiked.training import gd_direction, online_sgd
from featcheck.theory.derivation import Derivation
from featcheck.theory.dynamics import OdeSystem
from featcheck.theory.dynamics.spiked import spiked_flow
from featcheck.theory.functions import parse_function


def _interleaved(f, g, rounds=7):
    """Best times of ``f`` and ``g`` measured alternately (both see the same machine load)."""
    tf, tg = np.inf, np.inf
    for _ in range(rounds):
        tf, tg = min(tf, _best(f, 1)), min(tg, _best(g, 1))
    return tf, tg


def _best(f, repeat=5):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - start)
    return best


def test_reduced_ode_to_1e4(benchmark):
    derived = spiked_flow("plain", "relu", "-h(4)")
    compiled = compile_flow(derived.aligned)
    integrate(compiled, [0.01], {"kappa": 0.0}, 1e4)  # warm-up
    result = benchmark(lambda: integrate(compiled, [0.01], {"kappa": 0.0}, 1e4))
    assert result.t[-1] == 1e4  # escape (t ~ 1.5e4) is not reached: the full interval is integrated
    # baseline: the same dynamics at kappa = 0 written by hand, dm/dt = 4 p m^3 (1 - m^2)
    m = sp.Symbol("m")
    p = derived.risk.link_coefficients[4] * sp.sqrt(3) / (12 * sp.sqrt(sp.pi)) * -1
    rhs = 4 * p * m**3 * (1 - m**2)
    baseline = compile_system(OdeSystem("hand", (m,), (), (rhs,), Derivation("hand"), {"rho": m}))
    by_hand = integrate(baseline, [0.01], {}, 1e4, t_eval=result.t)
    np.testing.assert_allclose(result.y[0], by_hand.y[0], rtol=1e-7, atol=1e-12)
    seconds, reference = _interleaved(
        lambda: integrate(compiled, [0.01], {"kappa": 0.0}, 1e4),
        lambda: integrate(baseline, [0.01], {}, 1e4),
    )
    benchmark.extra_info |= {
        "seconds": seconds,
        "hand_written_seconds": reference,
        "ratio_to_hand_written": seconds / reference,
    }


def test_online_sgd_reduced_vs_full(benchmark):
    """Online SGD simulated exactly in the overlaps against the same model in ``R^d``."""
    d, replicas, steps = 2000, 8, 400
    kwargs = dict(d=d, kappa=2.0, c=0.8, eta=1e-4, replicas=replicas, seed=1, init=(0.2, 0.2))

    def run(n=steps, full=False):
        return online_sgd("normalized", "relu", "he(2)", steps=n, full=full, **kwargs)

    run(10)  # compile the kernel
    result = benchmark(run)
    again = run()
    np.testing.assert_array_equal(result.overlap, again.overlap)  # same seed, same numbers
    assert np.all(np.isfinite(result.rho)) and result.overlap.shape[0] == replicas
    np.testing.assert_allclose(result.norm, 1.0, atol=1e-12)  # the normalized flow stays on S^(d-1)
    reduced, full = _interleaved(run, lambda: run(full=True), rounds=4)
    benchmark.extra_info |= {"seconds": reduced, "full_seconds": full, "speedup": full / reduced}


def test_gd_step_vs_two_matvecs(benchmark):
    rng = np.random.default_rng(2)
    replicas, n, d = 2, 8000, 400
    X = rng.standard_normal((replicas, n, d))
    W = unit_vector(d, rng, (replicas,))
    y = rng.standard_normal((replicas, n))
    op = SpikedOperator(unit_vector(d, rng), 3.0)
    phi = parse_function("relu")
    f, df = vectorised(phi), vectorised(phi, 1)
    direction = benchmark(lambda: gd_direction("plain", W, X, y, f, df, op))
    assert direction.shape == (replicas, d)
    # the plain direction is projected on the tangent space of the sphere at each w
    np.testing.assert_allclose(np.einsum("rd,rd->r", direction, W), 0.0, atol=1e-12)
    step, matvecs = _interleaved(
        lambda: gd_direction("plain", W, X, y, f, df, op),
        lambda: (np.matmul(X, W[..., None]), np.einsum("rnd,rn->rd", X, y)),
        rounds=15,
    )
    benchmark.extra_info |= {
        "seconds": step,
        "matvec_seconds": matvecs,
        "ratio_to_matvecs": step / matvecs,
    }
