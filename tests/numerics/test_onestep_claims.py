"""The one-step claims' machinery (separation thresholds, the count's decision, projected
strengths, the null-target derivation, the Hermite scale), one smoke run, and the command."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from featcheck.numerics.claims import load, rules
from featcheck.numerics.claims.base import Status, run_claim
from featcheck.numerics.claims.onestep_moniri2024 import _count_check, _deciding_size, _slopes
from featcheck.numerics.cli import main
from featcheck.numerics.onestep.simulate import (
    ConfigA,
    ConfigB,
    SpikeStrengthsA,
    beta_hat_draws,
    separation_threshold,
    simulate_b,
    spike_strengths_a,
)
from featcheck.theory.errors import DomainError
from featcheck.theory.onestep import (
    gradient_overlap,
    predict_spikes,
    projected_strength,
    spike_strength,
)

#: claim -> kind of statement; model A's full text was not consulted (abstract, summary)
PROVENANCE = {
    "onestep.spike-count": "reading",
    "onestep.null-target-spike": "derived",
    "onestep.spike-directions": "derived",
    "onestep.gradient-overlap": "derived",
    "onestep.training-surrogate": "reading",
    "onestep.hermite-model": "printed",
    "onestep.hermite-curves": "printed",
    "onestep.linear-grid": "printed",
    "onestep.b-gradient": "derived",
    "onestep.mixture-structure": "reading",
}


def test_provenance_kinds_and_derivation_documents():
    claims = {i: c for i, c in load().items() if i.startswith("onestep.")}
    assert {i: c.provenance.kind for i, c in claims.items()} == PROVENANCE
    root = Path(__file__).resolve().parents[2]
    for c in claims.values():
        if c.provenance.kind == "derived":
            assert (root / c.provenance.derivation).is_file(), c.id
        assert "paper is wrong" not in c.statement


def test_one_cheap_claim_runs_end_to_end(tmp_path):
    # a smoke test of the claim machinery (figure, checks, status); `featcheck verify` runs
    # every claim once in CI
    evidence = run_claim(load()["onestep.linear-grid"], "quick", 0, tmp_path)
    assert evidence.status is Status.HOLDS, evidence.to_json()
    assert evidence.checks and all(p.is_file() for p in evidence.figures)


# -- the count: separation thresholds and the decision -----------------------------------


def _spiked_top(noise: np.ndarray, theta: float, rng) -> float:
    u = rng.standard_normal(noise.shape[0])
    v = rng.standard_normal(noise.shape[1])
    spiked = noise + theta * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
    return float(np.linalg.svd(spiked, compute_uv=False)[0])


def test_separation_threshold_places_the_outlier_where_asked():
    # a spike of the returned strength puts its outlier at the requested position
    # (Benaych-Georges and Nadakuditi); the outlier location fluctuates at relative order
    # n^(-1/2) = 0.05 around it, so 20 draws must average within 2%
    rng = np.random.default_rng(0)
    n, p = 400, 300
    tops, targets = [], []
    for _ in range(20):
        noise = rng.standard_normal((n, p)) * 0.7
        bulk = np.linalg.svd(noise, compute_uv=False)
        position = 1.15 * bulk[0]
        theta = separation_threshold(bulk, (n, p), position)
        tops.append(_spiked_top(noise, theta, rng))
        targets.append(position)
    assert abs(np.mean(np.array(tops) / np.array(targets)) - 1) < 0.02


def test_separation_threshold_tends_to_the_bbp_threshold_of_iid_noise():
    # i.i.d. noise of variance v: the edge is sqrt(v)(sqrt(n) + sqrt(p)) and the BBP
    # threshold sqrt(v) (n p)^(1/4); at 1 + 4 n^(-2/3) of the edge the strength needed
    # exceeds it by a factor 1 + O(n^(-1/3)) (the square-root edge of the density)
    rng = np.random.default_rng(1)
    ratios = []
    for n in (200, 800):
        noise = rng.standard_normal((n, n))
        bulk = np.linalg.svd(noise, compute_uv=False)
        theta = separation_threshold(bulk, (n, n), bulk[0] * (1 + 4 * n ** (-2 / 3)))
        ratios.append(theta / n**0.5)
    assert 1 < ratios[1] < ratios[0] < 1.6
    with pytest.raises(DomainError):
        separation_threshold(bulk, (n, n), 0.5 * bulk[0])


def _fake_runs(ratios, outliers, degrees=6) -> list[SpikeStrengthsA]:
    runs = []
    for ratio, count in zip(ratios, outliers, strict=True):
        effective = np.zeros((1, degrees))
        effective[0, : len(ratio)] = ratio
        runs.append(
            SpikeStrengthsA(
                tuple(range(1, degrees + 1)),
                ((1.0, 100),),
                1.0,
                0.0,
                np.zeros(degrees),
                effective,
                effective,
                effective,
                threshold=1.0,
                edge=1.0,
                outliers=count,
                top=np.zeros(3),
            )
        )
    return runs


MU_RELU = {1: 0.5, 2: 0.4, 3: 0.0, 4: -0.4, 5: 0.0, 6: 1.2}


def test_count_is_checked_only_where_the_strengths_separate():
    prediction = predict_spikes("relu", "tanh", 0.29)  # degrees (1, 2)
    assert prediction.spike_degrees == (1, 2)
    separated = [[5.0, 2.5, 0.1, 0.4], [6.0, 3.0, 0.2, 0.3]]
    check, _ = _count_check("relu", 0.29, prediction, MU_RELU, _fake_runs(separated, [2, 2]), 400)
    assert check.decidable and check.passed
    check, _ = _count_check("relu", 0.29, prediction, MU_RELU, _fake_runs(separated, [2, 1]), 400)
    assert check.decidable and not check.passed  # a missing outlier is a counterexample
    # degree 2 at 1.5x its threshold: out of reach until 400 (2/1.5)^(1/0.08)
    close = [[5.0, 1.5, 0.1, 0.1], [5.0, 1.6, 0.1, 0.1]]
    check, _ = _count_check("relu", 0.29, prediction, MU_RELU, _fake_runs(close, [2, 2]), 400)
    assert not check.decidable and check.passed
    assert check.inputs["deciding_size"] == pytest.approx(400 * (2 / 1.5) ** (1 / 0.08))
    # an absent degree 4 (exponent -0.34) at 0.8x: separates when it has fallen to 1/2;
    # a replica that separates still decides
    loud = [[5.0, 2.5, 0.1, 0.8], [5.0, 2.5, 0.1, 0.8]]
    check, _ = _count_check("relu", 0.29, prediction, MU_RELU, _fake_runs(loud, [2, 2]), 400)
    assert not check.decidable
    assert check.inputs["deciding_size"] == pytest.approx(400 * (0.5 / 0.8) ** (1 / -0.34))
    loud[1][3] = 0.1
    check, _ = _count_check("relu", 0.29, prediction, MU_RELU, _fake_runs(loud, [2, 1]), 400)
    assert check.decidable and not check.passed and check.inputs["deciding_replicas"] == 1
    # degree 3 of ReLU has mu_3 = 0: no rank-one term, its projection does not block the count
    noisy = [[5.0, 2.5, 0.9, 0.1], [5.0, 2.5, 0.9, 0.1]]
    check, _ = _count_check("relu", 0.29, prediction, MU_RELU, _fake_runs(noisy, [2, 2]), 400)
    assert check.decidable and check.passed


def test_deciding_size_needs_the_ratio_to_move_towards_its_target():
    assert _deciding_size(100, 1.0, 2.0, 0.5) == pytest.approx(400)
    assert _deciding_size(100, 1.0, 0.5, -0.5) == pytest.approx(400)
    assert _deciding_size(100, 1.0, 2.0, -0.5) is None  # a present spike that shrinks
    assert _deciding_size(100, 1.0, 2.0, 0.0) is None


# -- projected strengths on small inputs ----------------------------------------------------


def test_degree_one_strength_matches_its_taylor_term_and_scales_like_eta():
    # degree 1: the Taylor term is exact to relative order (eta a)^2 ~ n^(2 alpha - 1)
    # (0.17 at n = 300), and the other contributions to <h_1, (F1 - F0) a> are of mean 0
    rng = np.random.default_rng(2)
    config = ConfigA("relu", "tanh", 0.29, 300, 300, 300)
    runs = [spike_strengths_a(config, rng, ((1.0, 300), (2.0, 300), (1.0, 150))) for _ in range(4)]
    ratios = np.array([r.measured[:, 0] / r.predicted[:, 0] for r in runs])
    interval = rules.mean_interval(ratios[:, 0], 0.99)
    assert interval.contains(1.0) or abs(interval.estimate - 1) < 0.17
    eta_slopes = [_slopes(r, 1, "eta") for r in runs]
    assert abs(np.mean(eta_slopes) - 1) < 0.05
    # the spectrum of the first variant: a spike clearly above its threshold is counted
    assert all(r.threshold > 0 and np.isfinite(r.top).all() for r in runs)
    assert all(r.outliers >= 1 for r in runs if r.effective[0, 0] > 1.5 * r.threshold)


def test_width_variant_is_a_draw_of_the_narrower_network():
    # the width-N' variant rescales a by sqrt(N/N'): its predicted degree-k strength is
    # that of a ~ N(0, I/N'), whose ||a^(o k)||^2 has mean N' (2k-1)!! N'^(-k)
    rng = np.random.default_rng(3)
    config = ConfigA("relu", "tanh", 0.29, 200, 200, 400)
    run = spike_strengths_a(config, rng, ((1.0, 400), (1.0, 100)), spectrum=False)
    theory = [
        projected_strength(0.5, 0.5, 1, 200**0.29, run.beta_hat_norm, 200, width)
        for width in (400, 100)
    ]
    # degree 1: sqrt(n) and ||a|| concentrate (relative error ~ 1/sqrt(width) = 0.1)
    for i in range(2):
        assert run.predicted[i, 0] == pytest.approx(theory[i], rel=0.3)


def test_projected_strength_uses_the_normalised_hermite_feature():
    # the monomial's norm sqrt(n (2k-1)!!) counts lower Hermite degrees; the projection on
    # He_k/sqrt(k!) keeps sqrt(n k!) of it
    for k in (1, 2, 3):
        raw = spike_strength(0.3, 0.5, k, 4.0, 1.2, 100, 100)
        projected = projected_strength(0.3, 0.5, k, 4.0, 1.2, 100, 100)
        assert projected / raw == pytest.approx(
            math.sqrt(math.factorial(k) / math.prod(range(1, 2 * k, 2)))
        )


# -- the null target: the derived statement -------------------------------------------------


def test_null_target_keeps_the_count_and_the_norm():
    for alpha in (0.29, 0.355):
        assert (
            predict_spikes("relu", "he(2)", alpha).spike_degrees
            == predict_spikes("relu", "tanh", alpha).spike_degrees
        )
    for psi in (1, 2):
        limit = gradient_overlap("he(2)", psi)
        assert limit.norm_squared == sp.Rational(2, psi)  # E[He_2(Z)^2]/psi
        assert limit.overlap == 0


def test_beta_hat_norm_matches_its_exact_expectation():
    # E||beta_hat||^2 = ((d - 1) E[y^2] + E[y^2 Z^2])/n = (2 (d - 1) + 10)/n for y = He_2
    rng = np.random.default_rng(4)
    norms, overlaps = beta_hat_draws("he(2)", n=120, d=120, noise=0.0, replicas=400, rng=rng)
    assert rules.mean_interval(norms, 0.999).contains((2 * 119 + 10) / 120)
    # mu_1(He_2) = 0 and the reflection symmetry: the signed overlap has mean 0
    assert rules.mean_interval(overlaps, 0.999).contains(0.0)


# -- model B: the Hermite scale -----------------------------------------------------------


def test_total_scale_models_leave_the_authors_errors_unchanged():
    config = ConfigB("relu", 60, 60, 60, alpha=0.5, beta=0.74, rank=4)
    plain = simulate_b(config, np.random.default_rng(5))
    both = simulate_b(config, np.random.default_rng(5), total_scale=True)
    assert both.network == plain.network and both.models == plain.models
    assert set(both.models_total) == {3} and not plain.models_total
    assert plain.scale < 1  # the spikes add to the trace: b = sqrt(n/tr) < 1


def test_command_json_keys(capsys):
    code = main(
        [
            "onestep",
            "--activation",
            "tanh",
            "--alpha",
            "0.3",
            "--dim",
            "120",
            "--samples",
            "120",
            "--width",
            "120",
            "--json",
        ]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    for key in (
        "predicted_spikes",
        "measured_spikes",
        "singular_values",
        "bulk_edge",
        "alignments",
        "train_error",
        "test_error",
        "hermite_model",
        "gradient_overlap",
    ):
        assert key in payload
    code = main(
        [
            "onestep",
            "--activation",
            "relu",
            "--beta",
            "0.6",
            "--weight",
            "0.5",
            "--dim",
            "60",
            "--samples",
            "60",
            "--width",
            "60",
            "--json",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["hermite_model"]["degree"] == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["--alpha", "0.25"],
        ["--alpha", "0.6"],
        ["--beta", "0.5", "--weight", "0.5"],
        ["--beta", "0.6"],
        ["--alpha", "0.3", "--dim", "10"],
        ["--alpha", "0.3", "--data", "mixture"],
    ],
)
def test_command_bad_input_exits_2(argv, capsys):
    assert main(["onestep", "--activation", "tanh", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err
