"""``featcheck ode``, ``featcheck simulate`` and ``featcheck derive ode``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from featcheck.numerics.cli import main

SINGLE = """
[teacher]
activation = "erf(z/sqrt(2))"
width = 1

[student]
activation = "erf(z/sqrt(2))"
width = 1

[learner]
learning_rate = 0.5

[initial]
Q = [[0.5]]
M = [[0.1]]
"""


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "single.toml"
    path.write_text(SINGLE)
    return path


def test_ode_json_has_the_documented_keys(spec, capsys):
    assert main(["ode", str(spec), "--times", "0,1,5", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    for key in ("t", "generalization_error", "Q", "M", "fixed_points", "escape_time"):
        assert key in payload
    assert payload["t"] == [0.0, 1.0, 5.0]
    assert payload["Q"][0] == [[0.5]] and payload["M"][0] == [[0.1]]
    assert payload["generalization_error"][2] < payload["generalization_error"][0]
    teacher = [f for f in payload["fixed_points"] if f["kind"] == "teacher"]
    assert teacher and teacher[0]["stability"] == "stable"


def test_ode_text_lists_times_and_fixed_points(spec, capsys):
    assert main(["ode", str(spec), "--t-max", "20"]) == 0
    out = capsys.readouterr().out
    assert "eps_g" in out and "fixed points:" in out and "escape time" in out
    assert len([line for line in out.splitlines() if line.strip().startswith("20 ")]) == 1


def test_no_fixed_points_skips_the_search_and_says_so(spec, capsys):
    assert main(["ode", str(spec), "--times", "0,1,5", "--json"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert main(["ode", str(spec), "--times", "0,1,5", "--json", "--no-fixed-points"]) == 0
    skipped = json.loads(capsys.readouterr().out)
    assert skipped["fixed_points"] is None and skipped["escape_time"] is None
    assert "fixed points not searched" in skipped["notes"]
    assert full["fixed_points"]  # the teacher, found when searched
    assert skipped["generalization_error"] == full["generalization_error"]
    assert main(["ode", str(spec), "--times", "0,1", "--no-fixed-points"]) == 0
    out = capsys.readouterr().out
    assert "fixed points: not searched" in out and "escape time: not analysed" in out
    args = ["simulate", str(spec), "--dim", "100", "--replicas", "4", "--times", "0,1"]
    assert main([*args, "--no-fixed-points", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["fixed_points"] is None and payload["escape_time"] is None


def test_simulate_json_adds_a_band_per_time(spec, capsys):
    args = ["simulate", str(spec), "--dim", "100", "--replicas", "8", "--times", "0,1,2"]
    assert main([*args, "--json", "--seed", "3"]) == 0
    payload = json.loads(capsys.readouterr().out)
    for key in ("t", "generalization_error", "Q", "M", "fixed_points", "escape_time", "band"):
        assert key in payload
    band = payload["band"]["generalization_error"]
    assert len(band) == 3
    for (lo, hi), mean in zip(band, payload["generalization_error"], strict=True):
        assert lo <= mean <= hi
    assert payload["simulator"] == "reduced" and payload["seed"] == 3
    assert main([*args, "--json", "--seed", "3"]) == 0
    assert json.loads(capsys.readouterr().out) == payload  # same seed, same numbers
    assert main([*args, "--full", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["simulator"] == "full"


def test_derive_ode_writes_markdown_and_latex(spec, tmp_path, capsys):
    out = tmp_path / "doc.md"
    assert main(["derive", "ode", str(spec), "--output", str(out)]) == 0
    assert out.read_text().startswith("# Overlap ODEs of the committee model single")
    assert main(["derive", "ode", str(spec), "--format", "tex"]) == 0
    assert r"\documentclass{article}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("width = 1\n\n[learner]", "width = 0\n\n[learner]"), "width must be at least 1"),
        (("learning_rate = 0.5", "learning_rate = -1"), "must be positive"),
        (("Q = [[0.5]]", "Q = [[0.001]]"), "semi-definite"),
        (("[initial]", "[initial]\nR = 1"), "unknown key 'R'"),
    ],
)
def test_bad_specs_are_one_line_and_exit_2(tmp_path, capsys, change, message):
    path = tmp_path / "bad.toml"
    path.write_text(SINGLE.replace(*change))
    assert main(["ode", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_bad_times_are_one_line_and_exit_2(spec, capsys):
    with pytest.raises(SystemExit) as info:
        main(["ode", str(spec), "--times", "1,x"])
    assert info.value.code == 2
    assert main(["ode", str(spec), "--times", "5", "--t-max", "2"]) == 2
    assert "beyond t_max" in capsys.readouterr().err


def test_a_blow_up_is_a_numerical_failure_with_exit_3(tmp_path, capsys):
    path = tmp_path / "unstable.toml"
    text = SINGLE.replace('"erf(z/sqrt(2))"', '"z"').replace(
        "learning_rate = 0.5", "learning_rate = 10"
    )
    path.write_text(text)
    assert main(["simulate", str(path), "--dim", "20", "--replicas", "2", "--t-max", "50"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("featcheck: numerical failure:") and err.count("\n") == 1
    assert main(["ode", str(path), "--t-max", "1000"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("featcheck: numerical failure:") and err.count("\n") == 1


SPIKED = (
    '[data]\ncovariance = "spiked"\nkappa = [3]\n'
    + SINGLE.replace("width = 1\n\n[student]", "width = 1\nspike_overlaps = [[0.5]]\n\n[student]")
    + "S = [[0.2]]\n"
)


def test_spiked_ode_and_simulation_report_the_overlaps_with_the_spike(tmp_path, capsys):
    path = tmp_path / "spiked.toml"
    path.write_text(SPIKED)
    assert main(["ode", str(path), "--times", "0,1", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["S"][0] == [[0.2]] and payload["S"][1][0][0] != 0.2
    args = ["simulate", str(path), "--dim", "60", "--replicas", "4", "--times", "0,1"]
    assert main([*args, "--json", "--seed", "2"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["S"][0] == [[0.2]] and len(payload["band"]["S"]) == 2


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("kappa = [3]", "kappa = [-1.5]", "greater than -1"),
        ("kappa = [3]", "kappa = [3, 2]", "spike_overlaps must be a 1 x 2"),
        ("S = [[0.2]]", "S = [[0.9]]", "not positive semi-definite"),
        ('covariance = "spiked"\nkappa = [3]\n', "", "needs [data] covariance = 'spiked'"),
    ],
)
def test_bad_spiked_input_exits_2_with_one_line(tmp_path, capsys, old, new, message):
    path = tmp_path / "bad.toml"
    path.write_text(SPIKED.replace(old, new, 1))
    assert main(["ode", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_simulate_from_uniform_starts_reports_hitting_times(spec, capsys):
    """``--start uniform --hit``: every replica starts from its own random student (so the
    overlaps at t = 0 differ between replicas and are of order d^(-1/2)), and the hitting
    times' median lies in its order-statistics interval."""
    args = ["simulate", str(spec), "--dim", "400", "--replicas", "20", "--times", "0,10"]
    assert main([*args, "--start", "uniform", "--hit", "0.5", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["start"] == "uniform"
    low, high = (bound[0][0] for bound in payload["band"]["M"][0])  # M_11 at t = 0
    assert high - low > 0 and max(abs(low), abs(high)) < 0.2  # random starts near 0
    hitting = payload["hitting"]
    assert hitting["threshold"] == 0.5 and hitting["overlap"] == "u"
    assert len(hitting["times"]) == 20 and hitting["reached"] == 20
    low, high = hitting["median_interval"]
    assert low <= hitting["median"] <= high
    assert sorted(hitting["times"])[5] == low and sorted(hitting["times"])[14] == high
    assert main([*args, "--hit", "0.5"]) == 0
    assert "hitting time of max_k |cos(w_k, u_1)| >= 0.5" in capsys.readouterr().out


@pytest.mark.parametrize("bad", [["--hit", "1.5"], ["--hit", "0"], ["--start", "random"]])
def test_bad_hitting_options_are_one_line_and_exit_2(spec, capsys, bad):
    args = ["simulate", str(spec), "--dim", "50", "--replicas", "2", *bad]
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse's own check of the choices
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err


def test_hitting_summary_interval_and_censoring():
    """n = 20: the 95% interval of the median is [t_(6), t_(15)] (coverage 1 - 2 P(B <= 5) =
    0.959 for B ~ Binomial(20, 1/2)); replicas that never hit count as later than every hit
    and give a bound of None beyond the run."""
    from featcheck.numerics.committee.dynamics import hitting_summary
    from featcheck.numerics.committee.simulators import Hitting

    hits = np.arange(1, 21) * 10
    summary = hitting_summary(hits, 10, Hitting(0.5))
    assert summary["median_interval"] == [6.0, 15.0] and summary["median"] == 10.5
    hits[12:] = -1  # 8 censored
    summary = hitting_summary(hits, 10, Hitting(0.5))
    assert summary["reached"] == 12 and summary["median_interval"] == [6.0, None]
    assert summary["times"][-1] is None
    assert hitting_summary(np.full(3, -1), 10, Hitting(0.5))["median_interval"] == [None, None]


def test_ode_certify_bounds_the_evaluation_at_each_time(tmp_path, capsys):
    path = tmp_path / "tanh.toml"
    path.write_text(SINGLE.replace("erf(z/sqrt(2))", "tanh(z)"))
    assert main(["ode", str(path), "--times", "0,2", "--certify", "1e-7", "--json"]) == 0
    certificate = json.loads(capsys.readouterr().out)["certificate"]
    assert certificate["tolerance"] == 1e-7 and certificate["uncertified"] == []
    assert len(certificate["rhs"]) == 2
    assert certificate["rhs_estimate"] == certificate["rhs"]  # certified: the bound itself
    assert all(0 < b < 1e-5 for b in certificate["rhs"] + certificate["generalization_error"])
    path.write_text(SINGLE.replace("erf(z/sqrt(2))", "relu(z + 1/2)"))
    assert main(["ode", str(path), "--times", "0", "--certify", "--json"]) == 0
    certificate = json.loads(capsys.readouterr().out)["certificate"]
    assert certificate["uncertified"] == [] and 0 < certificate["rhs"][0] < 1e-9
    mixed = SINGLE.replace("erf(z/sqrt(2))", "relu(z + 1/2)", 1).replace(
        "erf(z/sqrt(2))", "tanh(z)"
    )
    path.write_text(mixed)
    assert main(["ode", str(path), "--times", "0", "--certify"]) == 0
    out = capsys.readouterr().out
    assert "rhs no bound" in out and "no certificate for" in out and "estimated: rhs" in out
    for bad in ("0", "-1", "nan"):
        with pytest.raises(SystemExit) as info:
            main(["ode", str(path), "--certify", bad])
        assert info.value.code == 2
    capsys.readouterr()
    for model in ("relu(z + 1/2)", "erf(z/sqrt(2))"):  # numeric and exact expectations
        path.write_text(SINGLE.replace("erf(z/sqrt(2))", model))
        assert main(["ode", str(path), "--times", "0", "--certify", "1e-300"]) == 2
        assert "quadrature tolerance must be in" in capsys.readouterr().err
