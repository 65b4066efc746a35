"""The machinery of the spiked claims on small inputs, and one whole claim as a smoke test.

Every quick claim is run once by ``featcheck verify`` in CI; these tests check the pieces
the claims are built from: the agreement rules applied to the spiked measurements, the
failure test of the aligned plain flow against the escape profile.
"""

import numpy as np
import pytest

import featcheck.numerics.claims.spiked as spiked
from featcheck.numerics.claims.base import REGISTRY, Status, run_claim
from featcheck.numerics.claims.rules import Level, convergence, interval_check, mean_interval
from featcheck.numerics.spiked.gradient_oracles import monte_carlo_samples, quadrature_rates
from featcheck.theory.dynamics.spiked.escape import equator_escape

CLAIMS = {
    "spiked.reduction",
    "spiked.plain-fails",
    "spiked.threshold",
    "spiked.threshold-ba",
    "spiked.preconditioned",
    "spiked.preconditioned-empirical",
    "spiked.finite-size",
    "spiked.algorithm1",
}


def test_every_spiked_claim_is_listed():
    assert {k for k in REGISTRY if k.startswith("spiked.")} == CLAIMS


def test_monte_carlo_interval_contains_the_quadrature_rates():
    point = dict(kappa=4.0, c=0.5, a=0.3, b=0.4)
    quad, err = quadrature_rates("normalized", "relu", "-h(4)", **point, nodes=(160, 60))
    samples = monte_carlo_samples(
        "normalized", "relu", "-h(4)", **point, n=100_000, rng=np.random.default_rng(0)
    )
    level = Level(0.01, 2)
    assert err < 1e-9
    for j in range(2):
        check = interval_check("mc", quad[j], mean_interval(samples[:, j], level.confidence))
        assert check.passed, check
    # a wrong prediction (the rates of another link) is rejected by the same rule
    other, _ = quadrature_rates("normalized", "relu", "he(2)", **point, nodes=(160, 60))
    wrong = [
        interval_check("mc", other[j], mean_interval(samples[:, j], level.confidence)).passed
        for j in range(2)
    ]
    assert not any(wrong)


def test_convergence_rule_on_rms_distances():
    rng = np.random.default_rng(0)
    sizes = [100, 400, 1600]
    shrinking = [rng.chisquare(1, 24) / n for n in sizes]  # RMS ~ n^(-1/2)
    checks = convergence(
        "rms", sizes, shrinking, gap=spiked._rms, level=Level(0.05, 1), rng=rng, rate=-0.5
    )
    assert all(c.passed and c.decidable for c in checks)
    stuck = [rng.chisquare(1, 24) + 1 for _ in sizes]
    (check, _) = convergence(
        "rms", sizes, stuck, gap=spiked._rms, level=Level(0.05, 1), rng=rng, rate=-0.5
    )
    assert not check.passed


@pytest.mark.parametrize(("act", "link"), spiked.SCALED_CASES)
def test_scaled_links_fail_below_and_escape_above_kappa_c(act, link):
    esc = equator_escape(act, link)
    d = 1000
    kc = esc.threshold(d)
    assert spiked._fails(act, link, kc / 4, d, "ba")[0]
    failed, run = spiked._fails(act, link, 4 * kc, d, "ba")
    assert not failed
    # the endpoint mu_2 / sqrt(1 + mu_2^2) up to O(1/kappa)
    assert run.final_observable("rho") == pytest.approx(esc.endpoint(), abs=10 / kc)


def test_smoke_preconditioned_claim(tmp_path):
    evidence = run_claim(REGISTRY["spiked.preconditioned"], "quick", 0, tmp_path)
    assert evidence.status == Status.HOLDS, evidence.to_json()
    assert evidence.figures and all(p.exists() for p in evidence.figures)
