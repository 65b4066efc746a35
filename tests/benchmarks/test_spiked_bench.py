"""Speed of the spiked-flow integrator and simulators, each beside a baseline of the same run.

Targets (spec): the compiled reduced ODE to t = 1e4 in well under 50 ms; an online-SGD step
within 2x of drawing its Gaussians; a gradient-descent step within 2x of two mat-vecs.
The ratios are asserted (not absolute times); the absolute numbers go to ``extra_info``.
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
    seconds = _best(lambda: integrate(compiled, [0.01], {"kappa": 0.0}, 1e4))
    reference = _best(lambda: integrate(baseline, [0.01], {}, 1e4))
    benchmark.extra_info |= {"seconds": seconds, "hand_written_seconds": reference}
    assert seconds <= 2.0 * reference


def test_online_sgd_step_vs_gaussian_draws(benchmark):
    d, replicas, steps = 2000, 8, 400
    kwargs = dict(d=d, kappa=2.0, c=0.8, eta=1e-4, replicas=replicas, seed=1, init=(0.2, 0.2))

    def run(n=steps):
        return online_sgd("normalized", "relu", "he(2)", steps=n, **kwargs)

    run(10)  # compile the kernel
    benchmark(run)
    rng = np.random.default_rng(0)
    sgd, draw = _interleaved(
        run,
        lambda: rng.standard_normal((steps, replicas, d)),
        rounds=4,
    )
    benchmark.extra_info["ratio_to_draws"] = sgd / draw
    assert sgd <= 2.0 * draw, f"online SGD {sgd:.4f}s vs drawing Gaussians {draw:.4f}s"


def test_gd_step_vs_two_matvecs(benchmark):
    rng = np.random.default_rng(2)
    replicas, n, d = 2, 8000, 400
    X = rng.standard_normal((replicas, n, d))
    W = unit_vector(d, rng, (replicas,))
    y = rng.standard_normal((replicas, n))
    op = SpikedOperator(unit_vector(d, rng), 3.0)
    phi = parse_function("relu")
    f, df = vectorised(phi), vectorised(phi, 1)
    benchmark(lambda: gd_direction("plain", W, X, y, f, df, op))
    step, matvecs = _interleaved(
        lambda: gd_direction("plain", W, X, y, f, df, op),
        lambda: (np.matmul(X, W[..., None]), np.einsum("rnd,rn->rd", X, y)),
        rounds=15,
    )
    benchmark.extra_info["ratio_to_matvecs"] = step / matvecs
    assert step <= 2.0 * matvecs
