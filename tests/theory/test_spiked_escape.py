"""The large-kappa escape profile of the aligned plain flow under Sigma = I + kappa theta theta^T.

The amplitudes are checked against formulas derived by hand for positively homogeneous
activations (``phi(sigma z) = sigma^p phi(z)``), independently of the sympy pipeline:
``F(mu) = -p V s^(p-1) mu + p s^(p/2-1) mu psi(r) + s^((p-3)/2) psi'(r)`` with
``s = 1 + mu^2``, ``r = mu/sqrt(s)``, ``V = E[phi^2]``, ``psi(r) = E[phi(Z1) g(Z2)]``.
"""

import math

import pytest
from scipy.optimize import minimize_scalar

from featcheck.theory.dynamics.spiked.escape import equator_escape

PHI0 = 1 / math.sqrt(2 * math.pi)


def test_relu_he4_amplitude_has_a_closed_form():
    # p = 1, V = 1/2, link -b He_4: psi = b phi(0) r^4, F = -mu/2 + b phi(0) r^3 (4 - 3 r^2)
    # and mu = r / sqrt(1 - r^2), so b* = 1 / (2 phi(0) max h), h(x) = sqrt(1 - x)(4x - 3x^2)
    # (x = r^2), whose maximum solves 15 x^2 - 24 x + 8 = 0
    x = (12 - 2 * math.sqrt(6)) / 15
    closed = 1 / (2 * PHI0 * math.sqrt(1 - x) * (4 * x - 3 * x * x))
    esc = equator_escape("relu", "-h(4)")
    assert esc.critical_he_amplitude == pytest.approx(closed, rel=1e-12)
    assert esc.critical_he_amplitude == pytest.approx(1.41418, abs=1e-5)
    assert not esc.escapes and esc.zeros() is None and esc.threshold(1e4) is None


def test_zabsz_he3_amplitude_from_the_homogeneous_formula():
    # p = 2, V = E[z^4] = 3, E[z|z| He_3(z)] = E[|z|^5 - 3|z|^3] = 4/sqrt(2 pi)
    c3 = 4 / math.sqrt(2 * math.pi)

    def ratio(r):
        s = 1 / (1 - r * r)
        mu = r * math.sqrt(s)
        return 6 * s * mu / (2 * mu * r**3 + s**-0.5 * 3 * r * r) / c3

    best = minimize_scalar(ratio, bounds=(1e-6, 1 - 1e-9), method="bounded",
                           options={"xatol": 1e-12})  # fmt: skip
    esc = equator_escape("z*abs(z)", "he(3)")
    assert esc.critical_he_amplitude == pytest.approx(best.fun, rel=1e-8)
    assert esc.critical_he_amplitude == pytest.approx(3.6281, abs=1e-4)
    assert not esc.escapes


def test_scaled_link_escapes_with_threshold_and_endpoint():
    esc = equator_escape("relu", "-3*he(4)")
    assert esc.escapes
    mu1, mu2 = esc.zeros()
    assert 0 < mu1 < esc.critical_mu < mu2
    assert abs(esc.value(mu1)) < 1e-12 and abs(esc.value(mu2)) < 1e-12
    assert esc.value(esc.critical_mu) > 0 > esc.value(mu1 / 2)
    assert esc.threshold(1e4) == pytest.approx(mu1**2 * 1e4)
    assert esc.endpoint() == pytest.approx(mu2 / math.sqrt(1 + mu2**2))
    # the profile is affine in the amplitude: -3 He_4 is 3 sqrt(24) times -h(4)
    weak = equator_escape("relu", "-h(4)")
    assert weak.value(1.3, 3 * math.sqrt(24)) == pytest.approx(esc.value(1.3), rel=1e-12)


def test_profile_matches_the_aligned_reduction():
    for act, link in (("relu", "-h(4)"), ("z*abs(z)", "he(3)")):
        assert equator_escape(act, link).residual < 1e-30
