"""Exponent and ratio fits, censoring, the content-hashed cache and the Dask path of sweeps."""

import json

import numpy as np
import pytest

from featcheck.numerics.estimate import two_sample
from featcheck.numerics.exponents.cell_cache import Cache
from featcheck.numerics.exponents.needed_samples import (
    CensoredError,
    fit_exponent,
    fit_ratio_exponent,
    lower_median,
    n_star,
)
from featcheck.numerics.exponents.sample_complexity import SweepSpec, curves, run_sweep
from featcheck.theory.errors import DomainError


def test_lower_median_is_the_smallest_n_with_success_half():
    assert lower_median(np.array([5.0, 1.0, 3.0, 9.0])) == 3.0
    assert n_star([np.array([-1, -1, -1, 4]), np.array([7, 8, -1, 9])]) == (8.0, 1)


def test_fit_recovers_a_known_exponent_and_its_interval_covers_it():
    rng = np.random.default_rng(1)
    ds = [100, 300, 1000, 3000]
    cells = [[np.rint(2.0 * d**1.5 * rng.lognormal(0, 0.3, 40)).astype(int)] for d in ds]
    fit = fit_exponent(ds, cells, [[0.1]] * 4, rng=rng, n_resamples=499)
    assert fit.interval[0] <= 1.5 <= fit.interval[1]
    assert fit.interval[1] - fit.interval[0] < 0.2
    assert not fit.interval[0] <= 1.8 <= fit.interval[1]  # and it can exclude a wrong one


def test_fit_refuses_censored_points():
    cells = [[np.array([10, 12, 11])], [np.array([-1, -1, 30])]]
    with pytest.raises(CensoredError, match="d = 200"):
        fit_exponent([100, 200], cells, [[0.1], [0.1]])


def test_the_exact_ks_fallback_does_not_warn(monkeypatch):
    """Where scipy cannot compute the exact KS p-value it warns and uses the asymptotic law;
    that warning must not reach a command's output (it did, in ``featcheck verify``)."""
    import warnings

    from featcheck.numerics import estimate

    original = estimate.stats.ks_2samp

    def falling_back(a, b):
        warnings.warn(
            "ks_2samp: Exact calculation unsuccessful. Switching to method=asymp.",
            RuntimeWarning,
            stacklevel=2,
        )
        return original(a, b, method="asymp")

    monkeypatch.setattr(estimate.stats, "ks_2samp", falling_back)
    a, b = np.arange(50.0), np.arange(50.0) + 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = estimate.ks_pvalue(a, b)
        assert estimate.two_sample(a, b).ks_pvalue == p
    assert 0.5 < p <= 1


def test_two_sample_detects_a_shift():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=300), rng.normal(0.5, 1, size=300)
    assert two_sample(a, b).ks_pvalue < 1e-4
    assert two_sample(a, rng.normal(size=300)).ks_pvalue > 1e-4


def _numbers(result):
    return [{k: v for k, v in m.items() if k != "cached_cells"} for m in result.measurements]


SMALL = SweepSpec(ds=(50, 100), s_values=(1,), replicas=6, max_steps=10**5, seed=3)


def test_sweep_resumes_from_its_cache(tmp_path):
    first = run_sweep(SMALL, tmp_path)
    assert first.computed_cells > 0 and first.cached_cells == 0
    assert len(Cache(tmp_path)) == first.computed_cells
    entry = next(tmp_path.glob("*/*.json"))
    assert json.loads(entry.read_text())["simulator"]  # plain, readable inputs
    # an interrupted sweep: drop one finished cell, rerun, only that one is recomputed
    next(tmp_path.glob("*/*.npz")).unlink()
    second = run_sweep(SMALL, tmp_path)
    assert second.computed_cells == 1
    assert _numbers(second) == _numbers(first)
    fitted = curves(second, "online", n_resamples=99)[0]
    assert {"measured_exponent", "interval", "predicted_exponent", "points"} <= set(fitted)


def test_sweep_on_a_local_dask_cluster_matches_the_local_run(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    local = run_sweep(SMALL, None)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        remote = run_sweep(SMALL, tmp_path, scheduler=cluster.scheduler_address)
    assert _numbers(remote) == _numbers(local)


def test_process_pool_matches_serial():
    assert _numbers(run_sweep(SMALL, None, workers=2)) == _numbers(run_sweep(SMALL, None))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ds": ()}, "empty"),
        ({"ds": (100, 100)}, "two distinct"),
        ({"ds": (100, 1000), "max_steps": 500}, "below d = 1000"),
        ({"ds": (100, 1000), "r2_values": (0.5,)}, "spiked"),
        ({"ds": (100, 1000), "eta_window": (3, 1)}, "empty step-size window"),
    ],
)
def test_bad_sweeps(kwargs, message):
    with pytest.raises(DomainError, match=message):
        SweepSpec(**kwargs)


def test_point_intervals_cover_the_true_n_star_and_leave_the_slope_interval_alone():
    rng = np.random.default_rng(4)
    ds = [100, 300, 1000]
    cells = [[np.rint(d * rng.exponential(1.0, 64)).astype(int)] for d in ds]
    fit = fit_exponent(ds, cells, [[0.1]] * 3, rng=np.random.default_rng(5), n_resamples=499)
    for d, p in zip(ds, fit.points, strict=True):
        low, high = p.n_star_interval
        assert low <= p.n_star <= high
        assert low <= d * np.log(2) <= high  # the median of d * Exp(1)
    # the per-point intervals use a spawned stream: the slope interval is as without them
    again = fit_exponent(ds, cells, [[0.1]] * 3, rng=np.random.default_rng(5), n_resamples=499)
    assert again.interval == fit.interval
    assert fit.to_json()["points"][0]["n_star_interval"] == list(fit.points[0].n_star_interval)


def test_ratio_fit_recovers_a_known_ratio_exponent():
    rng = np.random.default_rng(2)
    ds = [100, 400, 1600, 6400]
    top = [[np.rint(10 * d * rng.lognormal(0, 0.2, 40)).astype(int)] for d in ds]
    bottom = [[np.rint(10 * d**0.5 * rng.lognormal(0, 0.2, 40)).astype(int)] for d in ds]
    fit = fit_ratio_exponent(ds, top, bottom, rng=rng, n_resamples=499)
    assert fit.interval[0] <= 0.5 <= fit.interval[1] and fit.interval[1] - fit.interval[0] < 0.2
    assert not fit.interval[0] <= 0.0 <= fit.interval[1]
    for ratio, (low, high) in zip(fit.ratios, fit.ratio_intervals, strict=True):
        assert low <= ratio <= high
    with pytest.raises(CensoredError):
        fit_ratio_exponent(ds[:2], [[np.array([-1, -1, 5])]] * 2, bottom[:2])


def test_ratio_fit_divides_out_a_log_factor():
    # n_top/n_bottom = d^-1 / log d exactly: the slope with the log divided out is -1
    ds = [100, 400, 1600]
    bottom = [[np.full(8, 100 * d)] for d in ds]
    top = [[np.full(8, 100 / np.log(d))] for d in ds]
    rng = np.random.default_rng(0)
    fit = fit_ratio_exponent(ds, top, bottom, rng=rng, n_resamples=99, log_factor=-1.0)
    assert fit.slope == pytest.approx(-1.0, abs=1e-9)
    assert fit.interval[0] == pytest.approx(-1.0, abs=1e-9)
    raw = fit_ratio_exponent(ds, top, bottom, rng=rng, n_resamples=99)
    assert raw.slope < -1.05  # the log steepens the raw slope at these sizes
    assert fit.ratios == raw.ratios  # the ratios are reported as measured
