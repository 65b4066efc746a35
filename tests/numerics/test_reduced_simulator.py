"""The exact reduced online-SGD simulator: law, determinism, agreement with a full simulation."""

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from featcheck.numerics.committee.kernels import chisquare
from featcheck.numerics.estimate import two_sample
from featcheck.numerics.exponents.overlap_chain import simulate, simulate_full
from featcheck.numerics.exponents.spherical_sgd import Link, OnlineSGD, whitened_overlap
from featcheck.theory.errors import DomainError, InputError


def test_link_evaluation_matches_hermite_polynomials():
    z = np.linspace(-3, 3, 7)
    value, slope = Link.parse("he(3)")(z)
    np.testing.assert_allclose(value, z**3 - 3 * z, atol=1e-12)
    np.testing.assert_allclose(slope, 3 * z**2 - 3, atol=1e-12)
    value, _ = Link.hermite(4)(z)
    np.testing.assert_allclose(value, (z**4 - 6 * z**2 + 3) / np.sqrt(24), atol=1e-12)
    assert Link.parse("relu").kind == 1
    with pytest.raises(InputError, match="polynomial links and relu"):
        Link.parse("tanh")


def test_same_seed_same_numbers():
    config = OnlineSGD(d=200, eta=0.004, link=Link.hermite(2), variant="plain", overlap="u")
    first = simulate(config, 16, 10**5, 3).hits
    np.testing.assert_array_equal(first, simulate(config, 16, 10**5, 3).hits)
    # replica r draws from the r-th SeedSequence child whatever the number of replicas
    np.testing.assert_array_equal(first[:5], simulate(config, 5, 10**5, 3).hits)
    assert not np.array_equal(first, simulate(config, 16, 10**5, 4).hits)


@numba.njit
def _chisquare_draws(rng, df, n):
    b = df / 2.0 - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * b)
    out = np.empty(n)
    for i in range(n):
        out[i] = chisquare(rng, b, c)
    return out


@pytest.mark.parametrize("df", [2.5, 37.0, 1e8])
def test_chi_square_draws_are_the_generators_own(df):
    """The simulators' chi-square sampler gives the draws of ``Generator.chisquare``."""
    mine = _chisquare_draws(np.random.Generator(np.random.PCG64(1)), df, 2000)
    numpys = np.random.Generator(np.random.PCG64(1)).chisquare(df, 2000)
    np.testing.assert_allclose(mine, numpys, rtol=1e-14)


@given(d=st.integers(3, 10**9), kappa=st.floats(0, 1e4), c=st.floats(-1, 1))
def test_initial_overlap_law_is_exact(d, kappa, c):
    """Step 0 snapshots: a0 ~ <w0, theta> for a uniform w0, and the whitened overlap formula."""
    config = OnlineSGD(d=d, eta=1e-3, kappa=kappa, c=c, variant="normalized")
    run = simulate(config, 64, 1, 11, snapshot_steps=[0], stop_at_hit=False)
    a, b, rho = run.snapshots[:, 0, 0], run.snapshots[:, 0, 1], run.snapshots[:, 0, 2]
    assert np.all(np.abs(a) <= 1) and np.all(np.abs(b) <= 1 + 1e-12)
    np.testing.assert_allclose(rho, whitened_overlap(a, b, kappa, c), rtol=1e-9, atol=1e-12)
    # sqrt(d) a0 is standard normal: its mean square is 1 within a 5-sigma band
    assert abs(np.mean(d * a**2) - 1) < 5 * np.sqrt(2 / 64) + 3 / d


def test_reduced_agrees_with_full_and_the_test_has_power():
    config = OnlineSGD(
        d=40,
        eta=0.01,
        link=Link.hermite(2),
        kappa=3.0,
        c=0.5,
        variant="normalized",
        loss="square",
    )
    seeds = np.random.SeedSequence(5).spawn(3)
    replicas = 600  # at 300 the wrong dimension below is detected only at p near 1e-3
    a = simulate(config, replicas, 5000, seeds[0], [30], stop_at_hit=False)
    b = simulate_full(config, replicas, 5000, seeds[1], [30], stop_at_hit=False)
    assert two_sample(a.hits, b.hits).ks_pvalue > 1e-3
    assert two_sample(a.snapshots[:, 0, 2], b.snapshots[:, 0, 2]).ks_pvalue > 1e-3
    # a wrong dimension (d = 80 instead of 40) is detected at the same level
    wrong = OnlineSGD(**{**config.__dict__, "d": 80})
    c = simulate(wrong, replicas, 5000, seeds[2], [30], stop_at_hit=False)
    assert two_sample(c.hits, b.hits).ks_pvalue < 1e-3


def test_censored_runs_are_reported_as_censored():
    config = OnlineSGD(d=10**6, eta=1e-7, link=Link.hermite(3), variant="plain", overlap="u")
    run = simulate(config, 4, 1000, 0)
    assert run.censored.all() and (run.hits == -1).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"d": 2, "eta": 0.1}, "d must be"),
        ({"d": 10, "eta": 0.0}, "eta"),
        ({"d": 10, "eta": 0.1, "c": 1.5}, "alignment"),
        ({"d": 10, "eta": 0.1, "variant": "adam"}, "variant"),
        ({"d": 10, "eta": 0.1, "threshold": 1.5}, "threshold"),
    ],
)
def test_bad_configurations(kwargs, message):
    with pytest.raises(DomainError, match=message):
        OnlineSGD(**kwargs)
    with pytest.raises(DomainError, match="budget"):
        simulate(OnlineSGD(d=10, eta=0.1), 2, 0, 0)


def test_link_accepts_a_function_a_sympy_expression_or_a_string():
    import sympy as sp

    from featcheck.theory.functions import parse_function, z

    by_text = Link.parse("he(3)")
    assert Link.parse(z**3 - 3 * z).coefficients == by_text.coefficients
    assert Link.parse(parse_function("he(3)")).coefficients == by_text.coefficients
    assert Link.parse(sp.Max(z, 0)).kind == 1 and Link.parse("max(z, 0)").kind == 1


def test_configuration_parses_its_activation_and_link():
    config = OnlineSGD(d=10, eta=0.1, activation="relu", link="he(2)")
    assert config.student.kind == 1 and config.link == Link.parse("he(2)")
    assert OnlineSGD(d=10, eta=0.1, link="h(3)").student == Link.parse("h(3)")
