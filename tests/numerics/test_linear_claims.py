"""The machinery of the linear-network claims on small inputs, and one whole claim as a
smoke test (``featcheck verify`` runs every quick claim once in CI)."""

import importlib
import math
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from featcheck.numerics.claims.base import REGISTRY, Status, run_claim
from featcheck.numerics.claims.rules import Level, bound, deterministic_convergence
from featcheck.numerics.linear.rates import (
    local_exponents,
    log_one_minus_cos,
    tail,
)
from featcheck.numerics.linear.simulate import DataLaw
from featcheck.theory.linear import asymptotic_exponents
from featcheck.theory.linear.symbols import N

importlib.import_module("featcheck.numerics.claims.linear")

CLAIMS = {
    "linear.lemma1",
    "linear.lemma3",
    "linear.lemma4.lower",
    "linear.lemma4.upper",
    "linear.theorem1.before-T",
    "linear.theorem1.after-T",
    "linear.theorem1.norm-rate",
    "linear.theorem2",
    "linear.theorem3",
    "linear.theorem5.before-T",
    "linear.theorem5.after-T",
    "linear.theorem5.upper",
    "linear.derived.theorem1.after-T",
    "linear.derived.theorem5.before-T",
    "linear.derived.theorem5.after-T",
    "linear.rate.linear",
    "linear.rate.deep",
    "linear.rate.theta",
    "linear.derived.rate",
    "linear.figure1",
}
READINGS = {"linear.rate.theta", "linear.theorem1.norm-rate"}

ROOT = Path(__file__).resolve().parents[2]


def test_every_linear_claim_is_listed():
    assert {c for c in REGISTRY if c.startswith("linear.")} == CLAIMS


@pytest.mark.parametrize("claim_id", sorted(CLAIMS))
def test_provenance_kind(claim_id):
    provenance = REGISTRY[claim_id].provenance
    assert provenance.paper is not None and provenance.paper.authors == "Lin, Sun, Zhang"
    if claim_id.startswith("linear.derived."):
        assert provenance.kind == "derived"
        assert (ROOT / provenance.derivation).is_file(), provenance.derivation
    elif claim_id in READINGS:
        assert provenance.kind == "reading"  # an Omega read as Theta; 0.6 read as 2 sup N(w)
    else:
        assert provenance.kind == "printed"


def test_asymptotic_exponent_is_2n_over_n_plus_2():
    exponents = asymptotic_exponents()
    assert sp.simplify(exponents["zeta"] - 2 * N / (N + 2)) == 0
    assert sp.simplify(exponents["rho"] - N / (N + 2)) == 0
    assert asymptotic_exponents(1)["zeta"] == sp.Rational(2, 3)
    assert asymptotic_exponents(4)["zeta"] == sp.Rational(4, 3)


def test_log_one_minus_cos_is_exact_past_double_precision():
    zeta = np.array([0.5, 3.0, 30.0, 80.0, 400.0])
    direct = -np.log(1 - np.tanh(zeta[:2] / 2))
    assert np.allclose(log_one_minus_cos(zeta[:2]), direct, rtol=1e-13)
    # 1 - cos = 2/(e^zeta + 1) rounds cos to 1 beyond zeta ~ 38; the formula does not care
    assert log_one_minus_cos(zeta[2:]) == pytest.approx(zeta[2:] - math.log(2), rel=1e-14)


def test_local_exponent_approaches_the_derived_exponent():
    law = DataLaw("sphere", 2)
    betas, times = local_exponents(law, 4, 1e4, 2, 4)
    gaps = np.abs(betas - 4 / 3)
    assert gaps[-1] < gaps[0] < 0.06
    check = deterministic_convergence("N=4", times[1:], gaps, level=Level(0.05, 1))
    assert check.passed and check.decidable
    wrong = deterministic_convergence("N=4", times[1:], betas - 1, level=Level(0.05, 1))
    assert not wrong.passed and wrong.decidable


def test_deterministic_convergence_is_undecided_on_an_ambiguous_rate():
    sizes = [1.0, 2.0, 4.0, 8.0]
    check = deterministic_convergence("noisy", sizes, [1.0, 0.5, 0.9, 0.6], level=Level(0.05, 1))
    assert check.passed and not check.decidable


def test_omega_bound_holds_with_growing_slack():
    times, measured = tail(DataLaw("gaussian", 2), 1, 1e5)
    envelope = np.sqrt(times)
    check = bound("omega", measured, envelope, constant=measured[0] / envelope[0], upper=False)
    assert check.passed
    ratio = measured / envelope
    assert ratio[-1] / ratio[0] > 1.5  # (t_max/t_0)^(1/6) with 2/3 - 1/2 = 1/6
    # the same envelope with t^(0.7) instead (faster than the flow) fails
    steep = times**0.7
    assert not bound("steep", measured, steep, constant=measured[0] / steep[0], upper=False).passed


def test_smoke_theta_reading_is_violated(tmp_path):
    evidence = run_claim(REGISTRY["linear.rate.theta"], "quick", 0, tmp_path)
    assert evidence.status == Status.VIOLATED, evidence.error
    assert evidence.to_json()["counterexample"] is not None
    assert evidence.figures and all(path.exists() for path in evidence.figures)
